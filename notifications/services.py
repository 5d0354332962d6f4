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

from incidents import events, stamps
from incidents import permissions as incident_permissions
from incidents import services as incident_services
from incidents.models import Incident, TimelineEvent
from incidents.services import ActionRefused
from incidents.timeline import in_record_language, log_event
from runbook import logs
from runbook.formatting import format_duration
from runbook.scenarios import Role

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
    # Every rule's condition is read before any message is written, so that one event's
    # messages do not decide each other (a "publish" written now is not "already out").
    applicable = [
        rule for rule in rules.rules_for(event, incident.scenario, incident.routine) if _condition_holds(rule, incident)
    ]
    written = []
    for rule in applicable:
        try:
            # A savepoint: a message that cannot be written leaves the action's own work intact.
            with transaction.atomic():
                written += _write(rule, incident, event)
        except Exception as exc:  # noqa: BLE001 - a fault in one message never blocks the routine
            log.exception("Rule %s could not write its message for event %s", rule.key, event.pk)
            not_queued(incident, event, exc, rule=rule)
    if written:
        ids = [n.pk for n in written]
        transaction.on_commit(lambda: enqueue(ids))
    return written


def reference_is_out(incident, channel):
    """Is something of this incident out on ``channel`` (put on, published, requested) and
    not taken back? Read from the last message decided on it, delivered or not."""
    last = (
        Notification.objects.filter(incident=incident, channel=channel)
        .order_by("-id")
        .values_list("action", flat=True)
        .first()
    )
    return last is not None and last not in rules.TAKE_BACK


def _condition_holds(rule, incident):
    if rule.only_after and not reference_is_out(incident, rule.only_after[0]):
        return False
    if rule.unless_out and reference_is_out(incident, rule.channel):
        return False
    return True


def not_queued(incident, event, exc, *, rule=None):
    """A message that could not even be written: the timeline says so and a person gets the
    task of doing it by hand. Never raises: the action that caused it must still succeed."""
    try:
        with transaction.atomic():
            channel = rule.channel if rule else Channel.EMAIL
            role, label = rules.MANUAL_FALLBACK[channel]
            what = rule.action_label if rule else _("meddelandet")
            log_event(
                incident,
                TimelineEvent.Kind.NOTIFICATION,
                _("Meddelandet kunde inte köas till %(channel)s: %(what)s – gör det för hand")
                % {"channel": Channel(channel).label, "what": what},
                note=f"{exc.__class__.__name__}: {exc}"[:500],
                data={
                    "rule": rule.key if rule else "",
                    "channel": channel,
                    "status": "not_queued",
                    "cause_event_id": event.pk,
                },
            )
            incident_services.add_manual_task(
                incident,
                role,
                f"{label}: {what}",
                reason=_("Meddelandet kunde inte köas: %(error)s") % {"error": f"{exc.__class__.__name__}: {exc}"},
                key=f"not-queued-{event.pk}-{rule.key if rule else 'all'}",
            )
    except Exception:  # noqa: BLE001 - logged; the routine goes on
        log.exception("Could not record that a message for event %s was not queued", event.pk)


def _key(incident, event, rule, recipient):
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"hjm-{incident.pk}-{event.pk}-{rule.key}-{digest}"


# A drill's messages say so plainly, whoever reads them (Swedish: read outside the app).
DRILL_MARK = "ÖVNING"
DRILL_PREFIX = f"{DRILL_MARK}: "
DRILL_EMAIL_HEAD = f"{DRILL_MARK} – detta är en övning, ingen verklig störning. Gör ingenting på riktigt."
SUBJECT_MAX = Notification._meta.get_field("subject").max_length


def _marked(text):
    return text if text.startswith(DRILL_MARK) else DRILL_PREFIX + text


