"""What the review side writes: an ended incident's metrics row and its month's figures.

``record_metrics`` listens to ``incidents.signals.incident_ended``, sent inside the
transaction that ended the incident (or changed its ended record), so the row and the
month's counts commit or roll back with it.
"""

from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, TimelineEvent

from . import metrics, monthly
from .models import FiguresMonth, IncidentMetrics


def record_metrics(incident: Incident, **_signal: Any) -> IncidentMetrics:
    """Write (or rewrite) the ended incident's metrics row from its timeline, and recount
    its month's figures (and the old row's, should the rewrite move it)."""
    row = metrics.row_for(incident, list(incident.events.all()))
    old = IncidentMetrics.objects.filter(pk=incident.pk).values_list("reported_at", "scenario")
    keys = {(monthly.month_of(at), scenario) for at, scenario in old}
    IncidentMetrics.objects.filter(pk=incident.pk).delete()
    row.save(force_insert=True)
    if not row.is_drill:  # a drill is never counted in the month's figures
        refresh_figures_months(keys | {figures_key(row)})
    return row


def rebuild_metrics(batch_size: int = 2000) -> int:
    """Rewrite every ended incident's metrics row from the timeline, then recount every
    month's figures; returns how many incidents."""
    done = 0
    ids = list(Incident.objects.ended().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        by_incident: dict[int, list[TimelineEvent]] = {}
        for event in TimelineEvent.objects.filter(incident_id__in=chunk).order_by("at", "id"):
            by_incident.setdefault(event.incident_id, []).append(event)
        rows = [
            metrics.row_for(incident, by_incident.get(incident.pk, []))
            for incident in Incident.objects.filter(pk__in=chunk)
        ]
        with transaction.atomic():
            old = IncidentMetrics.objects.filter(pk__in=chunk).values_list("reported_at", "scenario")
            keys = {(monthly.month_of(at), scenario) for at, scenario in old}
            IncidentMetrics.objects.filter(pk__in=chunk).delete()
            IncidentMetrics.objects.bulk_create(rows)
            refresh_figures_months(keys | {figures_key(row) for row in rows})
        done += len(rows)
    rebuild_figures_months()
    return done


def figures_key(row: IncidentMetrics) -> tuple:
    """The (month, scenario) of FiguresMonth that a metrics row is counted in."""
    return monthly.month_of(row.reported_at), row.scenario


@transaction.atomic
def refresh_figures_months(keys: set) -> None:
    """Recount the FiguresMonth rows of these (month, scenario) keys from IncidentMetrics.

    Called in the transaction that writes the metrics rows. Each summary row is made if
    missing and locked *before* its month is counted: a second transaction ending an incident
    of the same month then waits for this one and, reading what committed before its own
    count (READ COMMITTED), counts both. Rows are locked in (month, scenario) order so that
    two of these cannot deadlock. A row whose month has nothing left is deleted.
    """
    keys = set(keys)
    if not keys:
        return
    months = sorted({month for month, _s in keys})
    scenarios = sorted({scenario for _m, scenario in keys})
    ack_timeout = monthly.ack_timeout_secs()
    locked: dict = {}
    # A row deleted by another transaction (its month emptied) between our insert and our
    # lock is missing from what we locked: insert it again.
    while missing := keys - locked.keys():
        FiguresMonth.objects.bulk_create(
            [FiguresMonth(month=m, scenario=s, ack_timeout_secs=ack_timeout) for m, s in sorted(missing)],
            ignore_conflicts=True,
        )
        rows = (
            FiguresMonth.objects.select_for_update()
            .filter(month__in=months, scenario__in=scenarios)
            .order_by("month", "scenario")
        )
        locked.update({(row.month, row.scenario): row for row in rows})

    ranges = Q()
    for month in months:
        ranges |= monthly.month_range(month)
    counted = monthly.count_by_month(ranges & Q(scenario__in=scenarios), ack_timeout)
    now = timezone.now()
    changed, emptied = [], []
    for key, row in locked.items():
        if key not in counted:
            emptied.append(row.pk)
            continue
        for field, value in counted[key].items():
            setattr(row, field, value)
        row.ack_timeout_secs, row.computed_at = ack_timeout, now
        changed.append(row)
    if emptied:
        FiguresMonth.objects.filter(pk__in=emptied).delete()
    FiguresMonth.objects.bulk_update(changed, [*monthly.COUNT_FIELDS, "ack_timeout_secs", "computed_at"])


@transaction.atomic
def rebuild_figures_months() -> int:
    """Recount the whole FiguresMonth table from IncidentMetrics; returns how many rows."""
    if connection.vendor == "postgresql":
        # Waits for transactions recounting a month and holds new ones back until this
        # commits (the figures page still reads), so that none is counted from a stale view.
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(FiguresMonth._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    ack_timeout = monthly.ack_timeout_secs()
    counted = monthly.count_by_month(Q(), ack_timeout)
    FiguresMonth.objects.all().delete()
    FiguresMonth.objects.bulk_create(
        [
            FiguresMonth(month=month, scenario=scenario, ack_timeout_secs=ack_timeout, **values)
            for (month, scenario), values in sorted(counted.items())
        ],
        batch_size=1000,
    )
    return len(counted)
