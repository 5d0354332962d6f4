"""Övningar: drills of the routine, run through the same state machine, tasks, timers and
pages as a real incident (an ``Incident`` with ``is_drill``), under the routine version in
force when they start, with the clocks sped up ``time_scale`` times.

Who may lead one (``may_lead``), starting one (``start_drill``), breaking one off
(``break_off``) and the leader's injections (``inject``, what applies now:
``available_injections``, how they were answered: ``injections``) live here; the pages and
the API call these.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routines import loader
from runbook import drill_endpoints, roles
from runbook.errors import ActionRefused
from runbook.scenarios import Role

from . import events, flows, permissions, preconditions, services, signals, stamps, timers
from .models import DRILL_MAX_TIME_SCALE, Drill, Incident, State, TimelineEvent, Timer
from .services import SUMMARY_MAX, _clean_text, _locked, create_incident
from .timeline import log_event

# Who starts, leads and breaks off a drill of the routine.
LEADERS = {Role.VERKSAMHETSANSVARIG, Role.VERKSAMHETSSPECIALIST}
# At most this many people take part in one drill.
MAX_PARTICIPANTS = 50
BREAK_OFF_REASON_MAX = Drill._meta.get_field("broken_off_reason").max_length


def may_lead(user: User) -> bool:
    """Verksamhetsansvarig and Verksamhetsspecialist start and lead drills."""
    return bool(roles.user_roles(user) & LEADERS)


def may_break_off(user: User, incident: Incident) -> bool:
    """The drill's page offers "Avbryt övningen" exactly when ``break_off`` will accept it."""
    return incident.is_drill and not incident.is_ended and may_lead(user)


def _require_leader(user: User) -> None:
    if not may_lead(user):
        raise ActionRefused(
            _("Bara verksamhetsansvarig och verksamhetsspecialist kan starta och leda övningar."), code="forbidden"
        )


def _participants(ids: Iterable[int | str]) -> list[User]:
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError):
        raise ActionRefused(_("Okänd deltagare."), code="invalid") from None
    if not wanted:
        raise ActionRefused(_("Välj minst en deltagare."), code="invalid")
    if len(wanted) > MAX_PARTICIPANTS:
        raise ActionRefused(
            _("En övning kan ha högst %(n)d deltagare.") % {"n": MAX_PARTICIPANTS},
            code="invalid",
        )
    people = list(User.objects.filter(pk__in=wanted, is_active=True))
    if len(people) != len(wanted):
        raise ActionRefused(_("Okänd deltagare."), code="invalid")
    return people


def _time_scale(value: int | str) -> int:
    try:
        scale = int(value)
    except (TypeError, ValueError):
        scale = 0
    if not 1 <= scale <= DRILL_MAX_TIME_SCALE:
        raise ActionRefused(
            _("Tidsskalan ska vara ett heltal från 1 (realtid) till %(n)d.") % {"n": DRILL_MAX_TIME_SCALE},
            code="invalid",
        )
    return scale


@transaction.atomic
def start_drill(
    user: User,
    *,
    scenario: str,
    participants: Iterable[int | str],
    time_scale: int | str = 1,
    summary: str = "",
    routine: str | None = None,
) -> Incident:
    """Starta övning: an incident of ``scenario`` that is a drill, led by ``user``, in which
    ``participants`` (user ids) take part, its clocks ``time_scale`` times faster."""
    _require_leader(user)
    try:
        version = loader.in_force(routine)
    except loader.NoVersionInForce:
        raise ActionRefused(_("Okänd rutin."), code="invalid") from None
    if scenario not in version.scenarios:
        raise ActionRefused(_("Okänt scenario."), code="invalid")
    scale = _time_scale(time_scale)
    people = _participants(participants)
    unsafe = drill_endpoints.problems()
    if unsafe:
        # Its notices would have nowhere safe to go: nothing is made.
        raise ActionRefused(
            _("Övningen kan inte startas: %(problems)s") % {"problems": " ".join(unsafe)}, code="conflict"
        )
    summary = _clean_text(summary, _("Sammanfattning"), SUMMARY_MAX, required=False) or _("Övning: %(scenario)s") % {
        "scenario": version.scenario(scenario).title
    }
    now = timezone.now()
    incident = create_incident(
        user,
        version,
        scenario=scenario,
        summary=summary,
        began_at=now,
        reported_at=now,
        is_drill=True,
        time_scale=scale,
        # Who takes part is known before the first notices are written: only they are mailed.
        before_report=lambda incident: Drill.objects.create(
            incident=incident, leader=user, started_at=now
        ).participants.set(people),
    )
    return incident


