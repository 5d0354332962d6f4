"""Signed acknowledge links in SA's e-mail: bound to one user and one incident, expiring,
single-use. Opening one shows a confirmation page; only the POST from it acknowledges.

The SMS to SA and the enhetschef carries a short code and a short signed link to the same
kind of confirmation page (below).
"""

import base64
import re
import secrets

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "notifications.ack-link"


class LinkRefused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason  # expired | invalid | used | foreign


def make_token(user, incident):
    return signing.dumps({"u": user.pk, "i": incident.pk, "n": secrets.token_urlsafe(16)}, salt=SALT, compress=True)


def make_url(user, incident):
    return settings.SITE_URL + reverse("notifications:ack", args=[make_token(user, incident)])


def read_token(token, user):
    """The (incident_id, nonce) a link is for, or LinkRefused with the reason."""
    from .models import AckLinkUse

    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ACK_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LinkRefused("expired") from None
    except signing.BadSignature:
        raise LinkRefused("invalid") from None
    if data.get("u") != user.pk:
        raise LinkRefused("foreign")
    if AckLinkUse.objects.filter(nonce=data["n"]).exists():
        raise LinkRefused("used")
    return data["i"], data["n"]


# --- by SMS ------------------------------------------------------------------------------
# An SMS holds at most 160 characters, so its link cannot carry a signed payload as the
# e-mail's does: it carries the SMS's code and a truncated HMAC of it (same secret key,
# its own salt). The code's row says which incident, until when, and whether it was used.
SMS_SALT = "notifications.ack-link.sms"
# No 0/O or 1/I: the code is also read off a phone screen and typed into a reply.
SMS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SMS_CODE_LENGTH = 6
SMS_CODE_PATTERN = re.compile(rf"\b[{SMS_CODE_ALPHABET}]{{{SMS_CODE_LENGTH}}}\b")
# 48 bits: together with the code's own 30 bits, the expiry and single use, far beyond guessing.
SMS_SIGNATURE_BYTES = 6


def _sms_signature(code):
    digest = salted_hmac(SMS_SALT, code, algorithm="sha256").digest()[:SMS_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_sms_code():
    return "".join(secrets.choice(SMS_CODE_ALPHABET) for _ in range(SMS_CODE_LENGTH))


def sms_token(code):
    return f"{code}{_sms_signature(code)}"


def sms_url(code):
    return settings.SITE_URL + reverse("notifications:sms_ack", args=[sms_token(code)])


def sms_code_from_token(token):
    """The code a short link carries, or LinkRefused("invalid") when it was not made here."""
    code, signature = token[:SMS_CODE_LENGTH], token[SMS_CODE_LENGTH:]
    if not constant_time_compare(signature, _sms_signature(code)):
        raise LinkRefused("invalid")
    return code


def codes_in(text):
    """Every well-formed code in a reply ("ok ABC234", "abc234")."""
    return SMS_CODE_PATTERN.findall((text or "").upper())
