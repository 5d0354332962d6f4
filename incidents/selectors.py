"""The queries pages, API and reports read. A page's query count does not grow with its data."""

from collections import defaultdict

from django.db.models import Count, Prefetch, Q

from runbook.scenarios import Role

from .models import Incident, State, Task, TimelineEvent


def live_incidents():
    """Pågående störningar: not closed or cancelled (resolved ones still await review)."""
    return (
        Incident.objects.not_ended()
        .select_related("reported_by")
        .annotate(open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True)))
        .prefetch_related(
            Prefetch("tasks", queryset=Task.objects.filter(done_at__isnull=True), to_attr="open_task_list")
        )
        .order_by("-reported_at")
    )


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


def timers_of(incident):
    """The incident's timers as (name, due_at, state) rows.

    Durable timers are not part of the incident model yet; until they are, there are none
    to show, and none are invented.
    """
    return []


def notifications_of(incident):
    """The incident's outgoing notifications with their delivery state.

    The outbox (notifications app) does not hold rows yet; until it does, there are none.
    """
    return []


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
