"""The timeline: one function appends an event; nothing updates or deletes one."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from runbook.scenarios import Role

from . import permissions, stamps
from .models import TimelineEvent
from .signals import timeline_event_logged

log = logging.getLogger(__name__)
SYSTEM_LABEL = "Systemet"


def actor_label(user):
    if user is None:
        return SYSTEM_LABEL
    name = user.get_full_name() or user.get_username()
    roles = sorted(permissions.user_roles(user))
    if roles:
        return f"{name} ({', '.join(str(Role.label(r)) for r in roles)})"
    return name


def log_event(incident, kind, message, *, actor=None, note="", data=None, at=None):
    """Append one event to the incident's timeline: the only way history is written."""
    event = TimelineEvent.objects.create(
        incident=incident,
        at=at or timezone.now(),
        kind=kind,
        actor=actor,
        actor_label=actor_label(actor),
        message=str(message)[:500],
        note=note or "",
        data=data or {},
    )
    stamps.touch(incident)
    # Said in the log once it is history for good (a rolled-back event never was); the kind
    # and ids only, since the message may quote what a person wrote.
    transaction.on_commit(
        lambda: log.info(
            "Timeline event %s (%s) on incident %s",
            event.pk,
            kind,
            incident.pk,
            extra={"incident_id": incident.pk, "event_id": event.pk, "event_kind": str(kind)},
        )
    )
    # Receivers run inside the same transaction, so what they write commits with the event.
    timeline_event_logged.send(sender=TimelineEvent, event=event)
    return event


def in_record_language():
    """Timeline entries and tasks are written in the routine's language (LANGUAGE_CODE).

    They are shared by everyone on the incident, so they must not take the language of
    whoever happened to act. Pages and the API call services inside this; a refusal is
    translated back for the reader where a translation exists (messages without placeholders).
    """
    return translation.override(settings.LANGUAGE_CODE)
