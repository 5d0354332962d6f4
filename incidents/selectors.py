"""The queries pages, API and reports read. A page's query count does not grow with its data."""

from collections import defaultdict
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Aggregate, F, FloatField, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from runbook import scenarios
from runbook.scenarios import Role

from . import monthly, reports
from .models import (
    Contact,
    DutyHours,
    FiguresMonth,
    Incident,
    IncidentMetrics,
    State,
    Task,
    TimelineEvent,
    Timer,
)

# SA's duty hours are kept in Swedish local time whatever the server's zone is.
DUTY_TIME_ZONE = ZoneInfo("Europe/Stockholm")


def live_versions():
    """The live list's incidents as ``(id, version)``, in its order (``live_incidents``)."""
    return Incident.objects.not_ended().order_by("-reported_at").values_list("id", "version")


def live_incidents(pks=None):
    """Pågående störningar: not closed or cancelled (resolved ones still await review); with
    ``pks``, those incidents whatever their state (rows of a list read a moment earlier).

    No aggregate over the tasks here: PostgreSQL estimates "not closed or cancelled" as a
    share of all incidents (about 4%, 2,000 of 50,000, where a few are live), and grouping
    that many rows made it plan a parallel aggregate costing 10 ms. The open tasks are
    prefetched and counted instead.
    """
    incidents = Incident.objects.not_ended() if pks is None else Incident.objects.filter(pk__in=pks)
    return (
        incidents.select_related("reported_by")
        .prefetch_related(
            Prefetch("tasks", queryset=Task.objects.filter(done_at__isnull=True), to_attr="open_task_list"),
            Prefetch("timers", queryset=Timer.objects.pending().order_by("due_at"), to_attr="pending_timers"),
        )
        .order_by("-reported_at")
    )


def next_change_of(incidents, now):
    """When these incidents' pages would next read differently with nothing changed: a
    deadline or a prognosis passing, an open task falling overdue. None when never."""
    moments = []
    for incident in incidents:
        if incident.prognosis_kind == Incident.PrognosisKind.AT and incident.prognosis_at:
            moments.append(incident.prognosis_at)
        moments += [timer.due_at for timer in pending_timers(incident)]
        tasks = getattr(incident, "open_task_list", None)
        if tasks is None:
            tasks = [t for t in incident.tasks.all() if not t.is_done]
        moments += [task.due_at for task in tasks if task.due_at is not None]
    return min((m for m in moments if m > now), default=None)


def ended_incidents():
    return Incident.objects.ended().select_related("reported_by").order_by("-reported_at", "-id")


def filtered_incidents(*, state=None, scenario=None, phase=None, opened_after=None, opened_before=None):
    """Incidents for lists outside the pages (the API), newest report first.

    ``phase`` is ``"live"`` (what the live list shows: not closed or cancelled) or ``"ended"``
    (closed or cancelled, as in the history). "Opened" is when the incident was reported.
    """
    incidents = Incident.objects.select_related("reported_by")
    if state:
        incidents = incidents.filter(state=state)
    if scenario:
        incidents = incidents.filter(scenario=scenario)
    if phase == "live":
        incidents = incidents.not_ended()
    elif phase == "ended":
        incidents = incidents.ended()
    if opened_after:
        incidents = incidents.filter(reported_at__gte=opened_after)
    if opened_before:
        incidents = incidents.filter(reported_at__lt=opened_before)
    return incidents.order_by("-reported_at", "-id")


def task_belongs_to(task_id, incident_id):
    return Task.objects.filter(pk=task_id, incident_id=incident_id).exists()


def failing_timers():
    """Deadlines that keep failing to fire (pending, a person told), for /readyz and pages."""
    return Timer.objects.pending().filter(attempts__gte=settings.TIMER_ALERT_AFTER_ATTEMPTS)


def timers_of(incident):
    """The incident's pending deadlines, soonest first, as the API shows them."""
    return [
        {
            "name": timer.kind,
            "due_at": timer.due_at,
            "state": timer.state,
            "label": str(timer.clock_text()),
            "attempts": timer.attempts,
        }
        for timer in incident.timers.filter(state=Timer.State.PENDING).order_by("due_at", "id")
    ]