def drill_marked(channel, rendered):
    """A drill's (subject, body, payload): the subject and every text starting "ÖVNING: ",
    the e-mail opening by saying it is a drill, the payload carrying ``"drill": true``."""
    subject, body, payload = rendered
    subject = _marked(subject)[:SUBJECT_MAX]
    if channel == Channel.EMAIL:
        body = f"{DRILL_EMAIL_HEAD}\n\n{body}"
    elif channel == Channel.SMS:
        body = _marked(body)[: messages.SMS_MAX_CHARS]
    else:
        body = _marked(body) if body else DRILL_MARK
    payload = {**payload, "drill": True}
    for name in ("title", "text"):
        if isinstance(payload.get(name), str) and payload[name]:
            payload[name] = _marked(payload[name])
    if channel == Channel.SMS:
        payload["text"] = body
    return subject, body, payload


def _row(rule, incident, event, now, recipient, rendered, *, key_for=None, recipient_user=None):
    """One message of ``rule`` for ``event`` to ``recipient``, due now; ``rendered`` is its
    subject, body and payload. Its idempotency key is made from ``key_for`` (default: the
    recipient), so that a retried event never writes it twice. A drill's message is marked
    ÖVNING here, and marked as a drill's: it goes only where a drill's may."""
    if incident.is_drill:
        rendered = drill_marked(rule.channel, rendered)
    subject, body, payload = rendered
    return Notification(
        drill=incident.is_drill,
        incident=incident,
        cause_event_id=event.pk,
        rule=rule.key,
        channel=rule.channel,
        action=rule.action,
        recipient=recipient,
        recipient_user=recipient_user,
        subject=subject,
        body=body,
        payload=payload,
        idempotency_key=_key(incident, event, rule, key_for or recipient),
        created_at=now,
        next_attempt_at=now,
    )


def _write(rule, incident, event):
    now = timezone.now()
    label = Channel(rule.channel).label
    rows = []
    if rule.channel == Channel.EMAIL:
        for kind, contact in recipients.without_email(rule.recipients):
            _call_instead(
                incident,
                kind,
                contact,
                key=f"call-{event.pk}-{kind}-{contact.pk if contact else 0}",
                why=_("ingen e-postadress"),
            )
        found = recipients.resolve(rule.recipients)
        if incident.is_drill:
            found, left_out = recipients.only_participants(incident, found)
            _not_sent_in_drill(incident, rule, [r.name for r in left_out])
            if not found:
                return []
        for r in found:
            ack_url = ack.make_url(r.user, incident) if rule.ack_link and r.user else ""
            subject, body, payload = messages.render(
                rule,
                incident,
                recipient_name=r.name,
                ack_url=ack_url,
                reason=(event.data or {}).get(events.REASON, ""),
            )
            rows.append(_row(rule, incident, event, now, r.email, (subject, body, payload), recipient_user=r.user))
        if not rows:
            log_event(
                incident,
                TimelineEvent.Kind.NOTIFICATION,
                _("Inga mottagare med e-post för ”%(rule)s” – kontakta dem på annat sätt.") % {"rule": rule.when_label},
                data={"rule": rule.key, "channel": rule.channel, "count": 0},
            )
            return []
    elif rule.channel == Channel.SMS:
        rows = _sms_rows(rule, incident, event, now)
        if not rows:
            return []
    else:
        subject, body, payload = messages.render(rule, incident)
        # The receiver of an HTTP channel is the channel itself.
        rows.append(_row(rule, incident, event, now, str(label), (subject, body, payload), key_for=rule.channel))
    rows = Notification.objects.bulk_create(rows, batch_size=500)
    first = rows[0]
    log_event(
        incident,
        TimelineEvent.Kind.NOTIFICATION,
        (
            _("Meddelande köat till %(channel)s: %(subject)s")
            if len(rows) == 1
            else _("Meddelande köat till %(channel)s (%(n)d mottagare): %(subject)s")
        )
        % {"channel": where(rule.channel, incident.is_drill), "subject": first.subject, "n": len(rows)},
        data={
            "rule": rule.key,
            "channel": rule.channel,
            "action": rule.action,
            "count": len(rows),
            "notification_ids": [n.pk for n in rows[:20]],
        },
        at=now,
    )
    return rows


def where(channel, drill):
    """The receiver a message goes to, as the timeline names it: a drill's notice to an HTTP
    channel reaches the drill's receiver, never the real one."""
    label = Channel(channel).label
    if drill and channels.get(channel).drill_channel:
        return _("övningens mottagare för %(channel)s") % {"channel": label}
    return label


