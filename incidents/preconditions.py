"""When each action on an incident is allowed: written once, enforced by the services and
read by ``offers`` (what a page or client may offer), so the two cannot disagree.

A transition's preconditions are the state machine's (``models.Incident``, django-fsm-2)
and ``permissions.may_fire``; the other actions' are the table below.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import flows
from .models import Incident, State, Task


@dataclass(frozen=True)
class Precondition:
    # The permission (``incidents.<codename>``) it needs.
    permission: str
    # Whether the incident, as it is now, allows it.
    allowed: Callable[[Incident], bool]
    # Why not, when it does not (Swedish msgid, translated when read: ``ActionRefused``).
    refusal: str


def _live(incident: Incident) -> bool:
    return incident.is_live


def _not_ended(incident: Incident) -> bool:
    return not incident.is_ended


def _in_reserve_routine(incident: Incident) -> bool:
    return incident.state == State.RESERVE_ROUTINE


ENDED = gettext_noop("Störningen är avslutad.")

# The actions that are not transitions, by the names pages and the API offer them under.
ACTIONS: dict[str, Precondition] = {
    "prognosis": Precondition(
        "record_prognosis", _live, gettext_noop("Prognos kan bara anges medan störningen pågår.")
    ),
    "note": Precondition(
        "report_incident",
        _not_ended,
        gettext_noop("Störningen är avslutad; tidslinjen kan inte längre ändras."),
    ),
    "it_contact": Precondition("record_it_contact", _not_ended, ENDED),
    "reclassify": Precondition(
        "reclassify_incident", _live, gettext_noop("Scenario kan bara bytas medan störningen pågår.")
    ),
    "reserve_order": Precondition(
        "log_reserve_order",
        _in_reserve_routine,
        gettext_noop("Akuta förskrivningar registreras bara medan reservrutinen är aktiv."),
    ),
    "order_entered": Precondition("log_reserve_order", _not_ended, ENDED),
    "caller_report": Precondition(
        "report_incident", _live, gettext_noop("Samtal kan bara registreras medan störningen pågår.")
    ),
}

# Tasks the app made because it could not do something itself (a notice that could not be
# delivered): still owed after the incident has ended, and never done by an action.
MANUAL_SCENARIO = "manual"


def done_by_action(task: Task) -> str | None:
    """The transition or action that does this task's step, if any: such a task is not
    ticked by hand (that would say it was done when it was not); doing the action ticks it."""
    if task.scenario == MANUAL_SCENARIO:
        return None
    step = flows.step_of(task)  # a repeated reminder ("renew_prognosis~2") is its first step
    return step.done_by if step is not None else None


def still_owed(task: Task, incident: Incident) -> bool:
    """Whether the task can still be done: every task while the incident has not ended; after
    that only one the app made because it could not do something itself (``MANUAL_SCENARIO``)."""
    return not incident.is_ended or task.scenario == MANUAL_SCENARIO


def close_blockers(incident: Incident) -> list[str]:
    """Why "Avsluta" would be refused now, in the reader's language: the state machine's
    (service is not restored yet) or ``Incident.close_blockers`` (open tasks, urgent orders
    not in Sesam LMN). Empty when it would be accepted, and once the incident has ended."""
    if incident.is_live:
        return [_("Driften är inte återställd (”Driften återställd”).")]
    if incident.state == State.RESOLVED:
        return [str(reason) for reason in incident.close_blockers()]
    return []
