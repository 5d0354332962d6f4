"""The five ways a message leaves the app, each a small class behind one interface.

``send(notification)`` returns the receiver's status code on success, or raises
``TransientError`` (worth retrying: transport errors, timeouts, 5xx, 408, 429) or
``PermanentError`` (a 4xx or a missing endpoint: retrying the same request will not help).
Every request carries the notification's idempotency key, so a retry after a lost answer is
recognised by the receiver instead of published twice.
"""

import smtplib
import threading

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from runbook import drill_endpoints

from . import stubs
from .models import Channel


class TransientError(Exception):
    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code


class PermanentError(Exception):
    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code


RETRYABLE_4XX = {408, 425, 429}


def _timeout():
    return httpx.Timeout(
        connect=settings.NOTIFY_CONNECT_TIMEOUT,
        read=settings.NOTIFY_READ_TIMEOUT,
        write=settings.NOTIFY_READ_TIMEOUT,
        pool=settings.NOTIFY_CONNECT_TIMEOUT,
    )


_client = None
_client_lock = threading.Lock()


def http_client():
    """One client per process: building one loads the CA bundle, far slower than a request."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(timeout=_timeout())
    return _client


class HttpChannel:
    """POST the notification's payload as JSON to the endpoint in ``setting``."""

    setting = ""
    # The channel's drill endpoint, for a drill's notices (runbook/drill_endpoints.py); a
    # channel without one (mail, SMS) sends a drill's messages through its real gateway, to
    # the drill's participants only (chosen when they are written).
    drill_channel = ""
    # Each message states the whole current state of its reference (on/off, published or
    # withdrawn): a later one makes an earlier undelivered one obsolete, and it is not sent.
    # Channels whose every message says something of its own (e-mail) keep them all, in order.
    replaces_earlier = False

    def url(self, notification=None):
        """Where ``notification`` goes: a drill's notice only ever to the drill endpoint."""
        if notification is not None and notification.drill and self.drill_channel:
            refused = drill_endpoints.problem(self.drill_channel)
            if refused:
                raise PermanentError(_("Övningsmeddelandet skickas inte: %(why)s") % {"why": refused})
            return drill_endpoints.drill_url(self.drill_channel)
        return getattr(settings, self.setting, "")

    def body(self, notification):
        return {
            **notification.payload,
            "subject": notification.subject,
            "body": notification.body,
            "recipient": notification.recipient,
        }

    def send(self, notification, **_kwargs):
        url = self.url(notification)
        if not url:
            raise PermanentError(f"{self.setting} är inte inställd")
        try:
            response = http_client().post(
                url,
                json=self.body(notification),
                headers={"Idempotency-Key": notification.idempotency_key, **stubs.headers_for(url)},
                timeout=_timeout(),  # per request: the settings may change while a worker runs
            )
        except httpx.TransportError as exc:
            raise TransientError(f"{exc.__class__.__name__}: {exc}"[:500]) from exc
        code = response.status_code
        if code >= 500 or code in RETRYABLE_4XX:
            raise TransientError(f"HTTP {code}", code)
        if code >= 400:
            raise PermanentError(f"HTTP {code}: {response.text[:200]}", code)
        return code


class VardgivareSkane(HttpChannel):
    """Notis på Vårdgivare Skåne: publish, later withdraw."""

    replaces_earlier = True

    setting = "VARDGIVARE_SKANE_URL"
    drill_channel = "vardgivare_skane"


class Driftinfo(HttpChannel):
    """Begäran till regionala IT-funktionen om driftinfo (only IT publishes driftinfo)."""

    replaces_earlier = True

    setting = "DRIFTINFO_URL"
    drill_channel = "driftinfo"


class Telephony(HttpChannel):
    """Lavinmeddelande på telefonslingan: on with its text, off."""

    replaces_earlier = True

    setting = "TELEPHONY_URL"
    drill_channel = "telephony"


class Email(HttpChannel):
    """E-post: to EMAIL_URL (an HTTP mail gateway; the stub in the demo) or by SMTP."""

    setting = "EMAIL_URL"

    def send(self, notification, mail_connection=None):
        if self.url():
            return super().send(notification)
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.recipient],
            headers={
                "Idempotency-Key": notification.idempotency_key,
                "Message-ID": f"<{notification.idempotency_key}@driftstorning.hjalpmedel>",
            },
            connection=mail_connection or get_connection(timeout=settings.EMAIL_TIMEOUT),
        )
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            if mail_connection is not None:
                mail_connection.close()
            raise PermanentError(f"SMTP: mottagaren avvisad: {exc}"[:500]) from exc
        except OSError as exc:  # socket errors and smtplib's SMTPException alike
            if mail_connection is not None:
                mail_connection.close()  # the next message in the batch opens a fresh one
            code = getattr(exc, "smtp_code", None)
            if code and 500 <= code < 600:
                raise PermanentError(f"SMTP {code}: {exc}"[:500], code) from exc
            raise TransientError(f"{exc.__class__.__name__}: {exc}"[:500], code) from exc
        return 250


class Sms(HttpChannel):
    """SMS through an HTTP SMS gateway: one number, one text of at most 160 characters."""

    setting = "SMS_URL"

    def body(self, notification):
        return {
            "to": notification.recipient,
            "text": notification.body,
            "reference": notification.payload.get("reference", ""),
        }


def mail_connection():
    """An SMTP connection a batch of e-mails can share (None when mail goes over HTTP)."""
    if settings.EMAIL_URL:
        return None
    return get_connection(timeout=settings.EMAIL_TIMEOUT)


CHANNELS = {
    Channel.VARDGIVARE_SKANE: VardgivareSkane(),
    Channel.DRIFTINFO: Driftinfo(),
    Channel.TELEPHONY: Telephony(),
    Channel.EMAIL: Email(),
    Channel.SMS: Sms(),
}


def get(channel):
    return CHANNELS[channel]