NAMES_SHOWN = 10


def _not_sent_in_drill(incident, rule, names):
    """The timeline says who a drill's message was not sent to: those not taking part."""
    if not names:
        return
    shown = [n for n in names if n][:NAMES_SHOWN]
    log_event(
        incident,
        TimelineEvent.Kind.NOTIFICATION,
        _("ÖVNING: %(channel)s om ”%(rule)s” skickas inte till %(n)d mottagare som inte deltar i övningen%(names)s.")
        % {
            "channel": Channel(rule.channel).label,
            "rule": rule.when_label,
            "n": len(names),
            "names": f" ({', '.join(shown)}{', …' if len(shown) < len(names) else ''})" if shown else "",
        },
        data={"rule": rule.key, "channel": rule.channel, "status": "drill_not_sent", "count": len(names)},
    )


def _sms_text(rule, incident, event, code, link):
    """The SMS's (subject, text, payload); a drill's leaves room for "ÖVNING: " in one SMS,
    dropping the link before the code if both do not fit."""
    reason = (event.data or {}).get(events.REASON, "")
    rendered = messages.render_sms(rule, incident, code=code, link=link, reason=reason)
    if incident.is_drill and link and not messages.sms_fits(_marked(rendered[1])):
        rendered = messages.render_sms(rule, incident, code=code, link="", reason=reason)
    return rendered


def _sms_rows(rule, incident, event, now):
    """One SMS per contact number, each with its own acknowledge code (a row of SmsAck)."""
    found, skipped = recipients.resolve_phones(rule.recipients)
    if incident.is_drill:
        # Contacts are outside the drill; only a participant's own (a contact at their address).
        found, left_out = recipients.only_participating_phones(incident, found)
        _not_sent_in_drill(incident, rule, [r.label for r in left_out])
        _ids, emails = recipients.drill_participants(incident)
        skipped = [c for c in skipped if c.email.strip().lower() in emails]
        if not found:
            return []
    for contact in skipped:
        log_event(
            incident,
            TimelineEvent.Kind.NOTIFICATION,
            _("Inget SMS till %(who)s: numret %(phone)s tar inte emot SMS – ring i stället.")
            % {"who": f"{contact.get_kind_display()} {contact.name}", "phone": contact.phone or "–"},
            data={"rule": rule.key, "channel": rule.channel, "count": 0, "contact_id": contact.pk},
        )
    if not found:
        if not skipped:
            log_event(
                incident,
                TimelineEvent.Kind.NOTIFICATION,
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
        subject, body, payload = _sms_text(rule, incident, event, code, link)
        rows.append(_row(rule, incident, event, now, r.phone, (subject, body, payload)))
    return rows


def _new_sms_ack(incident, recipient, now):
    from .models import SmsAck

    for _attempt in range(5):
        code = ack.new_sms_code()
        if not SmsAck.objects.filter(code=code).exists():
            break
    return SmsAck.objects.create(
        code=code,
        incident=incident,
        phone=recipient.phone,
        recipient_label=recipient.label[:250],
        created_at=now,
        expires_at=now + settings.ACK_LINK_MAX_AGE,
    )


def _call_instead(incident, kind, contact, *, key, why):
    """Someone a rule should reach by e-mail cannot be: Verksamhetsspecialist is to ring them,
    and the timeline says that no one has been told. In a drill the task says the call is
    rehearsed, not made: the person named is real and is not taking part."""
    text = recipients.call_text(kind, contact)
    if incident.is_drill:
        text = _("ÖVNING, ring inte på riktigt: %(task)s") % {"task": text}
    log_event(
        incident,
        TimelineEvent.Kind.NOTIFICATION,
        _("Kan inte nås per e-post (%(why)s): %(text)s") % {"why": why, "text": text},
        data={"channel": Channel.EMAIL, "status": "call", "contact_id": contact.pk if contact else None},
    )
    incident_services.add_manual_task(
        incident,
        Role.VERKSAMHETSSPECIALIST,
        text,
        reason=_("Ingen är nådd per e-post: %(why)s.") % {"why": why},
        key=key,
    )


# --- telling Celery ----------------------------------------------------------------------

BATCH = 25
# The tasks (notifications/tasks.py) that call the functions below, rung by name.
DELIVER_TASK = "notifications.tasks.deliver"
DELIVER_BATCH_TASK = "notifications.tasks.deliver_batch"


def enqueue(ids):
    """After commit: ring the doorbell. If the broker is away, the sweep delivers anyway."""
    from runbook import doorbell

    for start in range(0, len(ids), BATCH):
        if not doorbell.ring(DELIVER_BATCH_TASK, (ids[start : start + BATCH],)):
            break  # the broker is away: the sweep sends these (and stays quick for the person)


# --- delivering --------------------------------------------------------------------------


def backoff(attempts):
    delay = settings.NOTIFY_BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, settings.NOTIFY_BACKOFF_MAX)