def notifications_of(incident):
    """The incident's outgoing notifications with their delivery state, oldest first.

    Read through the reverse relation the notifications app's outbox declares, so this app
    imports nothing of it.
    """
    return [
        {
            "id": n.pk,
            "channel": n.channel,
            "action": n.action,
            "recipient": n.recipient,
            "subject": n.subject,
            "status": n.status,
            "attempts": n.attempts,
            "last_error": n.last_error,
            "created_at": n.created_at,
            "sent_at": n.sent_at,
            "failed_at": n.failed_at,
        }
        for n in incident.notifications.order_by("created_at", "id")
    ]


def incident_head(incident_id):
    """The incident alone: what its page needs to know whether its kept rendering is current."""
    return Incident.objects.select_related("reported_by").get(pk=incident_id)


def with_page_data(incident):
    """The incident's tasks and timeline, read into it; its reserve orders via ``reserve_orders_of``."""
    prefetch_related_objects(
        [incident],
        Prefetch("tasks", queryset=Task.objects.select_related("done_by")),
        Prefetch("events", queryset=TimelineEvent.objects.order_by("at", "id")),
        # The notices (notifications app), in the list its page tags read instead of asking.
        Prefetch("notifications", to_attr="_notification_list"),
    )
    return incident


def incident_for_page(incident_id):
    """The incident with its tasks and timeline."""
    return with_page_data(incident_head(incident_id))


def incident_for_report(incident_id):
    return (
        Incident.objects.select_related("reported_by")
        .prefetch_related(Prefetch("events", queryset=TimelineEvent.objects.order_by("at", "id")))
        .get(pk=incident_id)
    )


def reserve_orders_of(incident):
    """Urgent orders taken under the reserve routine, oldest first.

    Logging an order writes a timeline event in the same transaction, so an incident whose
    timeline (prefetched by the selectors above) shows none has none, and is not asked.
    """
    if not any(event.kind == TimelineEvent.Kind.RESERVE_ORDER for event in incident.events.all()):
        return []
    return list(incident.reserve_orders.all())


def whose_move(incident):
    """Who the incident is waiting for, in words for the live list."""
    if incident.state == State.REPORTED and incident.scenario == scenarios.SESAM_UNREACHABLE.key:
        return Role.label(Role.VERKSAMHETSSPECIALIST)
    if incident.state == State.ESCALATED:
        return Role.label(Role.SYSTEMANSVARIG)
    if incident.state == State.ACKNOWLEDGED and incident.prognosis_kind == Incident.PrognosisKind.MISSING:
        return Role.label(Role.SYSTEMANSVARIG)
    if incident.state == State.AWAITING_IT:
        return _("Regionala IT-funktionen")
    if incident.state == State.RESOLVED:
        return Role.label(Role.VERKSAMHETSANSVARIG)
    tasks = getattr(incident, "open_task_list", None)
    if tasks is None:
        tasks = [t for t in incident.tasks.all() if not t.is_done]
    roles = sorted({t.role for t in tasks}, key=Role.ALL.index)
    if roles:
        return ", ".join(str(Role.label(r)) for r in roles)
    return _("Systemansvarig / regionala IT-funktionen")


def caller_summary(incident):
    """What callers reported, gathered as one summary for SA (routine section 1)."""
    reports = [e for e in incident.events.all() if e.kind == TimelineEvent.Kind.CALLER_REPORT]
    if not reports:
        return None
    functions = defaultdict(int)
    errors = []
    since = []
    for e in reports:
        functions[e.data.get("functions", "")] += e.data.get("prescribers", 1)
        if e.data.get("error_message"):
            errors.append(e.data["error_message"])
        if e.data.get("since"):
            at = parse_datetime(e.data["since"])
            if at is not None:
                since.append(at)
    return {
        "calls": len(reports),
        "prescribers": sum(e.data.get("prescribers", 1) for e in reports),
        "functions": sorted(functions.items(), key=lambda kv: -kv[1]),
        "errors": sorted(set(errors)),
        "earliest": min(since) if since else None,
    }


