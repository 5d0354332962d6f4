"""Resultat: a drill's scorecard, worked out from its timeline, its tasks and the routine
version it ran under, with every time scaled back to the routine's real time.

A drill runs its clocks ``time_scale`` times faster (``Incident.scaled``): a step done 20 s
after its time limit in a 30x drill was done 10 minutes late, as the routine counts. What the
drill lived is multiplied back (``Incident.real_time``) before it is shown or compared.

The scorecard is read, never stored: the timeline is the truth and a drill's card is whole
the moment it ends (closed, or broken off); while it runs it is shown as preliminary. The
leader's notes (``Drill.notes``) are the one thing written here (``record_notes``).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from incidents import drills as incident_drills
from incidents import events as incident_events
from incidents.models import Drill, Incident, State, Task, TimelineEvent
from incidents.preconditions import MANUAL_SCENARIO
from incidents.services import _clean_text
from review import reports
from runbook.errors import ActionRefused
from runbook.formatting import format_duration

# The leader's notes are kept up to this many characters (the database refuses more).
NOTES_MAX = Drill.NOTES_MAX
# Side by side: a drill and at most this many drills of its scenario before it.
COMPARE_MAX = 6
# How a task was ended by the system because the drill ended: not done by anyone.
ENDED_BY_SYSTEM = ("ended", "moot")


class Outcome:
    """How one step went in a drill."""

    MET = "met"
    LATE = "late"
    MISSED = "missed"
    OPEN = "open"

    LABELS = {
        MET: gettext_lazy("I tid"),
        LATE: gettext_lazy("Sent"),
        MISSED: gettext_lazy("Missad"),
        OPEN: gettext_lazy("Pågår"),
    }


@dataclass
class StepResult:
    """One step of the routine that became a task in the drill."""

    scenario: str
    step_key: str
    role: str
    text: str
    outcome: str
    created_at: datetime
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str = ""
    by_system: bool = False
    # In the routine's real time:
    limit: timedelta | None = None
    taken: timedelta | None = None
    late_by: timedelta | None = None
    due_after_start: timedelta | None = None
    done_after_start: timedelta | None = None
    repeat: int = 1
    # Still open (a running drill) with its time limit passed.
    overdue: bool = False

    @property
    def outcome_label(self):
        return Outcome.LABELS[self.outcome]

    @property
    def base_key(self):
        return self.step_key.split("~", 1)[0]

    @property
    def ended_by_system(self):
        return self.outcome == Outcome.MISSED and self.done_at is not None


@dataclass
class NotReached:
    """A step of the routine that never became a task: the drill's path did not reach it."""

    scenario: str
    step_key: str
    role: str
    text: str


@dataclass
class Moment:
    """A turn the drill took (a transition, a deadline, an injection), when it came in the
    routine's real time."""

    at: datetime
    after_start: timedelta
    text: str
    who: str
    kind: str
    fallback: bool = False
    # The injection that set this off ("SA svarar inte"), if one did.
    injected_by: str = ""


@dataclass
class Injection:
    """Something the leader made go wrong (``incidents.drills.inject``), what it set off, and
    the first thing done in answer to it (``incidents.drills.injections`` decides what counts)."""

    at: datetime
    after_start: timedelta
    label: str
    text: str
    who: str
    note: str = ""
    caused: tuple[str, ...] = ()
    answer: str = ""
    answered_by: str = ""
    answered_after: timedelta | None = None


@dataclass
class Scorecard:
    incident: Incident
    drill: Drill
    # The scenario the drill was started as (a reclassification on the way does not move it).
    scenario: str
    scenario_title: str
    preliminary: bool
    broken_off: bool
    started_at: datetime
    ended_at: datetime | None
    steps: list[StepResult]
    not_reached: list[NotReached]
    other_tasks: list[StepResult]
    durations: list[tuple[str, object, datetime | None, timedelta | None]]
    escalation_to_ack: timedelta | None
    path: list[Moment]
    injections: list[Injection]
    fallback: Moment | None = None
    reserve_by_timer: bool | None = None
    by_role: list[tuple[str, list[StepResult]]] = field(default_factory=list)

    @property
    def time_scale(self):
        return self.incident.time_scale

    @property
    def lasted(self):
        """How long the drill ran, in the routine's real time."""
        if self.ended_at is None:
            return None
        return self.incident.real_time(self.ended_at - self.started_at)

    def count(self, outcome):
        return sum(1 for s in self.steps if s.outcome == outcome)

    @property
    def met(self):
        return self.count(Outcome.MET)

    @property
    def count_late(self):
        return self.count(Outcome.LATE)

    @property
    def count_missed(self):
        return self.count(Outcome.MISSED)

    @property
    def count_open(self):
        return self.count(Outcome.OPEN)

    @property
    def total(self):
        return len(self.steps)

    @property
    def score_text(self):
        return _("%(met)d av %(total)d steg i tid") % {"met": self.met, "total": self.total}

    def duration(self, key):
        return next((delta for k, _label, _at, delta in self.durations if k == key), None)

    def step(self, key, scenario=None):
        """The task of a step (``report_to_sa``) or of a repeated one (``renew_prognosis~2``)."""
        return next((s for s in self.steps if s.step_key == key and (scenario is None or s.scenario == scenario)), None)


