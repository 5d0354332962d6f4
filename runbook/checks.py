"""System checks of this app's own settings (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def stubs_only_in_demo(app_configs=None, **kwargs):
    """The stub receivers show every message the app sent: never outside demo mode."""
    if settings.STUBS_ENABLED and not settings.DEMO_MODE:
        return [
            Error(
                "STUBS_ENABLED is on outside demo mode: the stub receivers would stand in for the "
                "real Vårdgivare Skåne, driftinfo, telephony and mail endpoints.",
                hint="Set STUBS_ENABLED=0 and the real *_URL settings, or run with DEMO_MODE=1.",
                id="runbook.E001",
            )
        ]
    return []


@register(Tags.security)
def oidc_configured_whole(app_configs=None, **kwargs):
    """Sign-in through the region's provider needs its secret and a role map naming the
    app's roles; a break-glass administrator is what is left when the provider is down."""
    from .scenarios import Role

    if not (settings.OIDC_ISSUER or settings.OIDC_CLIENT_ID):
        return []
    problems = []
    if not (settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET):
        problems.append(
            Error(
                "OIDC sign-in is half configured: OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all needed.",
                id="runbook.E020",
            )
        )
    unknown = sorted({role for role in settings.OIDC_ROLE_MAP.values() if role not in Role.ALL})
    if unknown or not settings.OIDC_ROLE_MAP:
        problems.append(
            Error(
                f"OIDC_ROLE_MAP maps to no role or to unknown roles {unknown}: nobody could sign in "
                "with the roles meant.",
                hint=f"VALUE=role pairs, the roles being {', '.join(Role.ALL)}.",
                id="runbook.E021",
            )
        )
    if not settings.OIDC_BREAK_GLASS_USERS:
        problems.append(
            Warning(
                "OIDC_BREAK_GLASS_USERS names nobody: when the identity provider is down, nobody can sign in.",
                id="runbook.W022",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def address_lists_hold_addresses(app_configs=None, **kwargs):
    """TRUSTED_PROXIES and METRICS_ALLOWED_NETWORKS: an entry that is no address or network
    matches nobody. A mistyped proxy would make every visitor share the proxy's lock-out; a
    mistyped network shuts Prometheus out."""
    from .client import not_networks

    problems = []
    for name in ("TRUSTED_PROXIES", "METRICS_ALLOWED_NETWORKS"):
        wrong = not_networks(getattr(settings, name))
        if wrong:
            problems.append(
                Error(
                    f"{name} holds entries that are no IP address or network: {', '.join(map(repr, wrong))}.",
                    hint="Comma-separated addresses or networks, e.g. 10.0.0.5,172.30.57.0/24.",
                    id="runbook.E015",
                )
            )
    return problems


@register("drills")
def drill_endpoints_apart(app_configs=None, **kwargs):
    """A drill's notices go only to the drill endpoints: one unset, or the same as a real
    endpoint, keeps every drill from starting (runbook/drill_endpoints.py). Said at start-up."""
    from django.utils import translation

    from . import drill_endpoints

    with translation.override("en"):
        found = drill_endpoints.problems()
    return [
        Warning(
            f"Drills cannot start: {problem}",
            hint="Set DRILL_VARDGIVARE_SKANE_URL, DRILL_DRIFTINFO_URL and DRILL_TELEPHONY_URL to drill "
            "receivers, never to a real endpoint (the default is the app's own /stubs/ovning/<channel>/).",
            id="runbook.W030",
        )
        for problem in found
    ]