# --- Historik and figures (read IncidentMetrics, one row per ended incident) -----------------

HISTORY_SORTS = {
    # key in the URL -> order_by
    "nyast": ("-reported_at", "-pk"),
    "aldst": ("reported_at", "pk"),
    "atgard-langst": (F("secs_to_resolved").desc(nulls_last=True), "-pk"),
    "atgard-kortast": (F("secs_to_resolved").asc(nulls_last=True), "-pk"),
    "kvittens-langst": (F("secs_to_acknowledged").desc(nulls_last=True), "-pk"),
    "scenario": ("scenario", "-reported_at", "-pk"),
}
DEFAULT_SORT = "nyast"


def history(*, scenario="", start=None, end=None, state="", reserve="", q="", sort=DEFAULT_SORT):
    """Ended incidents for Historik and its CSV, filtered on their metrics row.

    ``start``/``end`` bound the report time (end exclusive); ``reserve`` is "ja"/"nej";
    ``q`` searches summary, notes and review (Swedish full text on PostgreSQL).
    """
    rows = IncidentMetrics.objects.select_related("incident", "incident__reported_by").defer("search_vector")
    if scenario:
        rows = rows.filter(scenario=scenario)
    if start:
        rows = rows.filter(reported_at__gte=start)
    if end:
        rows = rows.filter(reported_at__lt=end)
    if state:
        rows = rows.filter(final_state=state)
    if reserve == "ja":
        rows = rows.filter(had_reserve_routine=True)
    elif reserve == "nej":
        rows = rows.filter(had_reserve_routine=False)
    q = (q or "").strip()
    if q:
        number = q.lstrip("#")
        if number.isdigit():
            rows = rows.filter(pk=int(number))
        elif connection.vendor == "postgresql":
            rows = rows.filter(search_vector=SearchQuery(q, config="swedish", search_type="websearch"))
        else:
            rows = rows.filter(search_text__icontains=q)
    return rows.order_by(*HISTORY_SORTS.get(sort, HISTORY_SORTS[DEFAULT_SORT]))


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(ARRAY[f, ...]) WITHIN GROUP (ORDER BY x)``: one sort of
    the column for all the fractions; a list of them, or None when no row has a value."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = ArrayField(FloatField())

    def __init__(self, expression, fractions, **extra):
        super().__init__(expression, fractions=", ".join(repr(float(f)) for f in fractions), **extra)


DURATION_COLUMNS = monthly.DURATION_COLUMNS