# --- who sees it, who writes the notes --------------------------------------------------


def may_view(user: User, drill: Drill) -> bool:
    """Verksamhetsansvarig and -specialist, and the people who took part (and its leader)."""
    if not user.is_authenticated:
        return False
    if incident_drills.may_lead(user) or drill.leader_id == user.pk:
        return True
    return drill.participants.filter(pk=user.pk).exists()


def may_write_notes(user: User, drill: Drill) -> bool:
    """The drill's leader, Verksamhetsansvarig and Verksamhetsspecialist."""
    return user.is_authenticated and (drill.leader_id == user.pk or incident_drills.may_lead(user))


def may_compare(user: User) -> bool:
    """Drills side by side span people who took part in other drills: the business side."""
    return user.is_authenticated and incident_drills.may_lead(user)


@transaction.atomic
def record_notes(user: User, incident_id: int, notes: str) -> Drill:
    """Övningsledarens anteckningar: replaced as a whole, at most NOTES_MAX characters."""
    drill = Drill.objects.select_for_update().filter(pk=incident_id).first()
    if drill is None:
        raise ActionRefused(_("Övningen finns inte."), code="not_found")
    if not may_write_notes(user, drill):
        raise ActionRefused(
            _("Bara övningsledaren, verksamhetsansvarig och verksamhetsspecialist kan skriva anteckningarna."),
            code="forbidden",
        )
    drill.notes = _clean_text(notes, gettext_noop("Anteckningar"), NOTES_MAX, required=False)
    drill.save(update_fields=["notes"])
    return drill


# --- reading a drill --------------------------------------------------------------------


def drill_for_scorecard(incident_id: int) -> Drill:
    """The drill with its incident, leader, participants, tasks and timeline (raises
    ``Drill.DoesNotExist``)."""
    return _drills().get(pk=incident_id)


def _drills():
    return Drill.objects.select_related("incident", "leader", "broken_off_by").prefetch_related(
        "participants",
        Prefetch("incident__events", queryset=TimelineEvent.objects.order_by("at", "id")),
        Prefetch("incident__tasks", queryset=Task.objects.select_related("done_by").order_by("created_at", "id")),
    )


def _routine_order(routine, scenario_keys):
    """(scenario, step key) -> its place in the routine: the scenarios in the order the
    drill met them, each one's steps as the routine lists them."""
    order = {}
    for i, key in enumerate(scenario_keys):
        definition = routine.scenarios.get(key)
        if definition is None:
            continue
        for j, step in enumerate(definition.steps):
            order[(key, step.key)] = (i, j)
    return order


def _step_result(incident, task, done_event, started_at, ended):
    real = incident.real_time
    data = done_event.data if done_event is not None else {}
    via = data.get("via")
    by_system = task.done_at is not None and task.done_by_id is None
    if task.done_at is None:
        outcome = Outcome.MISSED if ended else Outcome.OPEN
    elif via in ENDED_BY_SYSTEM or data.get("moot"):
        # Ended by the app because the drill was over or the step could no longer be done.
        outcome = Outcome.MISSED
    elif task.due_at is not None and task.done_at > task.due_at:
        outcome = Outcome.LATE
    else:
        outcome = Outcome.MET
    repeat = int(task.step_key.split("~", 1)[1]) if "~" in task.step_key else 1
    return StepResult(
        scenario=task.scenario,
        step_key=task.step_key,
        role=task.role,
        text=task.text,
        outcome=outcome,
        created_at=task.created_at,
        due_at=task.due_at,
        done_at=task.done_at,
        done_by=done_event.actor_label if done_event is not None else "",
        by_system=by_system,
        limit=real(task.due_at - task.created_at) if task.due_at else None,
        taken=real(task.done_at - task.created_at) if task.done_at else None,
        late_by=real(task.done_at - task.due_at) if outcome == Outcome.LATE else None,
        due_after_start=real(task.due_at - started_at) if task.due_at else None,
        done_after_start=real(task.done_at - started_at) if task.done_at else None,
        repeat=repeat,
        overdue=outcome == Outcome.OPEN and task.due_at is not None and task.due_at < timezone.now(),
    )