@transaction.atomic
def break_off(user: User, incident_id: int, reason: str) -> Incident:
    """Avbryt övningen, at any point before it ends, with a reason kept on its timeline."""
    _require_leader(user)
    reason = _clean_text(reason, _("Skäl till avbrott"), BREAK_OFF_REASON_MAX)
    incident = _locked(incident_id)
    if not incident.is_drill:
        raise ActionRefused(_("Bara en övning kan avbrytas."), code="conflict")
    if incident.is_ended:
        raise ActionRefused(_("Övningen är redan avslutad."), code="conflict")
    previous = incident.state
    incident.break_off()
    incident.cancel_reason = reason
    incident.save()
    now = timezone.now()
    Drill.objects.filter(pk=incident.pk).update(broken_off_at=now, broken_off_by=user, broken_off_reason=reason)
    log_event(
        incident,
        TimelineEvent.Kind.TRANSITION,
        _("Övningen avbruten – status: %(state)s") % {"state": incident.get_state_display()},
        actor=user,
        note=reason,
        # Ended as a cancelled incident is (its notices withdrawn, its tasks retired).
        data={events.NAME: events.Transition.CANCEL, "from": previous, "to": incident.state, "broken_off": True},
        at=now,
    )
    flows.on_transition(incident, events.Transition.CANCEL, previous, actor=user)
    return incident


# --- injections (Inspel) -----------------------------------------------------------------

INJECTION_NOTE_MAX = 500
# The triage question whose "no" names the routine's scenario for a telephony fault.
PHONES_WORK = "phones_work"
# The prescriber who calls in an injected call: made up, no personal data.
INJECTED_CALLER = gettext_lazy("Förskrivare, vårdcentral (övning)")
INJECTED_CALLER_FUNCTIONS = gettext_lazy("Kan inte öppna Sesam LMN för att förskriva")
INJECTED_CALLER_ERROR = gettext_lazy("Servern svarar inte")

# What each injection is called, as the timeline says it ("Inspel: SA svarar inte").
INJECTION_LABELS = {
    events.Injection.SA_NO_ANSWER: gettext_lazy("SA svarar inte"),
    events.Injection.PROGNOSIS_PASSES: gettext_lazy("prognosen passerar"),
    events.Injection.TELEPHONY_DOWN: gettext_lazy("telefonin går ner"),
    events.Injection.CALLER: gettext_lazy("ett samtal från en förskrivare"),
}


def leads(user: User, incident: Incident) -> bool:
    """Is ``user`` the leader of this drill (and still one who may lead drills)? Only the
    leader injects: a Verksamhetsspecialist taking part must not see what is coming."""
    if not incident.is_drill or user is None or not user.is_authenticated:
        return False
    return Drill.objects.filter(pk=incident.pk, leader_id=user.pk).exists() and may_lead(user)


def telephony_scenario(incident: Incident) -> str | None:
    """The scenario the incident's routine version proposes when the phones do not work
    (version 1: ``telephony_fault``), or None when it names none."""
    version = incident.routine
    return next(
        (
            scenario
            for question, answer, scenario in version.triage_proposals
            if question == PHONES_WORK and answer is False and scenario in version.scenarios
        ),
        None,
    )


def _pending_timer(incident: Incident, kind: str) -> Timer | None:
    return Timer.objects.pending().filter(incident=incident, kind=kind).order_by("due_at", "id").first()


