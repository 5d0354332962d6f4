"""What happened in one incident, derived from its timeline alone (Rapport).

Pure functions over a list of timeline events: anything with ``kind``, ``at``, ``data`` and
``actor_id`` will do, so the rules can be tested on hand-built timelines without a database.
The per-incident summary row (``IncidentMetrics``) and the incident report are both made
from ``derive``; nothing here reads the incident's own columns, which may have moved on.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from routines import loader
from runbook import scenarios
from runbook.formatting import format_duration  # noqa: F401 - read here by the review pages

# Event kinds and transition names, spelled as the timeline stores them.
REPORTED = "reported"
TRANSITION = "transition"
TASK_CREATED = "task_created"
TASK_DONE = "task_done"
PROGNOSIS = "prognosis"
NOTE = "note"
RECLASSIFIED = "reclassified"
NOTIFICATION = "notification"

ENDED = ("closed", "cancelled")


class StepStatus:
    """How one step of the routine went in one incident."""

    ON_TIME = "on_time"
    LATE = "late"
    SKIPPED = "skipped"
    OPEN = "open"
    NOT_DUE = "not_due"

    LABELS = {
        ON_TIME: _("Utförd i tid"),
        LATE: _("Utförd sent"),
        SKIPPED: _("Inte utförd"),
        OPEN: _("Pågår"),
        NOT_DUE: _("Ej aktuell"),
    }


# The durations Verksamhetsansvarig follows, each measured from the report.
DURATIONS = (
    ("escalated", _("Anmäld → eskalerad till SA")),
    ("acknowledged", _("Anmäld → kvitterad av SA")),
    ("prognosis", _("Anmäld → första prognos")),
    ("reserve", _("Anmäld → reservrutin aktiv")),
    ("resolved", _("Anmäld → driften återställd")),
    ("closed", _("Anmäld → avslutad")),
)
DURATION_KEYS = tuple(key for key, _label in DURATIONS)


@dataclass
class StepOutcome:
    scenario: str
    step_key: str
    role: str
    text: str
    status: str
    created_at: datetime | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str = ""
    via: str | None = None

    @property
    def status_label(self):
        return StepStatus.LABELS[self.status]

    @property
    def late_by(self):
        if self.status == StepStatus.LATE:
            return self.done_at - self.due_at
        return None


@dataclass
class Notice:
    at: datetime
    message: str
    channel: str = ""
    status: str = ""


@dataclass
class Derived:
    """The milestones of one incident as its timeline tells them."""

    reported_at: datetime | None = None
    began_at: datetime | None = None
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_prognosis_at: datetime | None = None
    reserve_at: datetime | None = None
    reserve_by_hand: bool = False
    reserve_early: bool = False
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    state: str = "reported"
    first_scenario: str = ""
    scenario: str = ""
    reclassifications: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    review: dict | None = None

    @property
    def ended_at(self):
        return self.closed_at or self.cancelled_at

    @property
    def is_ended(self):
        return self.state in ENDED

    @property
    def reclassified(self):
        return bool(self.reclassifications)

    def milestone(self, key):
        return {
            "escalated": self.escalated_at,
            "acknowledged": self.acknowledged_at,
            "prognosis": self.first_prognosis_at,
            "reserve": self.reserve_at,
            "resolved": self.resolved_at,
            "closed": self.closed_at,
        }[key]

    def duration(self, key):
        """Time from the report to the milestone, or None when it never came."""
        at = self.milestone(key)
        if at is None or self.reported_at is None:
            return None
        return at - self.reported_at

    def durations(self):
        return [(key, label, self.milestone(key), self.duration(key)) for key, label in DURATIONS]

    @property
    def escalation_to_ack(self):
        if self.escalated_at is None or self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.escalated_at

    def count_steps(self, status):
        return sum(1 for s in self.steps if s.status == status)

    @property
    def followed_routine(self):
        """No step late and none left undone (None while the incident is still live)."""
        if not self.is_ended:
            return None
        return not any(s.status in (StepStatus.LATE, StepStatus.SKIPPED) for s in self.steps)


def _as_datetime(value):
    if value is None or isinstance(value, datetime):
        return value
    return parse_datetime(value)


def _step_def(definitions, scenario_key, step_key):
    scenario = definitions.get(scenario_key)
    if scenario is None:
        return None
    step_key = step_key.split("~", 1)[0]  # a repeated step ("renew_prognosis~2") is its first
    return next((s for s in scenario.steps if s.key == step_key), None)


def derive(events, *, reserve_after=None, routine=None):
    """Walk one incident's timeline, oldest first, and return its ``Derived`` milestones.

    The first of each kind of transition counts (an incident reclassified and escalated
    twice was reported to SA when it first was). A prognosis counts only when it names a
    time; "ingen prognos" is SA's answer but not a prognosis. The reserve routine started
    early when a person started it before the routine's 4 hours from the disruption began.

    ``routine`` is the routine version the incident ran under (``Incident.routine``): its
    steps and its 4 hours are the ones the report holds the incident to. A timeline with no
    incident (built by hand) is held to version 1 as the code defines it.
    """
    definitions = routine.scenarios if routine is not None else scenarios.SCENARIOS
    if reserve_after is None:
        reserve_after = (
            loader.duration(routine, "reserve_routine_after") if routine is not None else settings.RESERVE_ROUTINE_AFTER
        )
    d = Derived()
    tasks = {}  # task id (or step key for hand-built timelines) -> StepOutcome
    scenario = ""
    for event in sorted(events, key=lambda e: e.at):
        data = event.data or {}
        kind = event.kind
        if kind == REPORTED:
            if d.reported_at is None:
                d.reported_at = event.at
                scenario = data.get("scenario", "")
                d.first_scenario = scenario
                d.began_at = _as_datetime(data.get("began_at")) or event.at
        elif kind == RECLASSIFIED:
            d.reclassifications.append((event.at, data.get("from", ""), data.get("to", "")))
            scenario = data.get("to", scenario)
        elif kind == TRANSITION:
            name = data.get("name")
            d.state = data.get("to", d.state)
            attr = {
                "escalate": "escalated_at",
                "acknowledge": "acknowledged_at",
                "activate_reserve_routine": "reserve_at",
                "resolve": "resolved_at",
                "close": "closed_at",
                "cancel": "cancelled_at",
            }.get(name)
            if attr and getattr(d, attr) is None:
                setattr(d, attr, event.at)
                if name == "activate_reserve_routine":
                    d.reserve_by_hand = event.actor_id is not None
            if name == "close" and data.get("review"):
                d.review = data["review"]
        elif kind == PROGNOSIS:
            if d.first_prognosis_at is None and data.get("expected_at"):
                d.first_prognosis_at = event.at
        elif kind == TASK_CREATED:
            step_key = data.get("step", "")
            task_scenario = data.get("scenario") or scenario
            step = _step_def(definitions, task_scenario, step_key)
            due_at = _as_datetime(data.get("due_at"))
            if due_at is None and step is not None and step.within is not None:
                due_at = event.at + step.within
            tasks[data.get("task_id") or (task_scenario, step_key)] = StepOutcome(
                scenario=task_scenario,
                step_key=step_key,
                role=data.get("role", step.role if step else ""),
                text=str(step.instruction) if step else getattr(event, "message", ""),
                status=StepStatus.OPEN,
                created_at=event.at,
                due_at=due_at,
            )
        elif kind == TASK_DONE:
            outcome = tasks.get(data.get("task_id") or (data.get("scenario") or scenario, data.get("step")))
            if outcome is None:
                outcome = next(
                    (t for t in tasks.values() if t.step_key == data.get("step") and t.done_at is None),
                    None,
                )
            if outcome is not None and outcome.done_at is None:
                outcome.done_at = event.at
                outcome.done_by = getattr(event, "actor_label", "")
                outcome.via = data.get("via")
                late = outcome.due_at is not None and event.at > outcome.due_at
                outcome.status = StepStatus.LATE if late else StepStatus.ON_TIME
                if data.get("moot"):
                    # Ended by the system because it could no longer be done: not done.
                    outcome.status = StepStatus.SKIPPED
        elif kind == NOTIFICATION:
            d.notices.append(
                Notice(
                    at=event.at,
                    message=getattr(event, "message", ""),
                    channel=data.get("channel", ""),
                    status=data.get("status", ""),
                )
            )
        elif kind == NOTE:
            if getattr(event, "note", ""):
                d.notes.append(event.note)

    d.scenario = scenario
    if d.reserve_at is not None and d.reserve_by_hand and d.began_at is not None:
        d.reserve_early = d.reserve_at < d.began_at + reserve_after

    steps = list(tasks.values())
    if d.is_ended:
        for outcome in steps:
            if outcome.status == StepStatus.OPEN:
                outcome.status = StepStatus.SKIPPED
    made = {(s.scenario, s.step_key) for s in steps}
    for key in dict.fromkeys([d.first_scenario] + [to for _at, _from, to in d.reclassifications]):
        definition = definitions.get(key)
        if definition is None:
            continue
        for step in definition.steps:
            if (key, step.key) not in made:
                steps.append(
                    StepOutcome(
                        scenario=key,
                        step_key=step.key,
                        role=step.role,
                        text=str(step.instruction),
                        status=StepStatus.NOT_DUE,
                    )
                )
    d.steps = steps
    return d


def seconds(delta: timedelta | None):
    return None if delta is None else int(delta.total_seconds())


def percentile(values, fraction):
    """Linear-interpolated percentile, as PostgreSQL's ``percentile_cont`` computes it."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)