def build(drill: Drill) -> Scorecard:
    """The scorecard of one drill (``drill_for_scorecard`` loads what it reads)."""
    incident = drill.incident
    routine = incident.routine
    events = list(incident.events.all())
    tasks = list(incident.tasks.all())
    derived = reports.derive(events, routine=routine)
    started_at = derived.reported_at or drill.started_at
    ended = incident.is_ended
    real = incident.real_time

    def after_start(at):
        return real(at - started_at)

    done_events = {}
    for event in events:
        if event.kind == TimelineEvent.Kind.TASK_DONE and (event.data or {}).get("task_id") is not None:
            done_events.setdefault(event.data["task_id"], event)

    started_as = derived.first_scenario or incident.scenario
    scenario_keys = list(
        dict.fromkeys(
            [
                derived.first_scenario or incident.scenario,
                *[to for _a, _f, to in derived.reclassifications],
                incident.scenario,
            ]
        )
    )
    order = _routine_order(routine, scenario_keys)
    steps, other = [], []
    for task in tasks:
        result = _step_result(incident, task, done_events.get(task.pk), started_at, ended)
        if task.scenario == MANUAL_SCENARIO or (task.scenario, result.base_key) not in order:
            other.append(result)
        else:
            # The step's words as the routine version says them, in the reader's language.
            step = next(st for st in routine.scenarios[task.scenario].steps if st.key == result.base_key)
            result.text = str(step.instruction)
            steps.append(result)
    steps.sort(key=lambda s: (order[(s.scenario, s.base_key)], s.repeat, s.created_at))

    # The steps that never became tasks; a duty two scenarios share is one task.
    made = {(s.scenario, s.base_key) for s in steps}
    made_steps = []
    for s in steps:
        definition = routine.scenarios[s.scenario]
        made_steps.extend(step for step in definition.steps if step.key == s.base_key)
    not_reached = []
    for key in scenario_keys:
        definition = routine.scenarios.get(key)
        if definition is None:
            continue
        for step in definition.steps:
            if (key, step.key) in made or step in made_steps:
                continue
            not_reached.append(NotReached(key, step.key, step.role, str(step.instruction)))

    by_role = {}
    for s in steps:
        by_role.setdefault(s.role, []).append(s)

    records = incident_drills.injections(incident)
    injections = [
        Injection(
            at=r.at,
            after_start=after_start(r.at),
            label=r.label,
            text=r.message,
            who=r.who,
            note=r.note,
            caused=r.caused,
            answer=r.answer.what if r.answer else "",
            answered_by=r.answer.who if r.answer else "",
            answered_after=r.answer.after_real if r.answer else None,
        )
        for r in records
    ]
    # Which entries an injection set off (the fallback after "SA svarar inte"), by its label.
    labels = {str(k): str(v) for k, v in incident_drills.INJECTION_LABELS.items()}
    injected_by = {}
    for event in events:
        if event.kind == TimelineEvent.Kind.INJECTED:
            label = labels.get((event.data or {}).get(incident_events.INJECTION, ""), "")
            for pk in (event.data or {}).get(incident_events.CAUSED, ()):
                injected_by[pk] = label

    path = []
    fallback = None
    reserve_by_timer = None
    for event in events:
        data = event.data or {}
        moment = Moment(
            event.at,
            after_start(event.at),
            event.message,
            event.actor_label,
            event.kind,
            injected_by=injected_by.get(event.pk, ""),
        )
        if event.kind in (TimelineEvent.Kind.INJECTED, TimelineEvent.Kind.TRANSITION, TimelineEvent.Kind.RECLASSIFIED):
            path.append(moment)
            if data.get(incident_events.NAME) == incident_events.Transition.ACTIVATE_RESERVE_ROUTINE:
                if reserve_by_timer is None:
                    reserve_by_timer = event.actor_id is None
        elif event.kind == TimelineEvent.Kind.TIMER and data.get(incident_events.TIMER) != incident_events.FAILING:
            moment.fallback = data.get(incident_events.TIMER) == incident_events.SA_FALLBACK
            path.append(moment)
            if moment.fallback and fallback is None:
                fallback = moment
    # An injection comes first in the path, before what it set off at the same moment.
    path.sort(key=lambda m: (m.at, m.kind != TimelineEvent.Kind.INJECTED))

    return Scorecard(
        incident=incident,
        drill=drill,
        scenario=started_as,
        scenario_title=_scenario_title(routine, started_as),
        preliminary=not ended,
        broken_off=drill.broken_off_at is not None,
        started_at=started_at,
        ended_at=incident.ended_at if ended else None,
        steps=steps,
        not_reached=not_reached,
        other_tasks=other,
        durations=[
            (key, label, at, real(delta) if delta is not None else None)
            for key, label, at, delta in derived.durations()
        ],
        escalation_to_ack=real(derived.escalation_to_ack) if derived.escalation_to_ack is not None else None,
        path=path,
        injections=injections,
        fallback=fallback,
        reserve_by_timer=reserve_by_timer,
        by_role=list(by_role.items()),
    )


