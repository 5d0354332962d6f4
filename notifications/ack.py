"""Signed acknowledge links in SA's e-mail: bound to one user and one incident, expiring,
single-use. Opening one shows a confirmation page; only the POST from it acknowledges.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "notifications.ack-link"


class LinkRefused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason  # expired | invalid | used | foreign


def make_token(user, incident):
    return signing.dumps(
        {"u": user.pk, "i": incident.pk, "n": secrets.token_urlsafe(16)}, salt=SALT, compress=True
    )


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
