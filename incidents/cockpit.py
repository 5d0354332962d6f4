"""What the incident page puts first: what to do now, for the person looking (issue: the page
as a cockpit).

Three things are worked out here, from the same rules the services enforce:

- ``caller_script``: what Kundservice says to callers *now* (during the disruption, once the
  reserve routine applies, once service is restored), in the routine's words (``runbook.scenarios``);
- ``clocks``: the deadlines that can still fire, and whether a valid prognosis holds the
  reserve routine;
- ``next_step``: the one next thing for the viewer's role, chosen among what
  ``offers.available_transitions`` / ``available_actions`` offer that person.

Nothing here decides what a person may do: a step is only offered when the services offer it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from runbook import formatting, routine
from runbook.scenarios import Role

from . import flows, permissions
from .models import Incident, State, Timer

# --- the caller script ----------------------------------------------------------------


@dataclass(frozen=True)
class CallerScript:
    """Kundservice's words to callers as the incident stands now.

    ``phase`` is ``disruption``, ``reserve`` or ``restored``; ``order_form`` says whether
    urgent orders are taken here now (the page then puts the order form one tap away).
    """

    phase: str
    lines: tuple[str, ...]
    order_form: bool = False


def caller_script(incident, now=None, reached_reserve=None):
    """What Kundservice says to a prescriber who calls now, or None once the incident ended.

    ``reached_reserve``: whether the incident has been through the reserve routine (read from
    its timeline when not given).
    """
    now = now or timezone.now()
    scenario = incident.scenario_def
    if incident.state == State.RESOLVED:
        lines = list(routine.caller_script(scenario, routine.RESTORED) or routine.caller_script(scenario))
        if reached_reserve is None:
            reached_reserve = State.RESERVE_ROUTINE in flows.reached_states(incident)
        if reached_reserve:
            lines.append(
                _(
                    "Akuta förskrivningar som togs emot under reservrutinen förs in i Sesam LMN av "
                    "Kundservice; förskrivaren behöver inte skicka dem igen."
                )
            )
        return CallerScript(routine.RESTORED, tuple(str(line) for line in lines))
    if not incident.is_live:
        return None
    reserve = routine.caller_script(scenario, routine.RESERVE) if incident.state == State.RESERVE_ROUTINE else ()
    if reserve:
        lines, phase, order_form = list(reserve), routine.RESERVE, True
    else:
        lines, phase, order_form = list(routine.caller_script(scenario)), routine.DISRUPTION, False
    prognosis = _prognosis_line(incident, now)
    if prognosis:
        # Said right after the first line: it is what callers ask first.
        lines.insert(1, prognosis)
    return CallerScript(phase, tuple(str(line) for line in lines), order_form)


def _prognosis_line(incident, now):
    if incident.has_valid_prognosis(now):
        local = timezone.localtime(incident.prognosis_at)
        if local.date() == timezone.localtime(now).date():
            return _("Enligt prognosen från Region Skånes IT fungerar det igen omkring kl. %(time)s.") % {
                "time": local.strftime("%H:%M")
            }
        return _("Enligt prognosen från Region Skånes IT fungerar det igen omkring %(time)s.") % {
            "time": local.strftime("%Y-%m-%d %H:%M")
        }
    if incident.prognosis_kind == Incident.PrognosisKind.NONE:
        return _("Det finns ännu ingen prognos för när det fungerar igen.")
    return None  # missing, or passed (counts as missing): nothing to promise


# --- the clocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """One deadline that can still fire, in words, with the moment it fires at."""

    kind: str
    due_at: datetime
    text: str
    held_by_prognosis: bool = False
    timer: Timer | None = field(default=None, compare=False)

    @property
    def is_failing(self):
        return self.timer is not None and self.timer.is_failing

    @property
    def attempts(self):
        return self.timer.attempts if self.timer is not None else 0


def clocks(incident, now=None, timers=None):
    """The incident's deadlines that can still fire, soonest first.

    A reserve-routine deadline that falls while a valid prognosis holds is shown as held
    ("hålls av prognos till 15:00") at the prognosis' time, which is when it may fire
    (``timers._fire_reserve_routine`` re-arms it there).
    """
    from .selectors import pending_timers

    now = now or timezone.now()
    result = []
    for timer in pending_timers(incident) if timers is None else timers:
        if not flows.timer_can_fire(incident, timer):
            continue
        if timer.kind == Timer.Kind.RESERVE_ROUTINE:
            held_until = flows.reserve_routine_held_until(incident, now)
            if held_until is not None and timer.due_at <= held_until:
                at = formatting.clock_time(held_until, now)
                result.append(
                    Clock(
                        timer.kind,
                        held_until,
                        _("Reservrutinen hålls av prognos till %(at)s och aktiveras då om ingen ny prognos ges")
                        % {"at": at},
                        held_by_prognosis=True,
                        timer=timer,
                    )
                )
                continue
        result.append(Clock(timer.kind, timer.due_at, str(timer.clock_text()), timer=timer))
    return sorted(result, key=lambda clock: clock.due_at)


# --- the one next thing for the viewer ----------------------------------------------------

# What each role looks for first on the page, in the order a person holding several roles
# sees them (the routine's section 2 order, Kundservice first: callers wait on the phone).
NEXT_STEP_ROLES = (
    Role.KUNDSERVICE,
    Role.SYSTEMANSVARIG,
    Role.VERKSAMHETSSPECIALIST,
    Role.VERKSAMHETSANSVARIG,
    Role.TELEFONIANSVARIG,
)


@dataclass(frozen=True)
class NextStep:
    """The one next thing for the person looking.

    ``kind``: ``caller_script`` (Kundservice: the script is the next thing), ``transition``
    (a button of the state machine: ``transition`` names it), ``prognosis`` (Ange prognos),
    ``close`` (Verksamhetsansvarig: ``blockers`` say what stands in the way of closing),
    ``task`` (the person's first open task) or ``wait`` (nothing for them: ``text`` says who
    the incident waits for).
    """

    kind: str
    label: str = ""
    text: str = ""
    transition: str | None = None
    blockers: tuple[str, ...] = ()
    task: object = None
    # Where on the page the step is done, when not in the step itself.
    anchor: str = ""


NEXT_HEADING = gettext_lazy("Nästa för dig")


def next_step(user, incident, *, transitions, can, my_tasks, waiting_on, close_blockers=(), now=None):
    """The one next thing for this person, from what the services offer them
    (``transitions``: ``offers.available_transitions``; ``can``: ``available_actions``;
    ``close_blockers``: ``preconditions.close_blockers``)."""
    now = now or timezone.now()
    roles = permissions.user_roles(user)
    names = list(transitions)
    labels = dict(transitions) if transitions and isinstance(transitions[0], tuple) else {}
    if labels:
        names = [name for name, _label in transitions]

    def transition(name, text=""):
        return NextStep("transition", label=str(labels.get(name, name)), text=text, transition=name)

    for role in NEXT_STEP_ROLES:
        if role not in roles:
            continue
        if role == Role.KUNDSERVICE and (incident.is_live or incident.state == State.RESOLVED):
            return NextStep("caller_script", label=_("Att säga till förskrivare som ringer"))
        if role == Role.SYSTEMANSVARIG:
            if "acknowledge" in names:
                return transition(
                    "acknowledge", _("Kvittera eskaleringen: då vet Hjälpmedel att du har tagit emot den.")
                )
            if can.get("prognosis") and not incident.has_valid_prognosis(now):
                return NextStep(
                    "prognosis",
                    label=_("Ange prognos"),
                    text=_("Ange när Sesam LMN väntas gå att nå igen, eller ”Ingen prognos”."),
                )
        if role == Role.VERKSAMHETSSPECIALIST:
            for name in ("escalate", "await_it"):
                if name in names:
                    return transition(name)
        if role == Role.VERKSAMHETSANSVARIG and "close" in names:
            if close_blockers:
                return NextStep(
                    "close",
                    label=_("Kan inte avslutas än"),
                    blockers=tuple(str(b) for b in close_blockers),
                    anchor="action-close",
                )
            return NextStep(
                "close",
                label=_("Avsluta"),
                text=_("Inget hindrar att störningen avslutas efter uppföljning."),
                anchor="action-close",
            )
        own = [task for task in my_tasks if task.role == role]
        if own:
            return NextStep("task", label=_("Din uppgift"), task=own[0])
        if role == Role.VERKSAMHETSANSVARIG and close_blockers:
            return NextStep("close", label=_("Kan inte avslutas än"), blockers=tuple(str(b) for b in close_blockers))
    if incident.is_live or incident.state == State.RESOLVED:
        return NextStep("wait", label=_("Väntar på"), text=str(waiting_on))
    return None
