"""Nyckeltal per månad: how the figures page's counts are made and which month a time is in.

The counts add up over months, so ``FiguresMonth`` keeps them per Stockholm month and
scenario, and ``selectors.figures`` adds whole months from there to the partial months at a
period's edges, counted here the same way from ``IncidentMetrics``. Functions take querysets,
so that migration 0009 can pass its historical models.
"""

import functools
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from runbook.durations import FromRoutine

# Months are Swedish calendar months whatever the server's zone is.
MONTH_TIME_ZONE = ZoneInfo("Europe/Stockholm")

DURATION_COLUMNS = {
    "escalated": "secs_to_escalated",
    "acknowledged": "secs_to_acknowledged",
    "prognosis": "secs_to_prognosis",
    "reserve": "secs_to_reserve",
    "resolved": "secs_to_resolved",
    "closed": "secs_to_closed",
}

# IncidentMetrics.final_state of a false alarm (State.CANCELLED; models are not imported here).
CANCELLED = "cancelled"

# The counts of one month and scenario, as FiguresMonth's columns. The monthly table reads
# the first three; the totals add up the rest (all of them over incidents not cancelled).
MONTHLY_FIELDS = ("incidents", "cancelled", "reserve_all")
TOTAL_FIELDS = (
    "incidents",
    "escalations",
    "acknowledged_in_time",
    "reserve",
    "reserve_by_hand",
    "reserve_early",
    "followed",
    *(f"n_{key}" for key in DURATION_COLUMNS),
)
COUNT_FIELDS = tuple(dict.fromkeys(MONTHLY_FIELDS + TOTAL_FIELDS))


# "Acknowledged in time" by each incident's own target: the ack_timeout of the routine version
# it is pinned to, kept in its metrics row (``IncidentMetrics.ack_timeout_secs``). Kept in
# FiguresMonth.ack_timeout_secs as the column's largest value, which no setting is (0 there
# means counted under none: review migration 0002).
EACH_VERSION = 2**31 - 1


def ack_timeout_secs():
    """What "acknowledged in time" is counted against: ``EACH_VERSION``, unless the setting
    ACK_TIMEOUT_SECONDS replaces every version's (then that, in whole seconds)."""
    value = settings.ACK_TIMEOUT
    return EACH_VERSION if isinstance(value, FromRoutine) else int(value.total_seconds())


def counts(ack_timeout):
    """The aggregate expressions of COUNT_FIELDS over IncidentMetrics rows."""
    cancelled = Q(final_state=CANCELLED)
    kept = ~cancelled
    in_time = (
        Q(secs_escalated_to_acknowledged__lte=F("ack_timeout_secs"))
        if ack_timeout == EACH_VERSION
        else Q(secs_escalated_to_acknowledged__lte=ack_timeout)
    )
    return {
        "incidents": Count("pk", filter=kept),
        "cancelled": Count("pk", filter=cancelled),
        "reserve_all": Count("pk", filter=Q(had_reserve_routine=True)),
        "escalations": Count("pk", filter=kept & Q(escalated_at__isnull=False)),
        "acknowledged_in_time": Count("pk", filter=kept & in_time),
        "reserve": Count("pk", filter=kept & Q(had_reserve_routine=True)),
        "reserve_by_hand": Count("pk", filter=kept & Q(had_reserve_routine=True, reserve_by_hand=True)),
        "reserve_early": Count("pk", filter=kept & Q(reserve_early=True)),
        "followed": Count("pk", filter=kept & Q(steps_late=0, steps_skipped=0)),
        **{f"n_{key}": Count(column, filter=kept) for key, column in DURATION_COLUMNS.items()},
    }


def count_by_month(where, ack_timeout, model=None):
    """{(month, scenario): {field: count}} for the IncidentMetrics rows matching ``where`` (a Q).

    One grouped query; a (month, scenario) without rows is absent. Migrations pass their
    historical ``model``. Otherwise the grouped query is built once per target and only
    filtered here: building its sixteen filtered counts takes longer than running them over
    a month's rows.
    """
    grouped = _grouped(model, ack_timeout) if model is not None else _live_grouped(ack_timeout)
    return {(month_of(row.pop("month_start")), row.pop("scenario")): row for row in grouped.filter(where)}


def _grouped(model, ack_timeout):
    return (
        model.objects.annotate(month_start=TruncMonth("reported_at", tzinfo=MONTH_TIME_ZONE))
        .values("month_start", "scenario")
        .annotate(**counts(ack_timeout))
        .order_by()
    )


@functools.lru_cache(maxsize=4)
def _live_grouped(ack_timeout):
    # Never evaluated itself: each use filters a copy, so it holds no rows and may be shared.
    from .models import IncidentMetrics

    # Drills (övningar) are never counted in the figures.
    return _grouped(IncidentMetrics, ack_timeout).filter(is_drill=False)


def month_of(moment):
    """The first day of the Stockholm month that ``moment`` (aware) lies in."""
    return timezone.localtime(moment, MONTH_TIME_ZONE).date().replace(day=1)


def next_month(month):
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_start(month):
    """Midnight in Stockholm at the start of ``month`` (a date)."""
    return datetime.combine(month, time.min, tzinfo=MONTH_TIME_ZONE)


def month_range(month):
    """The month as a filter on ``reported_at``: [its first midnight, the next month's)."""
    return Q(reported_at__gte=month_start(month), reported_at__lt=month_start(next_month(month)))
