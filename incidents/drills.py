"""Övningar: drills of the routine, run through the same state machine, tasks, timers and
pages as a real incident (an ``Incident`` with ``is_drill``), under the routine version in
force when they start, with the clocks sped up ``time_scale`` times.

Who may lead one (``may_lead``), starting one (``start_drill``) and breaking one off
(``break_off``) live here; the pages and the API call these.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routines import loader
from runbook import roles
from runbook.errors import ActionRefused
from runbook.scenarios import Role

from . import events, flows
from .models import DRILL_MAX_TIME_SCALE, Drill, Incident, TimelineEvent
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
    )
    drill = Drill.objects.create(incident=incident, leader=user, started_at=now)
    drill.participants.set(people)
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
