"""The shapes of the JSON API (``/api/v1/``): what it reads and what it answers.

The OpenAPI document is made from these. Allowed values (states, transitions) are taken from
the state machine, never listed a second time here. A scenario is a key of a routine's
version, which is data: the schema says its shape, the service checks it against the version
the incident starts under.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, AwareDatetime

from routines.document import SCENARIO_KEY_MAX

from . import permissions, times
from .models import Incident, State, TimelineEvent


def _in_utc(value: datetime) -> datetime:
    # The outer bounds every stored time keeps (incidents/times.py); the rule of each
    # field (not in the future, at most so many days ahead) is the service's.
    times.stored(value)
    return value.astimezone(UTC)


ApiDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""An ISO 8601 time with its UTC offset (RFC 3339), e.g. ``2025-03-30T14:00:00+02:00``."""

# Keys are letters, digits, `_` and `-` (docs/routine-format.md); which exist is data.
KEY_PATTERN = r"^[-a-zA-Z0-9_]+$"
ROUTINE_KEY_MAX = 60  # routines.models.Routine.key
ScenarioKey = Annotated[
    str,
    Field(
        pattern=KEY_PATTERN,
        max_length=SCENARIO_KEY_MAX,
        description="A scenario's key in the routine's version (`GET /api/v1/scenarios?routine=KEY`).",
    ),
]
RoutineKey = Annotated[
    str,
    Field(
        pattern=KEY_PATTERN,
        max_length=ROUTINE_KEY_MAX,
        description="A routine's key, one per IT system (`sesam-lmn`, the app's own).",
    ),
]
StateName = Literal[tuple(State.values)]
TransitionName = Literal[tuple(permissions.TRANSITION_ORDER)]
PrognosisKind = Literal[tuple(Incident.PrognosisKind.values)]
EventKind = Literal[tuple(TimelineEvent.Kind.values)]
Phase = Literal["live", "ended"]
ErrorCode = Literal[
    "unauthorized", "forbidden", "not_found", "conflict", "invalid", "rate_limited", "unavailable", "error"
]

# Ids are PostgreSQL bigints; a larger number names nothing.
MAX_ID = 2**63 - 1
SUMMARY_MAX = Incident._meta.get_field("summary").max_length
NOTE_MAX = 4000


# --- errors ---------------------------------------------------------------------------------


class FieldError(Schema):
    field: str = Field(description="Where the bad value is, e.g. `summary` or `query.limit`.")
    message: str


class Error(Schema):
    """Every refusal has this shape, whatever the status."""

    code: ErrorCode = Field(description="Machine-readable; one per HTTP status.")
    message: str = Field(description="For a person, in the request's language (Swedish by default).")
    errors: list[FieldError] = Field(default_factory=list, description="Per-field detail for `invalid`.")


ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 429: Error}
READ_ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}


# --- the routine ----------------------------------------------------------------------------


class StepOut(Schema):
    key: str
    role: str
    role_label: str
    instruction: str = Field(description="The routine's words.")
    due_on: StateName | Literal["timer:sa_fallback", "timer:prognosis_passed"] = Field(
        description="The incident state (or timer) whose arrival makes the step a task."
    )
    within_seconds: int | None = Field(description="How soon after becoming due; null: no stated limit.")
    done_by: str | None = Field(description="The transition or action that does this step, if any.")


class ScenarioOut(Schema):
    key: ScenarioKey
    routine: RoutineKey
    system: str = Field(description="The IT system the routine is for, e.g. `Sesam LMN`.")
    title: str
    routine_text: str
    routine_version: str
    caller_script: list[str]
    steps: list[StepOut]


# --- incidents: input -----------------------------------------------------------------------