def same_reference(notification):
    """The messages about the same thing at the same receiver: one incident, one channel,
    one recipient (for the HTTP channels the recipient is the channel itself). Generic, so a
    new channel keeps its order without a rule of its own."""
    return Notification.objects.filter(
        incident_id=notification.incident_id,
        channel=notification.channel,
        recipient=notification.recipient,
    )


@transaction.atomic
def _claim(notification_id, now):
    """Take one message for sending, in the order its reference's messages were decided.

    The reference's pending messages up to this one are locked, oldest first (so two
    workers cannot deadlock or overtake each other). An earlier one being sent holds this one
    back (it is sent when that one is done: ``_ring_successors``); an earlier one waiting is,
    on a channel whose messages replace each other, made obsolete and never sent, and
    otherwise goes first.
    """
    target = Notification.objects.filter(pk=notification_id).only("incident_id", "channel", "recipient").first()
    if target is None:
        return 0
    group = list(
        same_reference(target).select_for_update().filter(status=Status.PENDING, id__lte=notification_id).order_by("id")
    )
    if not group or group[-1].pk != notification_id:
        return 0
    target, earlier = group[-1], group[:-1]
    if target.next_attempt_at > now or (target.claimed_until and target.claimed_until >= now):
        return 0
    if any(e.claimed_until and e.claimed_until >= now for e in earlier):
        return 0
    if earlier:
        if not channels.get(target.channel).replaces_earlier:
            return 0
        _supersede(earlier, target, now)
    return Notification.objects.filter(pk=notification_id).update(
        claimed_until=now + settings.NOTIFY_CLAIM_TIMEOUT,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
    )


def _supersede(earlier, later, now):
    """Undelivered messages made obsolete by a later one about the same reference."""
    Notification.objects.filter(pk__in=[e.pk for e in earlier], status=Status.PENDING).update(
        status=Status.SUPERSEDED,
        claimed_until=None,
        failed_at=None,
    )
    for e in earlier:
        _log_superseded(e, later, now, _("Skickas inte till %(channel)s, ersatt av ett senare meddelande: %(subject)s"))


def _log_superseded(earlier, later, now, text):
    """The timeline line for a message that ``later`` made obsolete; ``text`` takes the
    earlier message's channel and subject."""
    log_event(
        later.incident,
        TimelineEvent.Kind.NOTIFICATION,
        text % {"channel": earlier.get_channel_display(), "subject": earlier.subject},
        data={
            "notification_id": earlier.pk,
            "status": Status.SUPERSEDED,
            "by": later.pk,
            "channel": earlier.channel,
            "action": earlier.action,
        },
        at=now,
    )


def _retire_failed(later, now):
    """A later message about the same reference has been delivered: earlier ones that finally
    failed are obsolete. They are no longer counted as failed nor offered for resending, and
    what they asked a person to do by hand is done (their failure stays on the timeline)."""
    earlier = list(same_reference(later).select_for_update().filter(status=Status.FAILED, id__lt=later.pk))
    if not earlier:
        return
    Notification.objects.filter(pk__in=[e.pk for e in earlier]).update(status=Status.SUPERSEDED)
    for e in earlier:
        incident_services.settle_manual_task(later.incident, key=f"notification-{e.pk}", via="superseded")
        _log_superseded(
            e,
            later,
            now,
            _("Misslyckat meddelande till %(channel)s ersatt av ett senare som har skickats: %(subject)s"),
        )