def _refusal(incident: Incident, kind: str, user: User, now: datetime) -> str | None:
    """Why this injection cannot be made on this drill now (Swedish, for the person), or None."""
    if not incident.is_drill:
        return _("Inspel går bara i en övning.")
    if not incident.is_live:
        return _("Inspel går bara medan övningen pågår.")
    if kind == events.Injection.SA_NO_ANSWER:
        if incident.state != State.ESCALATED or _pending_timer(incident, Timer.Kind.ACK_TIMEOUT) is None:
            return _(
                "”SA svarar inte” går bara när övningen är eskalerad till SA, inte kvitterad och "
                "enhetschefen för SA inte redan kontaktad."
            )
    elif kind == events.Injection.PROGNOSIS_PASSES:
        if not incident.has_valid_prognosis(now):
            return _("”Prognosen passerar” går bara när övningen har en prognos som ännu inte passerat.")
    elif kind == events.Injection.TELEPHONY_DOWN:
        scenario = telephony_scenario(incident)
        if scenario is None:
            return _("Rutinen har inget scenario för störningar i telefonin.")
        if incident.scenario == scenario:
            return _("Övningen gäller redan störningar i telefonin.")
        if not permissions.has(user, preconditions.ACTIONS["reclassify"].permission):
            return _("Du har inte behörighet att byta scenario.")
    elif kind == events.Injection.CALLER:
        if not permissions.has(user, preconditions.ACTIONS["caller_report"].permission):
            return _("Du har inte behörighet att registrera samtal.")
    else:
        return _("Okänt inspel.")
    return None


def available_injections(user: User, incident: Incident, now: datetime | None = None) -> list[tuple[str, str]]:
    """The injections this person may make on this drill now, as (kind, label): what the
    leader's inject panel offers. Empty for anyone but the drill's leader."""
    if not leads(user, incident):
        return []
    now = now or timezone.now()
    return [
        (kind, str(INJECTION_LABELS[kind]))
        for kind in events.Injection.ALL
        if _refusal(incident, kind, user, now) is None
    ]


@transaction.atomic
def inject(user: User, incident_id: int, kind: str, note: str = "") -> TimelineEvent:
    """Inspel: the drill's leader makes something go wrong while the drill runs, through the
    same services and timer engine as when it happens for real; the timeline says so first
    ("Inspel: SA svarar inte"), with what it set off (``events.CAUSED``), and
    ``injections`` reads how it was answered.

    - ``sa_no_answer``: the pending acknowledgement deadline fires now (``timers.fire_timer``),
      so SA's fallback and its tasks come as at that deadline, and only once.
    - ``prognosis_passes``: the prognosis is moved to now and its deadlines (the reminder, and
      the reserve routine's when the prognosis holds it) fire now through the timer engine.
    - ``telephony_down``: reclassified to the routine's telephony scenario (``reclassify``).
    - ``caller``: a made-up prescriber's call, logged as any call (``log_caller_report``).
    """
    note = _clean_text(note, _("Anteckning"), INJECTION_NOTE_MAX, required=False)
    if kind not in events.Injection.ALL:
        raise ActionRefused(_("Okänt inspel."), code="invalid")
    incident = _locked(incident_id)
    if not leads(user, incident):
        raise ActionRefused(_("Bara övningsledaren kan göra inspel i övningen."), code="forbidden")
    started = timezone.now()
    refusal = _refusal(incident, kind, user, started)
    if refusal is not None:
        raise ActionRefused(refusal, code="conflict")
    # What the injection sets off is what is written on this timeline while it runs (here,
    # not by a delivery elsewhere); its own entry is written last, at the moment it was asked
    # for, so the timeline shows it first.
    data: dict = {events.INJECTION: kind}
    with _written_here(incident.pk) as caused:
        if kind == events.Injection.SA_NO_ANSWER:
            data |= _sa_no_answer(incident)
        elif kind == events.Injection.PROGNOSIS_PASSES:
            data |= _prognosis_passes(incident, started)
        elif kind == events.Injection.TELEPHONY_DOWN:
            data |= _telephony_down(user, incident, note)
        else:
            data |= _caller(user, incident)
    data[events.CAUSED] = [e.pk for e in caused]
    data[events.CAUSED_TASKS] = [e.data["task_id"] for e in caused if e.kind == TimelineEvent.Kind.TASK_CREATED]
    message = _("Inspel: %(what)s") % {"what": INJECTION_LABELS[kind]}
    if kind == events.Injection.PROGNOSIS_PASSES:
        message = _("Inspel: prognosen %(time)s passerar nu") % {
            "time": timezone.localtime(datetime.fromisoformat(data["prognosis_was"])).strftime("%H:%M")
        }
    elif kind == events.Injection.CALLER:
        message = _("Inspel: ett samtal från en förskrivare (%(caller)s)") % {"caller": data["caller"]}
    return log_event(
        incident,
        TimelineEvent.Kind.INJECTED,
        message,
        actor=user,
        note=note,
        data=data,
        at=started,
    )


