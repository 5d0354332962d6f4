"""Writing the outbox and delivering from it.

``on_timeline_event`` runs inside the transaction that wrote a timeline event: the rows it
writes commit or roll back with that event, and Celery is told only after commit.
``deliver`` claims one row for a bounded time, sends it outside any transaction (so a slow
receiver holds no lock), then records the outcome. A worker that dies mid-send leaves the row
pending; once the claim runs out the sweep sends it again with the same idempotency key.
"""

import hashlib
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import permissions as incident_permissions
from incidents import services as incident_services
from incidents import stamps
from incidents.models import Incident, TimelineEvent
from incidents.reports import format_duration
from incidents.services import ActionRefused
from incidents.timeline import in_record_language, log_event

from . import ack, channels, messages, recipients, rules
from .models import Channel, Notification

log = logging.getLogger(__name__)
Status = Notification.Status
SWEEP_BATCH = 500


# --- writing -----------------------------------------------------------------------------

def on_timeline_event(event):
    """React to one timeline event (in its transaction): write the messages its rules send.

    The outbox rows and their timeline entries are written in the record language, not that
    of whoever acted; the texts themselves are Swedish (messages.render).
    """
    with in_record_language():
        return _on_timeline_event(event)


def _on_timeline_event(event):
    if event.kind == TimelineEvent.Kind.NOTIFICATION:
        return []  # our own events; reacting to them would recurse
    incident = event.incident
    written = []
    for rule in rules.rules_for(event, incident.scenario):
        if rule.only_after and not Notification.objects.filter(
            incident=incident, channel=rule.only_after[0], action=rule.only_after[1]
        ).exists():
            continue
        written += _write(rule, incident, event)
    if written:
        ids = [n.pk for n in written]
        transaction.on_commit(lambda: enqueue(ids))
    return written


def _key(incident, event, rule, recipient):
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"hjm-{incident.pk}-{event.pk}-{rule.key}-{digest}"


def _write(rule, incident, event):
    now = timezone.now()
    label = Channel(rule.channel).label
    rows = []
    if rule.channel == Channel.EMAIL:
        found = recipients.resolve(rule.recipients)
        for r in found:
            ack_url = ack.make_url(r.user, incident) if rule.ack_link and r.user else ""
            subject, body, payload = messages.render(
                rule, incident, recipient_name=r.name, ack_url=ack_url,
                reason=(event.data or {}).get("reason", ""),
            )
            rows.append(Notification(
                incident=incident, cause_event_id=event.pk, rule=rule.key, channel=rule.channel,
                action=rule.action, recipient=r.email, recipient_user=r.user, subject=subject,
                body=body, payload=payload, idempotency_key=_key(incident, event, rule, r.email),
                created_at=now, next_attempt_at=now,
            ))
        if not rows:
            log_event(
                incident, TimelineEvent.Kind.NOTIFICATION,
                _("Inga mottagare med e-post för ”%(rule)s” – kontakta dem på annat sätt.")
                % {"rule": rule.when_label},
                data={"rule": rule.key, "channel": rule.channel, "count": 0},
            )
            return []
    elif rule.channel == Channel.SMS:
        rows = _sms_rows(rule, incident, event, now)
        if not rows:
            return []
    else:
        subject, body, payload = messages.render(rule, incident)
        rows.append(Notification(
            incident=incident, cause_event_id=event.pk, rule=rule.key, channel=rule.channel,
            action=rule.action, recipient=str(label), subject=subject, body=body, payload=payload,
            idempotency_key=_key(incident, event, rule, rule.channel),
            created_at=now, next_attempt_at=now,
        ))
    rows = Notification.objects.bulk_create(rows, batch_size=500)
    first = rows[0]
    log_event(
        incident, TimelineEvent.Kind.NOTIFICATION,
        (_("Meddelande köat till %(channel)s: %(subject)s") if len(rows) == 1
         else _("Meddelande köat till %(channel)s (%(n)d mottagare): %(subject)s"))
        % {"channel": label, "subject": first.subject, "n": len(rows)},
        data={"rule": rule.key, "channel": rule.channel, "action": rule.action,
              "count": len(rows), "notification_ids": [n.pk for n in rows[:20]]},
        at=now,
    )
    return rows


