"""The stub receivers' guard, in one place (Stubbmottagare).

The stubs stand in for Vårdgivare Skåne, driftinfo, the phone queue and mail in the demo and
in tests; what they show (every message the app sent, with acknowledge links and staff
addresses) and their mode switch are for a signed-in person with the permission
``notifications.use_stubs``. The endpoints the app itself delivers to take a shared secret
instead, in the ``X-Stub-Secret`` header: the app's own deliveries send it (``headers_for``),
nobody else knows it. Reading a stub's list as JSON (``?format=json``) takes either.

The secret is ``STUB_SECRET`` when set, else derived from ``SECRET_KEY``, so every process of
one installation (web, worker) agrees without configuration. A new stub channel guards its
views with ``may_view`` / ``has_secret`` and its senders add ``headers_for(url)``.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

HEADER = "X-Stub-Secret"
PERMISSION = "notifications.use_stubs"
# Where the stubs live: a request to any other address never carries the secret.
PATH_PREFIX = "/stubs/"


def secret():
    configured = getattr(settings, "STUB_SECRET", "")
    if configured:
        return configured
    return salted_hmac("notifications.stubs", "stub-secret", secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()


def is_stub_url(url):
    return urlsplit(url or "").path.startswith(PATH_PREFIX)


def headers_for(url):
    """The header to send with a delivery to ``url``: the secret, only to a stub."""
    return {HEADER: secret()} if is_stub_url(url) else {}


def has_secret(request):
    given = request.headers.get(HEADER, "")
    return bool(given) and constant_time_compare(given, secret())


def may_view(user):
    """A signed-in person allowed to read the stubs and switch their mode."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(PERMISSION))
