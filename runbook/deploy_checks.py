"""Production refuses a configuration that would quietly fail people (``check --deploy``).

Each of these once passed every other check: SA's escalation mail went to localhost:25, its
acknowledge links pointed at 127.0.0.1, or the fallback had nobody to call.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host):
    host = (host or "").strip("[]").lower()
    if not host or host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def site_url_reachable(app_configs=None, **kwargs):
    """Links in e-mails (SA's acknowledge link) use SITE_URL: it must be the app's real address."""
    host = urlsplit(settings.SITE_URL).hostname
    if is_loopback(host):
        return [
            Error(
                f"SITE_URL is {settings.SITE_URL!r}, an address only this machine can open: the links "
                "in the e-mails (SA's acknowledge link) would not work for anyone.",
                hint="Set SITE_URL to the address people use, e.g. https://driftstorning.example.se.",
                id="runbook.E010",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def mail_goes_somewhere(app_configs=None, **kwargs):
    """Without EMAIL_URL mail goes by SMTP to EMAIL_HOST; its default is this machine."""
    if settings.EMAIL_URL or not is_loopback(settings.EMAIL_HOST):
        return []
    return [
        Error(
            f"E-mail would go by SMTP to {settings.EMAIL_HOST}:{settings.EMAIL_PORT}, this machine, "
            "where no mail server runs: SA's escalation and every other e-mail would fail.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) "
            "to the region's mail relay, or EMAIL_URL to an HTTP mail gateway.",
            id="runbook.E011",
        )
    ]


# Its own tag: it opens a database connection, which the start-up's security checks do
# not need; `migrate` refuses the same configuration when MIGRATE_DATABASE_URL is set.
DATABASE_ROLE = "database_role"


@register(DATABASE_ROLE, deploy=True)
def app_role_cannot_rewrite_history(app_configs=None, **kwargs):
    """The app's PostgreSQL role may append to the timeline, never rewrite it (db_roles.py)."""
    from django.db import connection

    from runbook import db_roles

    try:
        powers = db_roles.rewrite_powers(connection)
    except DatabaseError:
        return []  # an unreachable database is /readyz's and E012's to report
    if not powers:
        return []
    return [
        Warning(
            f"The app connects to PostgreSQL as a role that could rewrite the timeline: {'; '.join(powers)}.",
            hint="Run migrations as the owner (MIGRATE_DATABASE_URL) and connect the app (DATABASE_URL) "
            "as a role of its own; README, Production: two database roles.",
            id="runbook.W013",
        )
    ]


@register(Tags.security, deploy=True)
def sms_replies_can_be_verified(app_configs=None, **kwargs):
    """SA and the enhetschef answer the escalation SMS through the gateway's signed webhook;
    without the shared secret every answer is refused and nobody learns that it was."""
    if not settings.SMS_URL or settings.SMS_WEBHOOK_SECRET or settings.STUBS_ENABLED:
        return []
    return [
        Error(
            "SMS_URL is set but SMS_WEBHOOK_SECRET is not: the SMS gateway's calls with the answers "
            "to the escalation SMS would all be refused.",
            hint="Set SMS_WEBHOOK_SECRET to the secret the SMS gateway signs its calls with, or "
            "leave SMS_URL empty to send no SMS.",
            id="runbook.E014",
        )
    ]


# A token at least this long is beyond guessing however often /metrics is asked: 32 characters
# of `secrets.token_urlsafe` hold 192 bits.
METRICS_TOKEN_MIN_LENGTH = 32


@register(Tags.security, deploy=True)
def metrics_token_cannot_be_guessed(app_configs=None, **kwargs):
    """/metrics counts no failed attempts: its token must be too long to guess instead."""
    token = settings.METRICS_TOKEN
    if not token or len(token) >= METRICS_TOKEN_MIN_LENGTH:
        return []
    return [
        Error(
            f"METRICS_TOKEN has {len(token)} characters: a short token can be guessed by asking /metrics "
            f"often enough. It needs at least {METRICS_TOKEN_MIN_LENGTH}.",
            hint="Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            id="runbook.E017",
        )
    ]
