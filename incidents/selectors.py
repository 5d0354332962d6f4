"""The queries pages, API and reports read. A page's query count does not grow with its data."""

from collections import defaultdict
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from runbook.scenarios import Role

from .models import Contact, DutyHours, Incident, State, Task, TimelineEvent, Timer

# SA's duty hours are kept in Swedish local time whatever the server's zone is.
DUTY_TIME_ZONE = ZoneInfo("Europe/Stockholm")


def live_incidents():
    """Pågående störningar: not closed or cancelled (resolved ones still await review)."""
    return (
        Incident.objects.not_ended()
        .select_related("reported_by")
        .annotate(open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True)))
        .prefetch_related(
            Prefetch("tasks", queryset=Task.objects.filter(done_at__isnull=True), to_attr="open_task_list"),
            Prefetch("timers", queryset=Timer.objects.pending().order_by("due_at"), to_attr="pending_timers"),
        )
        .order_by("-reported_at")
    )


def ended_incidents():
    return Incident.objects.ended().select_related("reported_by").order_by("-reported_at", "-id")


def incident_for_page(incident_id):
    return (
        Incident.objects.select_related("reported_by")
        .prefetch_related(
            Prefetch("tasks", queryset=Task.objects.select_related("done_by")),
            "reserve_orders",
            Prefetch("events", queryset=TimelineEvent.objects.order_by("at", "id")),
        )
        .get(pk=incident_id)
    )


def whose_move(incident):
    """Who the incident is waiting for, in words for the live list."""
    if incident.state == State.REPORTED and incident.scenario == "sesam_unreachable":
        return Role.label(Role.VERKSAMHETSSPECIALIST)
    if incident.state == State.ESCALATED:
        return Role.label(Role.SYSTEMANSVARIG)
    if incident.state == State.ACKNOWLEDGED and incident.prognosis_kind == Incident.PrognosisKind.MISSING:
        return Role.label(Role.SYSTEMANSVARIG)
    if incident.state == State.AWAITING_IT:
        return "Regionala IT-funktionen"
    if incident.state == State.RESOLVED:
        return Role.label(Role.VERKSAMHETSANSVARIG)
    tasks = getattr(incident, "open_task_list", None)
    if tasks is None:
        tasks = [t for t in incident.tasks.all() if not t.is_done]
    roles = sorted({t.role for t in tasks}, key=Role.ALL.index)
    if roles:
        return ", ".join(str(Role.label(r)) for r in roles)
    return "Systemansvarig / regionala IT-funktionen"


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
            since.append(e.data["since"])
    return {
        "calls": len(reports),
        "prescribers": sum(e.data.get("prescribers", 1) for e in reports),
        "functions": sorted(functions.items(), key=lambda kv: -kv[1]),
        "errors": sorted(set(errors)),
        "earliest": min(since) if since else None,
    }


def pending_timers(incident):
    """The incident's deadlines still to come (or overdue, waiting for the sweep), soonest first."""
    prefetched = getattr(incident, "pending_timers", None)
    if prefetched is not None:
        return prefetched
    return list(incident.timers.pending().order_by("due_at"))


def contacts_for_page():
    """The people and functions outside the app the routine contacts, with phone numbers."""
    order = list(Contact.Kind.values)
    return sorted(Contact.objects.filter(active=True), key=lambda c: (order.index(c.kind), c.name))


@lru_cache(maxsize=8)
def _swedish_holidays(year):
    # Sundays are left to the weekly schedule; the package counts them as holidays by default.
    return holidays.Sweden(years=year, include_sundays=False)


def is_swedish_holiday(day):
    return day in _swedish_holidays(day.year)


def sa_on_duty(at=None):
    """Is systemansvarig on duty at ``at``? Weekly hours in Swedish time, no public holidays."""
    local = timezone.localtime(at or timezone.now(), DUTY_TIME_ZONE)
    if is_swedish_holiday(local.date()):
        return False
    moment = local.time().replace(tzinfo=None)
    return DutyHours.objects.filter(weekday=local.weekday(), start__lte=moment, end__gt=moment).exists()