def replaced_by_later(notification, later_exists):
    """Whether a message has been replaced by a later one about the same reference, so that
    resending it would tell the receiver something no longer true. ``later_exists`` says
    whether a later message about the same reference exists."""
    return channels.get(notification.channel).replaces_earlier and later_exists


def resendable(notification, later_exists):
    """A message a person may send again: it failed, or waits after a failed try, and no later
    message about the same reference has replaced it."""
    return notification.may_resend and not replaced_by_later(notification, later_exists)


def _ring_successors(notification):
    """After commit: the reference's later messages, held back by this one, may go now."""
    ids = list(
        same_reference(notification)
        .filter(status=Status.PENDING, id__gt=notification.pk)
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    )
    if ids:
        # Where the last replaces the rest, only it is worth sending; else each in turn.
        wake = ids[-1:] if channels.get(notification.channel).replaces_earlier else ids
        transaction.on_commit(lambda: enqueue(wake))


def deliver(notification_id, *, mail_connection=None):
    """Send one message if it is pending, due and not being sent by someone else.

    Returns the new status, or None when there was nothing to do.
    """
    with logs.bound(notification_id=notification_id):
        now = timezone.now()
        if not _claim(notification_id, now):
            return None
        notification = Notification.objects.select_related("incident").get(pk=notification_id)
        with logs.bound(incident_id=notification.incident_id):
            status = _attempt(notification, mail_connection)
            log.log(
                logging.WARNING if status == Status.FAILED else logging.INFO,
                "Notification %s on %s, attempt %s: %s",
                notification_id,
                notification.channel,
                notification.attempts,
                status,
                extra={"channel": notification.channel, "status": status},
            )
            return status


def _attempt(notification, mail_connection):
    stamps.touch(notification.incident_id, listed=False)  # its attempts are shown, not in the list
    try:
        code = channels.get(notification.channel).send(notification, mail_connection=mail_connection)
    except channels.PermanentError as exc:
        return _failed(notification, str(exc), exc.status_code, final=True)
    except channels.TransientError as exc:
        return _failed(notification, str(exc), exc.status_code, final=False)
    except Exception as exc:  # noqa: BLE001 - an unexpected error is retried, not lost
        log.exception("Unexpected error sending notification %s", notification.pk)
        return _failed(notification, f"{exc.__class__.__name__}: {exc}", None, final=False)
    return _sent(notification, code)


@transaction.atomic
def _sent(notification, code):
    now = timezone.now()
    done = Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
        status=Status.SENT,
        sent_at=now,
        claimed_until=None,
        last_status_code=code,
        last_error="",
    )
    if not done:
        return Status.SENT
    # Sent is shown on the incident page; what it changes in the list (a task done, a failed
    # notice superseded) comes with its own touch below.
    stamps.touch(notification.incident_id, listed=False)
    contact = recipients.contact_for(notification.recipient) if notification.channel == Channel.EMAIL else None
    if notification.channel != Channel.EMAIL or contact is not None:
        # Role members' mail shows in Meddelanden; a contact outside the app, as the channels,
        # is worth a line in the timeline: now, and only now, they have been told.
        log_event(
            notification.incident,
            TimelineEvent.Kind.NOTIFICATION,
            (
                _("Skickat till %(channel)s: %(subject)s")
                if contact is None
                else _("E-post levererad till %(name)s: %(subject)s")
            )
            % {
                "channel": where(notification.channel, notification.drill),
                "subject": notification.subject,
                "name": contact.name if contact else "",
            },
            data={
                "notification_id": notification.pk,
                "status": Status.SENT,
                "channel": notification.channel,
                "action": notification.action,
            },
            at=now,
        )
    if notification.resent_at is not None:
        # Sent on a resend after it had failed: the task of doing it by hand is done.
        incident_services.settle_manual_task(notification.incident, key=f"notification-{notification.pk}")
    if channels.get(notification.channel).replaces_earlier:
        _retire_failed(notification, now)
    incident_services.steps_delivered(
        notification.incident_id, notification.channel, notification.action, notification.subject
    )
    _ring_successors(notification)
    return Status.SENT


