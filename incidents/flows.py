"""What each change of an incident sets off, in one place.

Reading this module tells what ``escalate`` (or any other change) causes: which tasks are
made from the routine, which are done by it, which deadlines are set or cancelled. Everything
here runs inside the transaction of the service that called it (the incident row is locked).
Other apps react to the timeline events written here and by the services, through
``signals.timeline_event_logged`` (notifications: ``notifications/rules.py`` matches the
kinds and data keys named in ``events.py``), and to ``signals.incident_ended`` (the ``review``
app: metrics row and month's figures), in the same transaction.

=========================  ==============================================================
change                     what it sets off
=========================  ==============================================================
reported                   the report's steps become tasks; the reserve routine's 4-hour
                           deadline is armed (sesam_unreachable)
escalate                   steps done by escalating are done; SA on duty: the
                           acknowledge deadline (ACK_TIMEOUT) is armed, else the SA
                           fallback at once (timer event, its tasks); notices: e-mail and
                           SMS to SA, driftinfo
acknowledge                the acknowledge deadline is cancelled
activate_reserve_routine   its deadline is cancelled; the reserve routine's steps become
                           tasks; notices: Vårdgivare Skåne, e-mail to the roles, driftinfo
record_prognosis           prognosis deadlines re-armed (PROGNOSIS_PASSED at its time, the
                           reserve routine's held by it); notice: driftinfo update
reclassified               the new scenario's steps become tasks; deadlines that no longer
                           apply are cancelled; notices per the new scenario
deadline fires             (``timers.fire_timer``) RESERVE_ROUTINE: timer event, then
                           ``activate_reserve_routine`` as above, unless a valid prognosis
                           holds it; ACK_TIMEOUT: ``sa_fallback``; PROGNOSIS_PASSED: timer
                           event and the reminder tasks (``make_timer_tasks``)
resolve, cancel, close     every pending deadline is cancelled; duties and steps that can no
                           longer be done are ended (``retire_tasks``); ended (close,
                           cancel): ``signals.incident_ended``; notices: take back what is
                           out (resolve, cancel)
task made or done after    ``signals.incident_ended`` again (``on_ended_record_changed``),
the incident ended         so the review side takes its figures again
=========================  ==============================================================
"""

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from routines import loader
from runbook import scenarios
from runbook.scenarios import Role

from . import doorbell, events, selectors, signals, stamps
from .models import Contact, Incident, State, Task, TimelineEvent, Timer
from .timeline import log_event

# States from which the timer may still activate the reserve routine.
RESERVE_ARMED_STATES = (State.REPORTED, State.ESCALATED, State.ACKNOWLEDGED)


def on_state_reached(incident: Incident, state: str, *, actor: User | None = None) -> None:
    """An incident arrived in ``state``: the steps due then become tasks."""
    _make_tasks(incident, incident.scenario_def, {state}, actor=actor)
    if state == State.REPORTED:
        # The 4-hour clock runs from when the disruption began, not from the report.
        ensure_reserve_timer(incident)


def on_transition(incident: Incident, name: str, previous: str, *, actor: User | None = None) -> None:
    """After any transition: the steps it does are done, the steps it makes due appear,
    and the deadlines it starts or makes moot are set or cancelled."""
    _complete_steps_done_by(incident, name, actor=actor)
    on_state_reached(incident, incident.state, actor=actor)
    now = timezone.now()
    if name == events.Transition.ESCALATE:
        if selectors.sa_on_duty(now):
            arm_timer(incident, Timer.Kind.ACK_TIMEOUT, now + incident.clock("ack_timeout"))
        else:
            sa_fallback(incident, events.OFF_DUTY)
    elif name == events.Transition.ACKNOWLEDGE:
        cancel_timers(incident, [Timer.Kind.ACK_TIMEOUT], "acknowledged")
    elif name == events.Transition.ACTIVATE_RESERVE_ROUTINE:
        # By hand before the clock ran out, or by the timer itself: either way it is done.
        cancel_timers(incident, [Timer.Kind.RESERVE_ROUTINE], "activated" if actor is None else "manual")
    if not incident.is_live:
        cancel_timers(incident, None, incident.state)
    retire_tasks(incident, name)
    on_ended_record_changed(incident)


def on_ended_record_changed(incident: Incident) -> None:
    """The record of an ended incident was written: it ended (closed or cancelled), or a task
    was made or done after it ended. The review side, listening to ``signals.incident_ended``,
    takes its figures again in this transaction. Nothing for an incident still live."""
    if incident.is_ended:
        signals.incident_ended.send(sender=Incident, incident=incident)