class IncidentIn(Schema):
    routine: RoutineKey | None = Field(
        None,
        description=(
            "The routine (IT system) the disruption is in; default the app's own, `sesam-lmn`. The "
            "incident is pinned to its version in force, and `scenario` must be one of that version's "
            "(else `invalid`, with the field named)."
        ),
    )
    scenario: ScenarioKey
    summary: str = Field(max_length=SUMMARY_MAX, description="What is wrong, in a sentence or two.")
    began_at: ApiDateTime | None = Field(
        None, description="When the disruption began, if earlier than now (the 4-hour clock runs from it)."
    )
    note: str = Field("", max_length=NOTE_MAX)
    confirm: list[Literal["reservrutin-direkt", "personnummer"]] = Field(
        default_factory=list,
        max_length=2,
        description=(
            "Warnings you confirm. Without them a report whose start puts the 4-hour deadline "
            "in the past (`reservrutin-direkt`: the reserve routine and its public notice start "
            "at once), or whose text looks like it holds a personnummer (`personnummer`), is "
            "refused with `invalid` and the keys to confirm in `errors`."
        ),
    )


class ReviewIn(Schema):
    what_happened: str = Field(..., max_length=NOTE_MAX, description="Vad hände (required).")
    deviations: str = Field("", max_length=NOTE_MAX, description="Avvikelser från rutinen.")
    actions: str = Field("", max_length=NOTE_MAX, description="Åtgärder.")


class TransitionIn(Schema):
    note: str = Field(
        "",
        max_length=NOTE_MAX,
        description="Written to the timeline. For `cancel` it is the reason, and required.",
    )
    review: ReviewIn | None = Field(
        None,
        description="Verksamhetsansvarig's review; required for `close`.",
    )


class PrognosisIn(Schema):
    expected_at: ApiDateTime | None = Field(
        ..., description="When Sesam LMN is expected back; null records “Ingen prognos”."
    )
    note: str = Field("", max_length=NOTE_MAX)


class IncidentFilters(Schema):
    state: StateName | None = None
    routine: RoutineKey | None = Field(None, description="Only incidents of this routine (IT system).")
    scenario: ScenarioKey | None = None
    phase: Phase | None = Field(
        None, description="`live`: not closed or cancelled (as the live list); `ended`: closed or cancelled."
    )
    opened_after: ApiDateTime | None = Field(None, description="Reported at or after this time.")
    opened_before: ApiDateTime | None = Field(None, description="Reported before this time.")
    drill: bool = Field(
        False, description="`false` (the default): real incidents only; `true`: drills (övningar) only."
    )
    limit: int = Field(25, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


# --- incidents: output ----------------------------------------------------------------------


class PrognosisOut(Schema):
    kind: PrognosisKind = Field(description="`missing`, `none` (“Ingen prognos”) or `at`.")
    label: str
    expected_at: datetime | None
    passed: bool = Field(description="A prognosis time has passed while the incident is live: it counts as missing.")


class TaskOut(Schema):
    id: int
    role: str
    role_label: str
    text: str
    due_at: datetime | None
    done: bool
    done_at: datetime | None
    done_by: str | None


class TimerOut(Schema):
    name: str
    due_at: datetime
    state: str
    label: str = ""
    attempts: int = Field(0, description="Failed attempts to fire it (shown from 3 on).")


class NotificationOut(Schema):
    id: int
    channel: str
    action: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


class EventOut(Schema):
    id: int
    at: datetime
    kind: EventKind
    actor: str
    message: str
    note: str


class TransitionOut(Schema):
    name: TransitionName
    label: str


class IncidentSummaryOut(Schema):
    id: int
    routine: RoutineKey
    system: str = Field(description="The IT system of the incident's routine.")
    scenario: ScenarioKey
    scenario_title: str = Field(description="The scenario's title in the routine version the incident is pinned to.")
    state: StateName
    state_label: str
    summary: str
    began_at: datetime
    reported_at: datetime
    reported_by: str
    ended_at: datetime | None
    prognosis: PrognosisOut
    is_drill: bool = Field(description="An övning (drill), not a real disruption.")
    time_scale: int = Field(description="How many times faster a drill's clocks run; 1 for a real incident.")


class IncidentOut(IncidentSummaryOut):
    routine_version: str
    servicedesk_ref: str
    vendor_contact: str
    cancel_reason: str
    timers: list[TimerOut]
    tasks: list[TaskOut]
    timeline: list[EventOut]
    notifications: list[NotificationOut]
    transitions: list[TransitionOut] = Field(description="What the caller may fire now.")


class IncidentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[IncidentSummaryOut]