@transaction.atomic
def _failed(notification, error, code, *, final):
    now = timezone.now()
    deadline = notification.window_start + settings.NOTIFY_MAX_AGE
    if not final and now >= deadline:
        final = True
        error = _("%(error)s – gav upp efter %(age)s") % {
            "error": error,
            "age": format_duration(settings.NOTIFY_MAX_AGE),
        }
    if not final:
        next_at = min(now + backoff(notification.attempts), deadline)
        Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
            claimed_until=None,
            next_attempt_at=next_at,
            last_error=error[:500],
            last_status_code=code,
        )
        stamps.touch(notification.incident_id, listed=False)  # still pending: the list counts failed ones
        delay = max((next_at - now).total_seconds(), 0)
        transaction.on_commit(lambda: _retry_later(notification.pk, delay))
        _ring_successors(notification)
        return Status.PENDING
    updated = Notification.objects.filter(pk=notification.pk, status=Status.PENDING).update(
        status=Status.FAILED,
        failed_at=now,
        claimed_until=None,
        last_error=error[:500],
        last_status_code=code,
    )
    if updated:
        stamps.touch(notification.incident_id)
        _hand_to_a_person(notification, error)
        _ring_successors(notification)
    return Status.FAILED


def _retry_later(notification_id, delay):
    from runbook import doorbell

    doorbell.ring(DELIVER_TASK, (notification_id,), countdown=delay)  # else the sweep, when due


def _hand_to_a_person(notification, error):
    role, label = rules.MANUAL_FALLBACK[notification.channel]
    text = f"{label}: {notification.subject}"
    contact = recipients.contact_for(notification.recipient) if notification.channel == Channel.EMAIL else None
    if contact is not None:
        # A contact outside the app (the enhetschef för SA) is rung instead.
        role, text = Role.VERKSAMHETSSPECIALIST, recipients.call_text(contact.kind, contact)
    elif notification.channel in (Channel.EMAIL, Channel.SMS):
        text += f" ({notification.recipient})"
    if notification.drill and channels.get(notification.channel).drill_channel:
        # A drill's notice: nobody is to publish it on the real receiver by hand.
        text = _("ÖVNING, gör det inte på riktigt: %(task)s") % {"task": text}
    log_event(
        notification.incident,
        TimelineEvent.Kind.NOTIFICATION,
        _("Meddelandet kunde inte skickas till %(channel)s: %(subject)s")
        % {"channel": where(notification.channel, notification.drill), "subject": notification.subject},
        note=error,
        data={"notification_id": notification.pk, "status": Status.FAILED},
    )
    incident_services.add_manual_task(
        notification.incident,
        role,
        text,
        reason=_("Meddelandet kunde inte skickas: %(error)s") % {"error": error},
        key=f"notification-{notification.pk}",
    )


def due_ids(now=None, limit=SWEEP_BATCH):
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=Status.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
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
            notification = Notification.objects.select_for_update().select_related("incident").get(pk=notification_id)
        except Notification.DoesNotExist:
            raise ActionRefused(_("Meddelandet finns inte."), code="not_found") from None
        if not notification.may_resend:
            raise ActionRefused(_("Meddelandet kan inte skickas om just nu."))
        if replaced_by_later(notification, same_reference(notification).filter(id__gt=notification.pk).exists()):
            raise ActionRefused(_("Ett senare meddelande om samma sak har ersatt detta; det skickas inte om."))
        now = timezone.now()
        notification.status = Status.PENDING
        notification.resent_at = now
        notification.next_attempt_at = now
        notification.claimed_until = None
        notification.failed_at = None
        notification.save(update_fields=["status", "resent_at", "next_attempt_at", "claimed_until", "failed_at"])
        log_event(
            notification.incident,
            TimelineEvent.Kind.NOTIFICATION,
            _("Skickas om till %(channel)s: %(subject)s")
            % {"channel": notification.get_channel_display(), "subject": notification.subject},
            actor=user,
            data={"notification_id": notification.pk, "status": "resent"},
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
    return incident_permissions.has(user, "view_incident") and user.has_perm("notifications.resend_notification")