def retire_tasks(incident: Incident, name: str | None = None) -> None:
    """Open tasks that no person can do any longer are ended by the system, saying why:
    an ongoing duty (inform callers) when the disruption is over, and a step that only a
    transition or action does when that can no longer happen (reporting to SA once the
    reserve routine runs, giving a prognosis once service is back). The report shows the
    latter as not done."""
    for task in incident.tasks.filter(done_at__isnull=True):
        step = _step_of(task)
        if step is None:
            continue
        if step.ongoing and not incident.is_live:
            mark_task_done(
                task,
                via="ended",
                message=_("Pågående uppgift avslutad (%(state)s): %(text)s")
                % {"state": incident.get_state_display(), "text": task.short_text()},
            )
        elif step.done_by and not can_still_happen(incident, step.done_by):
            mark_task_done(
                task,
                via="moot",
                moot=True,
                message=_("Uppgiften behövs inte längre (%(state)s): %(text)s")
                % {"state": incident.get_state_display(), "text": task.short_text()},
            )


def can_still_happen(incident: Incident, done_by: str) -> bool:
    """Can the transition or action ``done_by`` still be done on this incident?"""
    if done_by == "record_prognosis":
        return incident.is_live
    if done_by == scenarios.ALL_ORDERS_ENTERED:
        return True
    method = getattr(Incident, done_by, None)
    meta = getattr(method, "_django_fsm", None)
    return meta is None or meta.conditions_met(incident, incident.state)


def steps_delivered(incident: Incident, channel: str, action: str, what: str) -> None:
    """A message the app sent was delivered: the steps it does are done by the system."""
    for task in incident.tasks.filter(done_at__isnull=True):
        step = _step_of(task)
        if (
            step is not None
            and step.delivered_by
            and step.delivered_by[0] == channel
            and action in step.delivered_by[1]
        ):
            mark_task_done(
                task,
                via="delivery",
                note=what,
                message=_("Uppgift klar – appen har levererat: %(text)s") % {"text": task.short_text()},
            )


def step_of(task: Task) -> scenarios.Step | None:
    """The routine's step a task was made from (a repeated task's too), or None."""
    return _step_of(task)


def on_action(incident: Incident, action: str, *, actor: User | None = None) -> None:
    """After an action that is not a transition (``record_prognosis``)."""
    _complete_steps_done_by(incident, action, actor=actor)
    if action == "record_prognosis":
        cancel_timers(incident, [Timer.Kind.PROGNOSIS_PASSED, Timer.Kind.RESERVE_ROUTINE], "new_prognosis")
        if incident.prognosis_kind == Incident.PrognosisKind.AT:
            arm_timer(incident, Timer.Kind.PROGNOSIS_PASSED, cast(datetime, incident.prognosis_at))
        ensure_reserve_timer(incident)


def on_reclassified(incident: Incident, previous_scenario: str, *, actor: User | None = None) -> None:
    """The new scenario's steps for every state reached so far are added; old tasks stay."""
    _make_tasks(incident, incident.scenario_def, reached_states(incident), actor=actor)
    if incident.scenario_def.uses(scenarios.RESERVE_ROUTINE):
        ensure_reserve_timer(incident)
    else:
        cancel_timers(incident, [Timer.Kind.RESERVE_ROUTINE, Timer.Kind.ACK_TIMEOUT], "reclassified")
    retire_tasks(incident)


# --- deadlines (DESIGN section 4) -------------------------------------------------------


def arm_timer(incident: Incident, kind: str, due_at: datetime) -> Timer:
    stamps.touch(incident)
    timer = Timer.objects.create(incident=incident, kind=kind, due_at=due_at)
    doorbell.ring_after_commit(timer)  # due soon: fired at its moment, not at the next sweep
    return timer


def cancel_timers(incident: Incident, kinds: list[str] | None, reason: str) -> int:
    pending = Timer.objects.pending().filter(incident=incident)
    if kinds is not None:
        pending = pending.filter(kind__in=kinds)
    cancelled = pending.update(state=Timer.State.CANCELLED, cancelled_at=timezone.now(), outcome=str(reason)[:40])
    if cancelled:
        stamps.touch(incident)
    return cancelled


def reserve_routine_armed(incident: Incident) -> bool:
    """May the reserve routine's deadline still start it (a scenario that uses the reserve
    routine, not yet in it)?"""
    return incident.scenario_def.uses(scenarios.RESERVE_ROUTINE) and incident.state in RESERVE_ARMED_STATES


def reserve_routine_held_until(incident: Incident, now: datetime) -> datetime | None:
    """Until when a valid prognosis holds the reserve routine, or None when none does."""
    if reserve_routine_armed(incident) and incident.has_valid_prognosis(now):
        return incident.prognosis_at
    return None