@contextmanager
def _written_here(incident_id: int) -> Iterator[list[TimelineEvent]]:
    """The events written on this incident's timeline by this thread meanwhile, in order."""
    written: list[TimelineEvent] = []
    thread = threading.get_ident()

    def collect(sender, event, **kwargs):
        if event.incident_id == incident_id and threading.get_ident() == thread:
            written.append(event)

    signals.timeline_event_logged.connect(collect, weak=False)
    try:
        yield written
    finally:
        signals.timeline_event_logged.disconnect(collect)


def _sa_no_answer(incident: Incident) -> dict:
    timer = cast(Timer, _pending_timer(incident, Timer.Kind.ACK_TIMEOUT))
    outcome = timers.fire_timer(timer.pk, incident.pk)
    return {"timer_id": timer.pk, "due_at": timer.due_at.isoformat(), "outcome": outcome}


def _prognosis_passes(incident: Incident, now: datetime) -> dict:
    """The prognosis passes now: its time moves to now (the timeline keeps what SA said and
    says it was moved), and the deadlines it sets or holds are fired as they would be then."""
    was = cast(datetime, incident.prognosis_at)
    incident.prognosis_at = now
    incident.save(update_fields=["prognosis_at", "updated_at"])
    stamps.touch(incident)
    moved = (
        Timer.objects.pending()
        .filter(incident=incident)
        .filter(Q(kind=Timer.Kind.PROGNOSIS_PASSED) | Q(kind=Timer.Kind.RESERVE_ROUTINE, due_at=was))
    )
    kinds = set(moved.values_list("kind", flat=True))
    flows.cancel_timers(incident, list(kinds), "injected")
    # In the order record_prognosis armed them (flows.on_action): the reminder first.
    armed = [flows.arm_timer(incident, Timer.Kind.PROGNOSIS_PASSED, now)]
    if Timer.Kind.RESERVE_ROUTINE in kinds:
        armed.append(flows.arm_timer(incident, Timer.Kind.RESERVE_ROUTINE, now))
    outcomes = {timer.kind: timers.fire_timer(timer.pk, incident.pk) for timer in armed}
    return {"prognosis_was": was.isoformat(), "timers": outcomes}


def _telephony_down(user: User, incident: Incident, note: str) -> dict:
    previous = incident.scenario
    scenario = cast(str, telephony_scenario(incident))
    services.reclassify(user, incident.pk, scenario, note=note or _("Inspel: telefonin går ner"))
    return {"from": previous, "to": scenario}


def _caller(user: User, incident: Incident) -> dict:
    event = services.log_caller_report(
        user,
        incident.pk,
        functions=str(INJECTED_CALLER_FUNCTIONS),
        error_message=str(INJECTED_CALLER_ERROR),
        prescribers=1,
    )
    return {"caller": str(INJECTED_CALLER), "caller_event_id": event.pk}


