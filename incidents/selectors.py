"""The queries pages and the API read. A page's query count does not grow with its data."""

from collections import defaultdict
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from runbook import scenarios
from runbook.scenarios import Role

from .models import (
    Contact,
    DutyHours,
    Incident,
    State,
    Task,
    TimelineEvent,
    Timer,
)

# SA's duty hours are kept in Swedish local time whatever the server's zone is.
DUTY_TIME_ZONE = ZoneInfo("Europe/Stockholm")


# The live list shows at most this many running drills (all of them on the Övningar page).
LIVE_DRILLS_SHOWN = 20


def live_versions():
    """The live list's real incidents as ``(id, list_version)``, in its order (``live_incidents``);
    no drill: drills are shown apart (``live_drill_versions``)."""
    return Incident.objects.not_ended().real().order_by("-reported_at").values_list("id", "list_version")


def live_drill_versions():
    """The drills not ended as ``(id, list_version)``, newest first, at most ``LIVE_DRILLS_SHOWN``."""
    drills = Incident.objects.not_ended().drills().order_by("-reported_at", "-id")
    return list(drills.values_list("id", "list_version")[:LIVE_DRILLS_SHOWN])


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


def filtered_incidents(
    *, state=None, routine=None, scenario=None, phase=None, opened_after=None, opened_before=None, drills=False
):
    """Incidents for lists outside the pages (the API), newest report first: the real ones,
    or with ``drills`` the drills (övningar) alone.

    ``phase`` is ``"live"`` (what the live list shows: not closed or cancelled) or ``"ended"``
    (closed or cancelled, as in the history). "Opened" is when the incident was reported.
    """
    incidents = Incident.objects.select_related("reported_by")
    incidents = incidents.drills() if drills else incidents.real()
    if state:
        incidents = incidents.filter(state=state)
    if routine:
        incidents = incidents.filter(pinned_version__routine__key=routine)
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
    return Incident.objects.select_related("reported_by", "drill__leader").get(pk=incident_id)


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


def reserve_orders_of(incident):
    """Urgent orders taken under the reserve routine, oldest first."""
    return list(incident.reserve_orders.all())


def whose_move(incident):
    """Who the incident is waiting for, in words for the live list."""
    if incident.state == State.REPORTED and incident.scenario_def.uses(scenarios.ESCALATE):
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