def timer_can_fire(incident: Incident, timer: Timer) -> bool:
    """Can this pending deadline still do something when it comes? Checked by
    ``timers.fire_timer`` before any firing, and by the pages, which show only those."""
    if not incident.is_live:
        return False
    if timer.kind == Timer.Kind.RESERVE_ROUTINE:
        return reserve_routine_armed(incident)
    if timer.kind == Timer.Kind.PROGNOSIS_PASSED:
        return incident.prognosis_kind == Incident.PrognosisKind.AT and incident.prognosis_at == timer.due_at
    # The acknowledgement deadline is cancelled when SA acknowledges (on_transition).
    return True


def ensure_reserve_timer(incident: Incident, now: datetime | None = None) -> Timer | None:
    """Give a sesam_unreachable incident that may still need the reserve routine its deadline.

    Due 4 hours after the disruption began; if that has passed, when a valid prognosis
    passes, or at once when there is none.
    """
    if not reserve_routine_armed(incident):
        return None
    if Timer.objects.pending().filter(incident=incident, kind=Timer.Kind.RESERVE_ROUTINE).exists():
        return None
    now = now or timezone.now()
    due_at = incident.began_at + incident.clock("reserve_routine_after")
    if due_at <= now:
        due_at = cast(datetime, incident.prognosis_at) if incident.has_valid_prognosis(now) else now
    return arm_timer(incident, Timer.Kind.RESERVE_ROUTINE, due_at)


def sa_fallback(incident: Incident, reason: str, *, at: datetime | None = None) -> TimelineEvent | None:
    """SA is off duty, or has not acknowledged: the enhetschef for SA is told and a
    Servicedesk incident is to be made (routine section 3). Once per incident."""
    if incident.events.filter(kind=events.Kind.TIMER, **{f"data__{events.TIMER}": events.SA_FALLBACK}).exists():
        return None
    managers = list(Contact.objects.filter(kind=Contact.Kind.SA_MANAGER, active=True))
    if reason == events.OFF_DUTY:
        message = _("SA är inte i tjänst: enhetschef för SA kontaktas och incident skapas hos Servicedesk")
    else:
        message = _(
            "Eskaleringen är inte kvitterad inom %(minutes)d min: enhetschef för SA kontaktas och "
            "incident skapas hos Servicedesk"
        ) % {"minutes": round(loader.duration(incident.routine, "ack_timeout").total_seconds() / 60)}
    event = log_event(
        incident,
        events.Kind.TIMER,
        message,
        note="; ".join(f"{c.name} {c.phone}".strip() for c in managers),
        data={events.TIMER: events.SA_FALLBACK, events.REASON: reason, "contact_ids": [c.pk for c in managers]},
        at=at,
    )
    make_timer_tasks(incident, scenarios.ON_SA_FALLBACK, at=at)
    return event


def make_timer_tasks(incident: Incident, trigger: str, *, at: datetime | None = None) -> list[Task]:
    """The steps a timer makes due. A step whose earlier task is done gets a fresh task
    (a second passed prognosis needs a second reminder); an open one is not doubled."""
    now = at or timezone.now()
    scenario = incident.scenario_def
    made = []
    for step in scenario.steps:
        if step.due_on != trigger:
            continue
        earlier = list(incident.tasks.filter(scenario=scenario.key, step_key__startswith=step.key))
        earlier = [t for t in earlier if _base_key(t.step_key) == step.key]
        if any(not t.is_done for t in earlier):
            continue
        key = step.key if not earlier else f"{step.key}{REPEAT_MARK}{len(earlier) + 1}"
        made.append(_create_task(incident, scenario, step, now, key=key))
    return made


# A repeated step's task key: "renew_prognosis~2".
REPEAT_MARK = "~"


def _base_key(step_key: str) -> str:
    return step_key.split(REPEAT_MARK, 1)[0]


def reached_states(incident: Incident) -> set[str]:
    return states_reached_in(incident.events.filter(kind=TimelineEvent.Kind.TRANSITION))


def states_reached_in(timeline: Iterable[TimelineEvent]) -> set[str]:
    """The states an incident has been in, read from its timeline (a page that has loaded the
    events already asks this, rather than the database again)."""
    states: set[str] = {State.REPORTED}
    states.update(e.data.get("to") for e in timeline if e.kind == TimelineEvent.Kind.TRANSITION)
    return states


