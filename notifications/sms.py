"""SMS back into the app: a reply with the code, and the short link in the SMS.

The gateway calls the inbound webhook with ``X-Sms-Timestamp`` (Unix seconds) and
``X-Sms-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + body`` with the shared
secret. A call is refused when the signature is wrong, when the timestamp is further than
SMS_WEBHOOK_MAX_SKEW from now, or when the same signed call was accepted before (a replay).
A reply from the phone an escalation SMS went to, holding that SMS's code, acknowledges the
escalation, once.
"""

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from incidents import services as incident_services
from incidents.services import ActionRefused
from incidents.timeline import in_record_language

from . import ack
from .models import SmsAck, SmsWebhookCall
from .recipients import sms_number

log = logging.getLogger(__name__)
SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 10_000


class WebhookRefused(Exception):
    def __init__(self, reason, status=403):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def webhook_secret():
    """The shared secret; in the demo (stubs on) one derived from SECRET_KEY if none is set,
    so that the SMS stub can sign the replies it simulates."""
    if settings.SMS_WEBHOOK_SECRET:
        return settings.SMS_WEBHOOK_SECRET
    if settings.STUBS_ENABLED:
        return salted_hmac("notifications.sms-webhook.demo", "secret", algorithm="sha256").hexdigest()
    return ""


def sign(body, timestamp, secret=None):
    """The signature header's value for ``body`` (bytes) sent at ``timestamp`` (Unix seconds)."""
    key = (secret if secret is not None else webhook_secret()).encode()
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + mac


def _verify(body, timestamp, signature, now):
    secret = webhook_secret()
    if not secret:
        raise WebhookRefused("webhook not configured (SMS_WEBHOOK_SECRET)", status=503)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused("body too large", status=413)
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise WebhookRefused("missing or malformed timestamp") from None
    if not hmac.compare_digest(sign(body, timestamp, secret), signature or ""):
        raise WebhookRefused("wrong signature")
    if abs(now - signed_at) > settings.SMS_WEBHOOK_MAX_SKEW:
        raise WebhookRefused("timestamp outside the allowed window")
    return signed_at


def receive(body, timestamp, signature, now=None):
    """One call of the inbound webhook: verify it, then act on the reply it carries.

    Returns a small dict for the gateway; raises WebhookRefused for a call to refuse.
    """
    now = now or timezone.now()
    signed_at = _verify(body, timestamp, signature, now)
    try:
        message = json.loads(body)
    except ValueError:
        raise WebhookRefused("body is not JSON", status=400) from None
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("from"), str)
        or not isinstance(message.get("text"), str)
    ):
        raise WebhookRefused('expected {"from": ..., "text": ...}', status=400)
    with transaction.atomic():
        try:
            with transaction.atomic():
                call = SmsWebhookCall.objects.create(
                    signature=signature.removeprefix(SIGNATURE_PREFIX)[:64],
                    signed_at=signed_at,
                    received_at=now,
                )
        except IntegrityError:
            raise WebhookRefused("replayed call") from None
        outcome = _act_on_reply(sms_number(message["from"]), message["text"][:1000], now)
        call.outcome = outcome
        call.save(update_fields=["outcome"])
    # Forget what can no longer be replayed (older than the window).
    SmsWebhookCall.objects.filter(signed_at__lt=now - 2 * settings.SMS_WEBHOOK_MAX_SKEW).delete()
    return {"outcome": outcome, "acknowledged": outcome == "acknowledged"}


def _act_on_reply(phone, text, now):
    codes = ack.codes_in(text)
    if not phone or not codes:
        return "no_code"
    row = SmsAck.objects.select_for_update().filter(code__in=codes, phone=phone).order_by("-created_at").first()
    if row is None:
        return "unknown_code"
    if row.used_at is not None:
        return "used"
    if row.expires_at <= now:
        return "expired"
    note = _("Kvitterad med SMS-svar från %(who)s") % {"who": row.recipient_label}
    try:
        with in_record_language(), transaction.atomic():
            incident_services.fire(None, row.incident_id, "acknowledge", note=note)
    except ActionRefused:
        return "not_escalated"  # already acknowledged, or no longer waiting for it
    row.used_at = now
    row.used_via = "reply"
    row.save(update_fields=["used_at", "used_via"])
    return "acknowledged"


def ack_for_link(token):
    """The SmsAck a short link stands for, or ack.LinkRefused with the reason."""
    code = ack.sms_code_from_token(token)
    row = SmsAck.objects.filter(code=code).first()
    if row is None:
        raise ack.LinkRefused("invalid")
    if row.used_at is not None:
        raise ack.LinkRefused("used")
    if row.expires_at <= timezone.now():
        raise ack.LinkRefused("expired")
    return row


def acknowledge_from_link(user, token):
    """The POST from the confirmation page the SMS's link opens: the code is used up with it."""
    with transaction.atomic():
        row = ack_for_link(token)
        row = SmsAck.objects.select_for_update().get(pk=row.pk)
        if row.used_at is not None:
            raise ack.LinkRefused("used")
        incident = incident_services.acknowledge(user, row.incident_id, note=_("Kvitterad via länk i SMS"))
        row.used_at = timezone.now()
        row.used_via = "link"
        row.save(update_fields=["used_at", "used_via"])
    return incident
