"""What a page or client may offer a person on an incident, and what the offers are called.

Computed from the preconditions the services enforce (``preconditions``, the state machine,
``permissions``), so that a button is shown exactly when pressing it will be accepted.
"""

from collections.abc import Sequence
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from runbook import scenarios

from . import permissions, preconditions
from .models import Incident, State, Task

AnyUser = AbstractBaseUser | AnonymousUser


class TaskOffer(TypedDict, total=False):
    tick: bool
    via: dict[str, str]


# Marked for extraction; translated when shown (transition_label).
TRANSITION_LABELS = {
    "escalate": gettext_noop("Eskalera till systemansvarig"),
    "acknowledge": gettext_noop("Kvittera"),
    "await_it": gettext_noop("Avvaktar IT"),
    "activate_reserve_routine": gettext_noop("Aktivera reservrutin"),
    "resolve": gettext_noop("Driften återställd"),
    "close": gettext_noop("Avsluta"),
    "cancel": gettext_noop("Makulera"),
}


def transition_label(name: str) -> str:
    return _(TRANSITION_LABELS[name])


def action_label(done_by: str) -> str:
    """The button that does a step done by an action ("Ange prognos", a transition's label)."""
    if done_by == "record_prognosis":
        return _("Ange prognos")
    if done_by == scenarios.ALL_ORDERS_ENTERED:
        return _("Inlagd i Sesam LMN")
    return transition_label(done_by)


def available_actions(user: AnyUser, incident: Incident) -> dict[str, bool]:
    """The other actions this person may take on this incident now (the preconditions the
    services enforce), for pages and clients to offer only what will be accepted."""
    return {
        name: permissions.has(user, rule.permission) and rule.allowed(incident)
        for name, rule in preconditions.ACTIONS.items()
    }


def available_transitions(user: AnyUser, incident: Incident) -> list[str]:
    """The transitions this person may fire on this incident now, in page order.

    "Avsluta" is offered on a resolved incident even while tasks are open, so that the
    person pressing it is told what is left rather than wondering where the button went.
    """
    return [
        name
        for name in permissions.TRANSITION_ORDER
        if permissions.may_fire(user, incident, name)
        and (can_proceed(getattr(incident, name)) or (name == "close" and incident.state == State.RESOLVED))
    ]


def task_offer(
    user: AnyUser, incident: Incident, task: Task, transitions: Sequence[tuple[str, str]], can_prognosis: bool
) -> TaskOffer:
    """What the page offers for one open task, so that a button is shown exactly when
    ``services.complete_task`` (or the action that does the task) will accept it.

    ``{"tick": True}``: its own "Klar" button; ``{"via": {"label", "anchor"}}``: the action
    that does its step (such a task is not ticked by hand, ``preconditions.done_by_action``;
    ``anchor`` is empty when this person cannot do that action here); ``{}``: nothing, the
    incident has ended (``preconditions.still_owed``) or the task is not this person's.
    """
    if not preconditions.still_owed(task, incident):
        return {}
    via = _task_action(task, transitions, can_prognosis)
    if via is not None:
        return {"via": via}
    return {"tick": permissions.may_complete_task(user, task)}


def _task_action(task: Task, transitions: Sequence[tuple[str, str]], can_prognosis: bool) -> dict[str, str] | None:
    """The button that does ``task`` when its step is done by an action, else None."""
    action = preconditions.done_by_action(task)
    if not action:
        return None
    if action == "record_prognosis":
        return {"label": action_label(action), "anchor": "prognos-form" if can_prognosis else ""}
    if action == scenarios.ALL_ORDERS_ENTERED:
        return {"label": action_label(action), "anchor": "reservrutin"}
    for name, label in transitions:
        if name == action:
            return {"label": label, "anchor": f"action-{name}"}
    return {"label": action_label(action), "anchor": ""}