# --- how the injections were answered (the scorecard reads this) ---------------------------


@dataclass(frozen=True)
class Answer:
    """The first thing done in answer to an injection."""

    at: datetime
    what: str  # the timeline entry's message, as written
    who: str  # its actor, as shown then ("Systemet" when the app did it)
    after: timedelta  # from the injection, as the drill lived it
    after_real: timedelta  # the same in the routine's real time (``Incident.real_time``)


@dataclass(frozen=True)
class InjectionRecord:
    """One injection of a drill and how it was answered."""

    at: datetime
    kind: str  # ``events.Injection``
    label: str  # "SA svarar inte", in the reader's language
    message: str  # the timeline entry, as written
    who: str  # the leader, as shown then
    note: str
    caused: tuple[str, ...]  # the timeline entries it set off, in order
    answer: Answer | None  # None: not answered (yet)


_NOT_DONE_BY_ANYONE = {"moot", "ended"}


def injections(incident: Incident) -> list[InjectionRecord]:
    """The drill's injections, oldest first, each with what it set off and the first answer
    to it, read from the timeline (the incident's prefetched events, if any):

    - ``sa_no_answer``: the first of the fallback's tasks done (contact SA's enhetschef,
      the Servicedesk incident);
    - ``prognosis_passes``: the first prognosis recorded after it;
    - ``telephony_down``: the first of the telephony scenario's tasks it made done (the
      lavinmeddelande, driftinfo), by a person or by the app's delivery;
    - ``caller``: the first call logged or note written by a person, or Kundservice task
      ticked by a person, after it (the call itself is the injection's, not an answer).

    A task the system ended unfinished (moot, or a duty ended at resolve) is no answer.
    """
    timeline = sorted(incident.events.all(), key=lambda e: (e.at, e.pk))
    by_id = {e.pk: e for e in timeline}
    caused_by_any = {
        pk for e in timeline if e.kind == TimelineEvent.Kind.INJECTED for pk in e.data.get(events.CAUSED, ())
    }
    task_roles = dict(incident.tasks.values_list("pk", "role"))
    records = []
    for position, event in enumerate(timeline):
        if event.kind != TimelineEvent.Kind.INJECTED:
            continue
        kind = event.data.get(events.INJECTION, "")
        caused = [by_id[pk] for pk in event.data.get(events.CAUSED, ()) if pk in by_id]
        tasks = set(event.data.get(events.CAUSED_TASKS, ()))
        later = [e for e in timeline[position + 1 :] if e.pk not in caused_by_any]
        answer = next((e for e in later if _answers(kind, e, tasks, task_roles)), None)
        records.append(
            InjectionRecord(
                at=event.at,
                kind=kind,
                label=str(INJECTION_LABELS.get(kind, kind)),
                message=event.message,
                who=event.actor_label,
                note=event.note,
                caused=tuple(e.message for e in caused),
                answer=None
                if answer is None
                else Answer(
                    at=answer.at,
                    what=answer.message,
                    who=answer.actor_label,
                    after=answer.at - event.at,
                    after_real=incident.real_time(answer.at - event.at),
                ),
            )
        )
    return records


def _answers(kind: str, event: TimelineEvent, tasks: set[int], task_roles: dict[int, str]) -> bool:
    Kind = TimelineEvent.Kind
    done = event.kind == Kind.TASK_DONE and event.data.get("via") not in _NOT_DONE_BY_ANYONE
    if kind in (events.Injection.SA_NO_ANSWER, events.Injection.TELEPHONY_DOWN):
        return done and event.data.get("task_id") in tasks
    if kind == events.Injection.PROGNOSIS_PASSES:
        return event.kind == Kind.PROGNOSIS
    if kind == events.Injection.CALLER:
        if event.actor_id is None:
            return False
        if event.kind in (Kind.CALLER_REPORT, Kind.NOTE):
            return True
        return done and task_roles.get(event.data.get("task_id")) == Role.KUNDSERVICE
    return False
