"""The timer engine: the sweep fires every due deadline (``Timer`` rows) once, under row
locks, each in its own transaction with whatever it causes (DESIGN section 4).

What each kind of deadline causes is below (``_FIRINGS``) and summed up in ``flows.py``;
the people's side of a change (the transition itself) is ``services.fire``.
"""

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routines import loader
from runbook import formatting, logs, scenarios
from runbook.scenarios import Role

from . import events, flows, stamps
from .models import Incident, TimelineEvent, Timer
from .services import add_manual_task, fire
from .timeline import log_event

logger = logging.getLogger(__name__)

# How many due deadlines one sweep reads at a time.
SWEEP_BATCH = 200


def fire_due_timers(now: datetime | None = None) -> Counter[str]:
    """Fire every deadline that is due, each once, each in its own transaction.

    Run by the beat-driven sweep; several sweeps may run at once (several workers, a sweep
    slower than the interval): the row locks share the work between them. A deadline whose
    incident someone else holds locked is left for the next sweep. Returns what was done,
    counted by outcome.
    """
    counts: Counter[str] = Counter()
    passed_over: set[int] = set()
    while True:
        moment = now or timezone.now()
        batch = list(
            Timer.objects.due(moment)
            .exclude(pk__in=passed_over)
            .order_by("due_at", "id")
            .values_list("pk", "incident_id")[:SWEEP_BATCH]
        )
        if not batch:
            return counts
        for timer_id, incident_id in batch:
            with logs.bound(incident_id=incident_id):
                try:
                    outcome = fire_timer(timer_id, incident_id, now=now)
                except Exception as exc:  # noqa: BLE001 - one broken deadline must not stop the others
                    logger.exception("Timer %s could not be fired; it stays pending.", timer_id)
                    _count_failed_firing(timer_id, exc)
                    outcome = "error"
            counts[str(outcome)] += 1  # the sweep never asks only_if_due: a word
            if outcome in ("busy", "gone", "error"):
                passed_over.add(timer_id)


@transaction.atomic
def fire_timer(timer_id: int, incident_id: int, now: datetime | None = None, only_if_due: bool = False) -> str | float:
    """Fire one deadline under row locks, in one transaction with whatever it causes.

    The incident is locked before the timer, in the same order as a person's action (which
    locks the incident, then cancels its timers), so the two cannot deadlock. The sweep and
    the doorbell (``only_if_due``: the seconds still to wait when it came early) both fire
    through here, so a deadline fires once whichever comes first.
    """
    incident = Incident.objects.select_for_update(skip_locked=True).filter(pk=incident_id).first()
    if incident is None:
        return "busy"
    timer = Timer.objects.select_for_update(skip_locked=True).filter(pk=timer_id, state=Timer.State.PENDING).first()
    if timer is None:
        return "gone"
    if only_if_due and timer.due_at > (now or timezone.now()):
        return (timer.due_at - (now or timezone.now())).total_seconds()
    now = now or timezone.now()
    timer.state = Timer.State.FIRED
    timer.fired_at = timezone.now()
    timer.save(update_fields=["state", "fired_at"])
    stamps.touch(incident)  # its clock goes from the page, whatever firing does
    # What can no longer happen (the incident moved on: ``flows.timer_can_fire``, which the
    # pages' clocks read too) is not done; each firing below checks only what it adds.
    outcome = _FIRINGS[timer.kind](incident, timer, now) if flows.timer_can_fire(incident, timer) else "not_applicable"
    timer.outcome = outcome
    timer.save(update_fields=["outcome"])
    return outcome