def figures(start, end):
    """Nyckeltal for incidents reported in [start, end): at most three queries whatever the history.

    Whole months come from ``FiguresMonth``; the partial months at the edges are counted
    from ``IncidentMetrics`` (as is a month counted under another ACK_TIMEOUT); the totals
    add them up. Percentiles do not add up, so they are taken over the period's rows.
    Cancelled incidents (false alarms) are counted apart and left out of the durations.
    """
    ack_timeout = monthly.ack_timeout_secs()
    # Whole months: from the first month starting at or after ``start`` up to the month
    # ``end`` lies in. When there are none, the edges below cover the whole period.
    first = monthly.month_of(start)
    if monthly.month_start(first) < start:
        first = monthly.next_month(first)
    last = monthly.month_of(end)
    if start <= monthly.month_start(last) < end and timezone.now() < end:
        # The month ``end`` lies in is whole too while ``end`` is still to come (as in the
        # default period, up to today): nothing that has ended was reported after now.
        last = monthly.next_month(last)
    whole_start, whole_end = monthly.month_start(first), monthly.month_start(last)
    summary = list(
        FiguresMonth.objects.filter(month__gte=first, month__lt=last).values(
            "month", "scenario", "ack_timeout_secs", *monthly.COUNT_FIELDS
        )
    )
    stale = {row["month"] for row in summary if row["ack_timeout_secs"] != ack_timeout}
    edges = [(lo, hi) for lo, hi in ((start, min(whole_start, end)), (max(whole_end, start), end)) if lo < hi]
    counted = {(row["month"], row["scenario"]): row for row in summary if row["month"] not in stale}
    if edges or stale:
        raw = Q(pk__in=[])
        for lo, hi in edges:
            raw |= Q(reported_at__gte=lo, reported_at__lt=hi)
        for month in sorted(stale):
            raw |= monthly.month_range(month)
        counted.update(monthly.count_by_month(raw, ack_timeout))

    monthly_rows = [
        {
            "month": monthly.month_start(month),
            "scenario": scenario,
            "incidents": row["incidents"],
            "cancelled": row["cancelled"],
            "reserve": row["reserve_all"],
        }
        for (month, scenario), row in sorted(counted.items())
    ]
    totals = {field: sum(row[field] for row in counted.values()) for field in monthly.TOTAL_FIELDS}

    closed = IncidentMetrics.objects.filter(reported_at__gte=start, reported_at__lt=end).exclude(
        final_state=State.CANCELLED
    )
    percentiles = {}
    if connection.vendor == "postgresql":
        # Read from the index metrics_period_durations alone.
        values = closed.aggregate(
            **{f"p_{key}": PercentileCont(column, (0.5, 0.9)) for key, column in DURATION_COLUMNS.items()}
        )
        for key in DURATION_COLUMNS:
            percentiles[f"p50_{key}"], percentiles[f"p90_{key}"] = values[f"p_{key}"] or (None, None)
    else:
        # SQLite has no percentile_cont: one query for the columns, percentiles in Python.
        values = list(closed.values_list(*DURATION_COLUMNS.values()))
        for i, key in enumerate(DURATION_COLUMNS):
            column = [row[i] for row in values]
            percentiles[f"p50_{key}"] = reports.percentile(column, 0.5)
            percentiles[f"p90_{key}"] = reports.percentile(column, 0.9)
    durations = [
        {
            "key": key,
            "label": label,
            "n": totals[f"n_{key}"],
            "median": percentiles[f"p50_{key}"],
            "p90": percentiles[f"p90_{key}"],
        }
        for key, label in reports.DURATIONS
    ]
    return {
        "monthly": monthly_rows,
        "totals": totals,
        "durations": durations,
        "ack_target": settings.ACK_TIMEOUT,
        "acknowledged_share": (
            totals["acknowledged_in_time"] / totals["escalations"] if totals["escalations"] else None
        ),
    }


def pending_timers(incident):
    """The incident's deadlines still to come (or overdue, waiting for the sweep), soonest first."""
    prefetched = getattr(incident, "pending_timers", None)
    if prefetched is not None:
        return prefetched
    if not incident.is_live:
        return []  # every deadline is cancelled when an incident stops being live (flows)
    return list(incident.timers.pending().order_by("due_at"))


def contacts_for_page():
    """The people and functions outside the app the routine contacts, with phone numbers."""
    order = list(Contact.Kind.values)
    return sorted(Contact.objects.filter(active=True), key=lambda c: (order.index(c.kind), c.name))


@lru_cache(maxsize=8)
def _swedish_holidays(year):
    # Sundays are left to the weekly schedule; the package counts them as holidays by default.
    # Midsommarafton, julafton and nyårsafton are not public holidays by law but are days off
    # in Region Skåne as everywhere in Sweden: the package's "de facto" holidays.
    return holidays.Sweden(years=year, include_sundays=False, categories=(holidays.PUBLIC, holidays.DE_FACTO))


def is_swedish_holiday(day):
    return day in _swedish_holidays(day.year)


def sa_on_duty(at=None):
    """Is systemansvarig on duty at ``at``? Weekly hours in Swedish time, no public holidays."""
    local = timezone.localtime(at or timezone.now(), DUTY_TIME_ZONE)
    if is_swedish_holiday(local.date()):
        return False
    moment = local.time().replace(tzinfo=None)
    return DutyHours.objects.filter(weekday=local.weekday(), start__lte=moment, end__gt=moment).exists()