# --- side by side -----------------------------------------------------------------------


@dataclass
class Comparison:
    scenario: str
    scenario_title: str
    cards: list[Scorecard]
    # rows: (label, [cell per card]); a cell is (text, outcome or "")
    step_rows: list[tuple[str, str, list[tuple[str, str]]]]
    duration_rows: list[tuple[str, list[str]]]
    score_row: list[str]


def _scenario_title(routine, key):
    definition = routine.scenarios.get(key)
    return definition.title if definition is not None else key


def started_as(drill: Drill) -> str:
    """The scenario a drill was started as, as its first timeline entry says."""
    first = next((e for e in drill.incident.events.all() if e.kind == TimelineEvent.Kind.REPORTED), None)
    scenario = (first.data or {}).get("scenario", "") if first is not None else ""
    return scenario or drill.incident.scenario


def ended_drills_of(scenario: str, *, before: Incident | None = None, limit: int = COMPARE_MAX):
    """Ended drills started as a scenario (reclassified on the way or not), newest first;
    those started before ``before`` when given."""
    drills = _drills().filter(
        incident__events__kind=TimelineEvent.Kind.REPORTED,
        incident__events__data__scenario=scenario,
        incident__state__in=[State.CLOSED, State.CANCELLED],
    )
    if before is not None:
        drills = drills.filter(started_at__lt=before.reported_at)
    return list(drills.order_by("-started_at", "-pk")[:limit])


def compare(scenario: str, drill: Drill | None = None) -> Comparison:
    """The drill (or the newest) beside the ended drills of its scenario before it, oldest
    first: every step and duration in the routine's real time."""
    if drill is not None:
        chosen = [drill, *ended_drills_of(scenario, before=drill.incident, limit=COMPARE_MAX)]
    else:
        chosen = ended_drills_of(scenario, limit=COMPARE_MAX + 1)
    cards = [build(d) for d in reversed(chosen)]
    title = cards[-1].scenario_title if cards else scenario
    # Rows: the steps in the order of the newest drill's routine, then any older ones had.
    keys: list[tuple[str, str]] = []
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    for card in reversed(cards):
        for s in card.steps:
            key = (s.scenario, s.step_key)
            if key not in labels:
                keys.append(key)
                labels[key] = (s.text, s.role)
            for n in card.not_reached:
                labels.setdefault((n.scenario, n.step_key), (n.text, n.role))
    step_rows = []
    for key in keys:
        cells = []
        for card in cards:
            s = card.step(key[1], key[0])
            if s is None:
                cells.append((_("ej aktuellt"), ""))
            elif s.taken is None or s.outcome == Outcome.MISSED:
                cells.append((str(s.outcome_label), s.outcome))
            else:
                cells.append((f"{format_duration(s.taken)} · {s.outcome_label}", s.outcome))
        text, role = labels[key]
        step_rows.append((text, role, cells))
    duration_rows = []
    for key, label in reports.DURATIONS:
        duration_rows.append((str(label), [format_duration(card.duration(key)) for card in cards]))
    return Comparison(
        scenario=scenario,
        scenario_title=title,
        cards=cards,
        step_rows=step_rows,
        duration_rows=duration_rows,
        score_row=[card.score_text for card in cards],
    )
