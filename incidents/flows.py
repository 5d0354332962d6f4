"""What each change of an incident sets off, in one place.

Reading this module tells what ``escalate`` (or any other change) causes: which tasks are
made from the routine, which are done by it. Everything here runs inside the transaction of
the service that called it. Other apps (notifications) react to the timeline events these
write through ``signals.timeline_event_logged``, in the same transaction.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from runbook import scenarios
from runbook.scenarios import Role

from .models import State, Task, TimelineEvent
from .timeline import log_event


def on_state_reached(incident, state, *, actor=None):
    """An incident arrived in ``state``: the steps due then become tasks."""
    _make_tasks(incident, incident.scenario_def, {state}, actor=actor)


def on_transition(incident, name, previous, *, actor=None):
    """After any transition: the steps it does are done, the steps it makes due appear."""
    _complete_steps_done_by(incident, name, actor=actor)
    on_state_reached(incident, incident.state, actor=actor)


def on_action(incident, action, *, actor=None):
    """After an action that is not a transition (``record_prognosis``)."""
    _complete_steps_done_by(incident, action, actor=actor)


def on_reclassified(incident, previous_scenario, *, actor=None):
    """The new scenario's steps for every state reached so far are added; old tasks stay."""
    _make_tasks(incident, incident.scenario_def, reached_states(incident), actor=actor)


def reached_states(incident):
    states = {State.REPORTED}
    for data in incident.events.filter(kind=TimelineEvent.Kind.TRANSITION).values_list(
        "data", flat=True
    ):
        states.add(data.get("to"))
    return states


def _actions_done(incident):
    done = set()
    for kind, data in incident.events.filter(
        kind__in=[TimelineEvent.Kind.TRANSITION, TimelineEvent.Kind.PROGNOSIS]
    ).values_list("kind", "data"):
        done.add(data.get("name") if kind == TimelineEvent.Kind.TRANSITION else "record_prognosis")
    return done


def _make_tasks(incident, scenario, states, *, actor=None):
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
        task = Task.objects.create(
            incident=incident,
            scenario=scenario.key,
            step_key=step.key,
            role=step.role,
            text=str(step.instruction),
            created_at=now,
            due_at=now + step.within if step.within is not None else None,
        )
        log_event(
            incident,
            TimelineEvent.Kind.TASK_CREATED,
            _("Ny uppgift för %(role)s: %(text)s")
            % {"role": Role.label(step.role), "text": task.short_text()},
            data={
                "task_id": task.pk, "step": step.key, "role": step.role, "scenario": scenario.key,
                "due_at": task.due_at.isoformat() if task.due_at else None,
            },
            at=now,
        )
        if step.done_by:
            if done_already is None:
                done_already = _actions_done(incident)
            if step.done_by in done_already:
                mark_task_done(task, actor=None, via=step.done_by)


def _complete_steps_done_by(incident, action, *, actor=None):
    for task in incident.tasks.filter(done_at__isnull=True):
        step = _step_of(task)
        if step is not None and step.done_by == action:
            mark_task_done(task, actor=actor, via=action)


def _step_of(task):
    scenario = scenarios.SCENARIOS.get(task.scenario)
    if scenario is None:
        return None
    return next((s for s in scenario.steps if s.key == task.step_key), None)


def mark_task_done(task, *, actor=None, via=None):
    task.done_at = timezone.now()
    task.done_by = actor
    task.save(update_fields=["done_at", "done_by"])
    log_event(
        task.incident,
        TimelineEvent.Kind.TASK_DONE,
        _("Uppgift klar: %(text)s") % {"text": task.short_text()},
        actor=actor,
        data={"task_id": task.pk, "step": task.step_key, "via": via},
        at=task.done_at,
    )