def _sms_rows(rule, incident, event, now):
    """One SMS per contact number, each with its own acknowledge code (a row of SmsAck)."""
    found, skipped = recipients.resolve_phones(rule.recipients)
    for contact in skipped:
        log_event(
            incident, TimelineEvent.Kind.NOTIFICATION,
            _("Inget SMS till %(who)s: numret %(phone)s tar inte emot SMS – ring i stället.")
            % {"who": f"{contact.get_kind_display()} {contact.name}", "phone": contact.phone or "–"},
            data={"rule": rule.key, "channel": rule.channel, "count": 0, "contact_id": contact.pk},
        )
    if not found:
        if not skipped:
            log_event(
                incident, TimelineEvent.Kind.NOTIFICATION,
                _("Inga mottagare med mobilnummer för SMS om ”%(rule)s” – kontakta dem på annat sätt.")
                % {"rule": rule.when_label},
                data={"rule": rule.key, "channel": rule.channel, "count": 0},
            )
        return []
    rows = []
    for r in found:
        code = link = ""
        if rule.ack_link:
            code = _new_sms_ack(incident, r, now).code
            link = ack.sms_url(code)
        subject, body, payload = messages.render_sms(
            rule, incident, code=code, link=link, reason=(event.data or {}).get("reason", ""))
        rows.append(Notification(
            incident=incident, cause_event_id=event.pk, rule=rule.key, channel=rule.channel,
            action=rule.action, recipient=r.phone, subject=subject, body=body, payload=payload,
            idempotency_key=_key(incident, event, rule, r.phone), created_at=now, next_attempt_at=now,
        ))
    return rows


def _new_sms_ack(incident, recipient, now):
    from .models import SmsAck

    for _attempt in range(5):
        code = ack.new_sms_code()
        if not SmsAck.objects.filter(code=code).exists():
            break
    return SmsAck.objects.create(
        code=code, incident=incident, phone=recipient.phone, recipient_label=recipient.label[:250],
        created_at=now, expires_at=now + settings.ACK_LINK_MAX_AGE,
    )


# --- telling Celery ----------------------------------------------------------------------

BATCH = 25


def enqueue(ids):
    """After commit: ring the doorbell. If the broker is away, the sweep delivers anyway."""
    from runbook import doorbell

    from . import tasks

    for start in range(0, len(ids), BATCH):
        if not doorbell.ring(tasks.deliver_batch, (ids[start:start + BATCH],)):
            break  # the broker is away: the sweep sends these (and stays quick for the person)


# --- delivering --------------------------------------------------------------------------

def backoff(attempts):
    delay = settings.NOTIFY_BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, settings.NOTIFY_BACKOFF_MAX)


def _claim(notification_id, now):
    return Notification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=notification_id, status=Status.PENDING, next_attempt_at__lte=now,
    ).update(
        claimed_until=now + settings.NOTIFY_CLAIM_TIMEOUT,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
    )


def deliver(notification_id, *, mail_connection=None):
    """Send one message if it is pending, due and not being sent by someone else.

    Returns the new status, or None when there was nothing to do.
    """
    now = timezone.now()
    if not _claim(notification_id, now):
        return None
    notification = Notification.objects.select_related("incident").get(pk=notification_id)
    stamps.touch(notification.incident_id)  # its attempts are shown
    try:
        code = channels.get(notification.channel).send(notification, mail_connection=mail_connection)
    except channels.PermanentError as exc:
        return _failed(notification, str(exc), exc.status_code, final=True)
    except channels.TransientError as exc:
        return _failed(notification, str(exc), exc.status_code, final=False)
    except Exception as exc:  # noqa: BLE001 - an unexpected error is retried, not lost
        log.exception("Unexpected error sending notification %s", notification_id)
        return _failed(notification, f"{exc.__class__.__name__}: {exc}", None, final=False)
    return _sent(notification, code)


@transaction.atomic
def _sent(notification, code):
    now = timezone.now()
    done = Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
        status=Status.SENT, sent_at=now, claimed_until=None, last_status_code=code, last_error="",
    )
    if done:
        stamps.touch(notification.incident_id)
    if done and notification.channel != Channel.EMAIL:
        log_event(
            notification.incident, TimelineEvent.Kind.NOTIFICATION,
            _("Skickat till %(channel)s: %(subject)s")
            % {"channel": notification.get_channel_display(), "subject": notification.subject},
            data={"notification_id": notification.pk, "status": Status.SENT},
            at=now,
        )
    if done and notification.resent_at is not None:
        # Sent on a resend after it had failed: the task of doing it by hand is done.
        incident_services.settle_manual_task(notification.incident, key=f"notification-{notification.pk}")
    return Status.SENT


@transaction.atomic
def _failed(notification, error, code, *, final):
    now = timezone.now()
    deadline = notification.window_start + settings.NOTIFY_MAX_AGE
    if not final and now >= deadline:
        final = True
        error = _("%(error)s – gav upp efter %(age)s") % {
            "error": error, "age": format_duration(settings.NOTIFY_MAX_AGE)}
    if not final:
        next_at = min(now + backoff(notification.attempts), deadline)
        Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
            claimed_until=None, next_attempt_at=next_at, last_error=error[:500], last_status_code=code,
        )
        stamps.touch(notification.incident_id)
        delay = max((next_at - now).total_seconds(), 0)
        transaction.on_commit(lambda: _retry_later(notification.pk, delay))
        return Status.PENDING
    updated = Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
        status=Status.FAILED, failed_at=now, claimed_until=None, last_error=error[:500],
        last_status_code=code,
    )
    if updated:
        stamps.touch(notification.incident_id)
        _hand_to_a_person(notification, error)
    return Status.FAILED