def _actions_done(incident: Incident) -> set[str]:
    done = set()
    for kind, data in incident.events.filter(
        kind__in=[TimelineEvent.Kind.TRANSITION, TimelineEvent.Kind.PROGNOSIS]
    ).values_list("kind", "data"):
        done.add(data.get("name") if kind == TimelineEvent.Kind.TRANSITION else "record_prognosis")
    return done


def _delivered(incident: Incident, delivered_by: tuple[str, tuple[str, ...]]) -> bool:
    """Has a message (channel, one of actions) been delivered for this incident, and is it
    the last delivered on its channel (a lavinmeddelande put on and taken off is not on)?"""
    channel, actions = delivered_by
    last = None
    for data in (
        incident.events.filter(kind=TimelineEvent.Kind.NOTIFICATION, data__status="sent")
        .order_by("at", "id")
        .values_list("data", flat=True)
    ):
        if data.get("channel") == channel:
            last = data.get("action")
    return last in actions


def _make_tasks(
    incident: Incident, scenario: scenarios.Scenario, states: set[str], *, actor: User | None = None
) -> None:
    existing = set(incident.tasks.values_list("scenario", "step_key"))
    # A duty two scenarios share (routine section 1) is one task, whichever scenario made it.
    existing_steps = [_step_of(task) for task in incident.tasks.all()]
    done_already = None
    reached = None
    now = timezone.now()
    for step in scenario.steps:
        if step.due_on not in states or (scenario.key, step.key) in existing:
            continue
        if step in existing_steps:
            continue
        if step.only_after:
            reached = reached if reached is not None else reached_states(incident)
            if step.only_after not in reached:
                continue
        task = _create_task(incident, scenario, step, now)
        if step.done_by == scenarios.ALL_ORDERS_ENTERED:
            if not incident.reserve_orders.filter(entered_in_sesam=False).exists():
                mark_task_done(
                    task,
                    via=step.done_by,
                    message=_("Uppgift klar – inga akuta förskrivningar väntar på att läggas in: %(text)s")
                    % {"text": task.short_text()},
                )
        elif step.done_by:
            if done_already is None:
                done_already = _actions_done(incident)
            if step.done_by in done_already:
                mark_task_done(task, actor=None, via=step.done_by)
        if step.delivered_by and _delivered(incident, step.delivered_by):
            mark_task_done(
                task,
                via="delivery",
                message=_("Uppgift klar – appen har redan levererat: %(text)s") % {"text": task.short_text()},
            )


def _create_task(
    incident: Incident, scenario: scenarios.Scenario, step: scenarios.Step, now: datetime, *, key: str | None = None
) -> Task:
    """One step of the routine becomes a task, with its "Ny uppgift" event."""
    task = Task.objects.create(
        incident=incident,
        scenario=scenario.key,
        step_key=key or step.key,
        role=step.role,
        text=str(step.instruction),
        created_at=now,
        due_at=now + incident.scaled(step.within) if step.within is not None else None,
    )
    log_event(
        incident,
        TimelineEvent.Kind.TASK_CREATED,
        _("Ny uppgift för %(role)s: %(text)s") % {"role": Role.label(step.role), "text": task.short_text()},
        data={
            "task_id": task.pk,
            "step": step.key,
            "role": step.role,
            "scenario": scenario.key,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        },
        at=now,
    )
    return task


def _complete_steps_done_by(incident: Incident, action: str, *, actor: User | None = None) -> None:
    for task in incident.tasks.filter(done_at__isnull=True):
        step = _step_of(task)
        if step is not None and step.done_by == action:
            mark_task_done(task, actor=actor, via=action)


def _step_of(task: Task) -> scenarios.Step | None:
    # The incident's own routine version: a task made under it names its steps.
    scenario = task.incident.routine.scenarios.get(task.scenario)
    if scenario is None:
        return None
    key = _base_key(task.step_key)
    return next((s for s in scenario.steps if s.key == key), None)


def mark_task_done(
    task: Task,
    *,
    actor: User | None = None,
    via: str | None = None,
    message: str | None = None,
    note: str = "",
    moot: bool = False,
) -> None:
    """A task is done: by a person (``actor``), or by the system (``via`` says how; a
    ``moot`` task was not done but can no longer be, and the report counts it as not done)."""
    task.done_at = timezone.now()
    task.done_by = actor
    task.save(update_fields=["done_at", "done_by"])
    log_event(
        task.incident,
        TimelineEvent.Kind.TASK_DONE,
        message or _("Uppgift klar: %(text)s") % {"text": task.short_text()},
        actor=actor,
        note=note,
        data={"task_id": task.pk, "step": task.step_key, "via": via} | ({"moot": True} if moot else {}),
        at=task.done_at,
    )
