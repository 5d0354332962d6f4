"""System checks of this app's own settings (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


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