def _retry_later(notification_id, delay):
    from runbook import doorbell

    from . import tasks

    doorbell.ring(tasks.deliver, (notification_id,), countdown=delay)  # else the sweep, when due


def _hand_to_a_person(notification, error):
    role, label = rules.MANUAL_FALLBACK[notification.channel]
    text = f"{label}: {notification.subject}"
    if notification.channel in (Channel.EMAIL, Channel.SMS):
        text += f" ({notification.recipient})"
    log_event(
        notification.incident, TimelineEvent.Kind.NOTIFICATION,
        _("Meddelandet kunde inte skickas till %(channel)s: %(subject)s")
        % {"channel": notification.get_channel_display(), "subject": notification.subject},
        note=error,
        data={"notification_id": notification.pk, "status": Status.FAILED},
    )
    incident_services.add_manual_task(
        notification.incident, role, text,
        reason=_("Meddelandet kunde inte skickas: %(error)s") % {"error": error},
        key=f"notification-{notification.pk}",
    )


def due_ids(now=None, limit=SWEEP_BATCH):
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=Status.PENDING, next_attempt_at__lte=now,
        ).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]
    )


def deliver_many(notification_ids):
    """Deliver several, sharing one SMTP connection among the e-mails."""
    results = {}
    connection = channels.mail_connection()
    try:
        for notification_id in notification_ids:
            results[notification_id] = deliver(notification_id, mail_connection=connection)
    finally:
        if connection is not None:
            connection.close()
    return results


def _deliver_in_thread(notification_ids):
    from django.db import connection

    try:
        return deliver_many(notification_ids)
    finally:
        connection.close()  # this thread's own connection


def sweep():
    """Send whatever is pending and due: what the broker lost, and retries whose time came.

    A backlog (everything the broker lost) is spread over NOTIFY_SWEEP_THREADS threads, so one
    slow receiver or a thousand e-mails do not hold up the rest.
    """
    ids = due_ids()
    threads = max(1, min(settings.NOTIFY_SWEEP_THREADS, len(ids)))
    if threads == 1:
        return deliver_many(ids)
    from concurrent.futures import ThreadPoolExecutor

    chunks = [ids[i::threads] for i in range(threads)]
    results = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for part in pool.map(_deliver_in_thread, chunks):
            results.update(part)
    return results


# --- a person's resend -------------------------------------------------------------------

def resend(user, notification_id):
    if not user.has_perm("notifications.resend_notification"):
        raise ActionRefused(_("Du har inte behörighet att skicka om meddelanden."), code="forbidden")
    with transaction.atomic():
        try:
            notification = Notification.objects.select_for_update().select_related("incident").get(
                pk=notification_id)
        except Notification.DoesNotExist:
            raise ActionRefused(_("Meddelandet finns inte."), code="not_found") from None
        if not notification.may_resend:
            raise ActionRefused(_("Meddelandet kan inte skickas om just nu."))
        now = timezone.now()
        notification.status = Status.PENDING
        notification.resent_at = now
        notification.next_attempt_at = now
        notification.claimed_until = None
        notification.failed_at = None
        notification.save(update_fields=["status", "resent_at", "next_attempt_at", "claimed_until", "failed_at"])
        log_event(
            notification.incident, TimelineEvent.Kind.NOTIFICATION,
            _("Skickas om till %(channel)s: %(subject)s")
            % {"channel": notification.get_channel_display(), "subject": notification.subject},
            actor=user, data={"notification_id": notification.pk, "status": "resent"},
        )
        transaction.on_commit(lambda: enqueue([notification.pk]))
    return notification


def acknowledge_from_link(user, token):
    """The POST from the confirmation page: the link is used up in the same transaction."""
    from .models import AckLinkUse

    incident_id, nonce = ack.read_token(token, user)
    try:
        with transaction.atomic():
            # Posts of one link at once (a double click, a resubmitted page) queue here on the
            # incident's row; each then sees whether the one before used the link.
            Incident.objects.select_for_update().filter(pk=incident_id).first()
            if AckLinkUse.objects.filter(nonce=nonce).exists():
                raise ack.LinkRefused("used")
            AckLinkUse.objects.create(nonce=nonce, user=user, incident_id=incident_id)
            incident = incident_services.acknowledge(user, incident_id, note=_("Kvitterad via länk i e-post"))
    except IntegrityError:
        # The unique nonce: another post used the link between our check and our write.
        raise ack.LinkRefused("used") from None
    return incident


def may_view_rules(user):
    return user.is_authenticated and user.has_perm("notifications.view_notification_rules")


def may_resend(user):
    return incident_permissions.has(user, "view_incident") and user.has_perm(
        "notifications.resend_notification")
