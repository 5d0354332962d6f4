"""Reports and calls made on a device while the network was down, received when it is back.

Each is one transaction: the incident (or the call) as the page would make it, with the time
it was made on the device, one timeline entry that says it was registered offline and when it
arrived, and the ``OfflineSubmission`` row that makes a resend harmless.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import services as incident_services
from incidents import times
from incidents.models import Incident, TimelineEvent
from incidents.services import ActionRefused
from incidents.timeline import log_event

from .models import OfflineSubmission

# The timeline entry's data key, read by whoever asks whether an incident came offline.
OFFLINE_DATA_KEY = "offline"


def received(client_id):
    """The submission with this device id, if it already arrived."""
    return OfflineSubmission.objects.select_related("incident").filter(pk=client_id).first()


def _device_time(made_at, now):
    """When it was made on the device, through the bounds every time the app takes has
    (``incidents.times.recorded_at``). A clock a little ahead of the server's counts as now."""
    try:
        at = times.recorded_at(made_at, now)
    except times.OutOfBounds as exc:
        refusal = exc
    else:
        return min(at, now)
    raise ActionRefused(lambda: refusal.message, code="invalid")


def _clock(at, beside):
    """ "08:02", or the whole date when it is another day than ``beside``."""
    local, other = timezone.localtime(at), timezone.localtime(beside)
    return local.strftime("%H:%M") if local.date() == other.date() else local.strftime("%Y-%m-%d %H:%M")


def _log_offline(incident, user, kind, made_at, now, client_id):
    message = (
        _("Registrerad offline på enhet kl. %(made)s, skickad %(sent)s")
        if kind == OfflineSubmission.Kind.INCIDENT
        else _("Samtal registrerat offline på enhet kl. %(made)s, skickat %(sent)s")
    ) % {"made": _clock(made_at, now), "sent": _clock(now, made_at)}
    log_event(
        incident,
        TimelineEvent.Kind.NOTE,
        message,
        actor=user,
        data={
            OFFLINE_DATA_KEY: {
                "kind": kind,
                "client_id": str(client_id),
                "made_at": made_at.isoformat(),
                "received_at": now.isoformat(),
            }
        },
        at=now,
    )


def _once(client_id, make):
    """Run ``make`` in one transaction unless this id has arrived; returns (submission, created).

    Two sends of the same id at once: the second waits on the first's primary key and then
    finds its row, and everything it made itself is rolled back.
    """
    existing = received(client_id)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return make(), True
    except IntegrityError:
        existing = received(client_id)
        if existing is None:
            raise
        return existing, False


def submit_report(
    user, *, client_id, made_at, scenario, summary, began_at=None, triage=None, confirmed=(), routine=None
):
    """A disruption reported on the device while offline: an incident reported at that time.

    ``routine``: the key of the routine (IT system) it was reported in, default the app's own;
    the service checks that the scenario is one of its version in force.
    ``confirmed``: the warnings the person confirmed on the device (``NeedsConfirmation``).
    """

    def make():
        now = timezone.now()
        at = _device_time(made_at, now)
        incident = incident_services.open_incident(
            user,
            routine=routine,
            scenario=scenario,
            summary=summary,
            began_at=began_at or at,
            triage=triage,
            reported_at=at,
            confirmed=confirmed,
        )
        _log_offline(incident, user, OfflineSubmission.Kind.INCIDENT, at, now, client_id)
        return OfflineSubmission.objects.create(
            client_id=client_id,
            kind=OfflineSubmission.Kind.INCIDENT,
            user=user,
            incident=incident,
            made_at=at,
            received_at=now,
        )

    return _once(client_id, make)


def submit_caller_report(
    user, incident_id, *, client_id, made_at, functions, error_message="", prescribers=1, since=None, confirmed=()
):
    """A call registered on the device while offline, on an incident whose page was open."""

    def make():
        now = timezone.now()
        at = _device_time(made_at, now)
        if not Incident.objects.filter(pk=incident_id).exists():
            raise ActionRefused(_("Störningen finns inte."), code="not_found")
        incident_services.log_caller_report(
            user,
            incident_id,
            functions=functions,
            error_message=error_message,
            prescribers=prescribers,
            since=since,
            at=at,
            confirmed=confirmed,
        )
        incident = Incident.objects.get(pk=incident_id)
        _log_offline(incident, user, OfflineSubmission.Kind.CALLER_REPORT, at, now, client_id)
        return OfflineSubmission.objects.create(
            client_id=client_id,
            kind=OfflineSubmission.Kind.CALLER_REPORT,
            user=user,
            incident=incident,
            made_at=at,
            received_at=now,
        )

    return _once(client_id, make)
