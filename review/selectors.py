"""The review side's reads: Historik, Nyckeltal and the incident report.

Historik and the figures read the metrics rows (one per ended incident), never the timeline;
a page's query count does not grow with the history.
"""

from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Aggregate, F, FloatField, Prefetch, Q
from django.utils import timezone

from incidents.models import Incident, State, TimelineEvent
from routines import loader

from . import monthly, reports
from .models import FiguresMonth, IncidentMetrics


def scenario_series(seen=(), systems=None):
    """[(key, title)]: the scenarios of every routine in force (``systems``, else read: one
    query), by system (named before the title when there is more than one), then any other
    key in ``seen`` (a scenario no version in force has any more) as it is. Titles in the
    reader's language."""
    systems = loader.routines_in_force() if systems is None else systems
    several = len(systems) > 1
    series: dict[str, str] = {}
    for version in systems:
        for scenario in version.scenarios.values():
            series.setdefault(scenario.key, f"{version.system}: {scenario.title}" if several else str(scenario.title))
    for key in seen:
        series.setdefault(key, key)
    return list(series.items())


def incident_for_report(incident_id):
    return (
        Incident.objects.select_related("reported_by", "drill")
        .prefetch_related(Prefetch("events", queryset=TimelineEvent.objects.order_by("at", "id")))
        .get(pk=incident_id)
    )


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


def history(*, scenario="", start=None, end=None, state="", reserve="", q="", sort=DEFAULT_SORT, drills=False):
    """Ended incidents for Historik and its CSV, filtered on their metrics row: the real ones,
    or with ``drills`` the drills (övningar) alone.

    ``start``/``end`` bound the report time (end exclusive); ``reserve`` is "ja"/"nej";
    ``q`` searches summary, notes and review (Swedish full text on PostgreSQL).
    """
    rows = IncidentMetrics.objects.select_related("incident", "incident__reported_by").defer("search_vector")
    rows = rows.filter(is_drill=bool(drills))
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

    # Drills are never counted (the index below holds no drill).
    closed = IncidentMetrics.objects.filter(reported_at__gte=start, reported_at__lt=end, is_drill=False).exclude(
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
        # None: each incident's own (its pinned version's ack_timeout), else the setting's.
        "ack_target": None if ack_timeout == monthly.EACH_VERSION else timedelta(seconds=ack_timeout),
        "acknowledged_share": (
            totals["acknowledged_in_time"] / totals["escalations"] if totals["escalations"] else None
        ),
    }