@transaction.atomic
def _count_failed_firing(timer_id: int, exc: Exception) -> Timer | None:
    """A deadline whose firing raised stays pending and is tried again at the next sweep;
    the attempts are counted, and when they reach TIMER_ALERT_AFTER_ATTEMPTS the incident's
    timeline says so and Verksamhetsspecialist gets a task to do by hand what it would have
    done (once per deadline)."""
    timer = Timer.objects.select_for_update().filter(pk=timer_id, state=Timer.State.PENDING).first()
    if timer is None:
        return None
    timer.attempts += 1
    timer.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
    timer.save(update_fields=["attempts", "last_error"])
    if timer.attempts != settings.TIMER_ALERT_AFTER_ATTEMPTS:
        return timer
    incident = Incident.objects.get(pk=timer.incident_id)
    log_event(
        incident,
        TimelineEvent.Kind.TIMER,
        _("Tidsfristen kunde inte utlösas (%(n)d försök): %(what)s")
        % {"n": timer.attempts, "what": timer.clock_text()},
        note=timer.last_error,
        data={events.TIMER: events.FAILING, "timer_id": timer.pk, "kind": timer.kind, "attempts": timer.attempts},
    )
    add_manual_task(
        incident,
        Role.VERKSAMHETSSPECIALIST,
        _("Tidsfristen kunde inte utlösas av appen – gör det för hand: %(what)s") % {"what": timer.clock_text()},
        reason=timer.last_error,
        key=f"timer-failing-{timer.pk}",
    )
    return timer


def _late_seconds(timer: Timer) -> float:
    fired_at = cast(datetime, timer.fired_at)  # set before any firing runs
    return round((fired_at - timer.due_at).total_seconds(), 3)


def _fire_reserve_routine(incident: Incident, timer: Timer, now: datetime) -> str:
    """After 4 hours, if the prognosis is still missing, the reserve routine is activated."""
    if incident.has_valid_prognosis(now):
        # Held, not dropped: if this prognosis passes with the incident live, it fires then.
        until = cast(datetime, incident.prognosis_at)  # a valid prognosis has its time
        log_event(
            incident,
            TimelineEvent.Kind.TIMER,
            _("4 timmar har gått men prognos finns (%(time)s): reservrutinen aktiveras om prognosen passerar")
            % {"time": timezone.localtime(until).strftime("%H:%M")},
            data={events.TIMER: events.RESERVE_ROUTINE_HELD, "until": until.isoformat()},
            at=now,
        )
        flows.arm_timer(incident, Timer.Kind.RESERVE_ROUTINE, until)
        return "held_by_prognosis"
    log_event(
        incident,
        TimelineEvent.Kind.TIMER,
        _("%(hours)s utan prognos: reservrutin för akuta förskrivningar aktiveras")
        % {"hours": formatting.duration_words(loader.duration(incident.routine, "reserve_routine_after"))},
        data={
            events.TIMER: events.RESERVE_ROUTINE,
            "due_at": timer.due_at.isoformat(),
            "late_seconds": _late_seconds(timer),
        },
        at=now,
    )
    fire(None, incident.pk, events.Transition.ACTIVATE_RESERVE_ROUTINE, now=now)
    return "activated"


def _fire_ack_timeout(incident: Incident, timer: Timer, now: datetime) -> str:
    """Escalated and not acknowledged in time: as when SA is off duty."""
    acknowledged = incident.events.filter(
        kind=events.Kind.TRANSITION, **{f"data__{events.NAME}": events.Transition.ACKNOWLEDGE}
    ).exists()
    if acknowledged:
        return "not_applicable"
    return "fallback" if flows.sa_fallback(incident, events.NOT_ACKNOWLEDGED, at=now) else "already_done"


def _fire_prognosis_passed(incident: Incident, timer: Timer, now: datetime) -> str:
    """The prognosis passed with the incident still live: it counts as missing; remind SA."""
    if not incident.prognosis_passed(now):  # fired early (a test's clock): not yet
        return "not_applicable"
    prognosis_at = timer.due_at  # the prognosis' time (``flows.timer_can_fire``)
    log_event(
        incident,
        TimelineEvent.Kind.TIMER,
        _("Prognosen %(time)s har passerat och driften är inte återställd: ny prognos behövs")
        % {"time": timezone.localtime(prognosis_at).strftime("%H:%M")},
        data={events.TIMER: events.PROGNOSIS_PASSED, "prognosis_at": prognosis_at.isoformat()},
        at=now,
    )
    flows.make_timer_tasks(incident, scenarios.ON_PROGNOSIS_PASSED, at=now)
    return "reminded"


_FIRINGS: dict[str, Callable[[Incident, Timer, datetime], str]] = {
    Timer.Kind.RESERVE_ROUTINE: _fire_reserve_routine,
    Timer.Kind.ACK_TIMEOUT: _fire_ack_timeout,
    Timer.Kind.PROGNOSIS_PASSED: _fire_prognosis_passed,
}
