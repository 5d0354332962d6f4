"""Shared set-up for notification delivery tests: the stubs behind a live server."""

from datetime import timedelta

CHANNELS = ("vardgivare_skane", "driftinfo", "telephony", "email")


def point_at_stubs(settings, base_url):
    settings.STUBS_ENABLED = True
    settings.SITE_URL = base_url
    settings.VARDGIVARE_SKANE_URL = f"{base_url}/stubs/vardgivare_skane/"
    settings.DRIFTINFO_URL = f"{base_url}/stubs/driftinfo/"
    settings.TELEPHONY_URL = f"{base_url}/stubs/telephony/"
    settings.EMAIL_URL = f"{base_url}/stubs/email/"
    for channel in ("vardgivare_skane", "driftinfo", "telephony"):
        setattr(settings, f"DRILL_{channel.upper()}_URL", f"{base_url}/stubs/ovning/{channel}/")
    settings.NOTIFY_BACKOFF_BASE = timedelta(seconds=0)
    settings.NOTIFY_CONNECT_TIMEOUT = 2
    settings.NOTIFY_READ_TIMEOUT = 2


def worker_env(base_url, database_name, broker_url, **extra):
    import os

    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
        "CELERY_BROKER_URL": broker_url,
        "SITE_URL": base_url,
        "VARDGIVARE_SKANE_URL": f"{base_url}/stubs/vardgivare_skane/",
        "DRIFTINFO_URL": f"{base_url}/stubs/driftinfo/",
        "TELEPHONY_URL": f"{base_url}/stubs/telephony/",
        "EMAIL_URL": f"{base_url}/stubs/email/",
        "DRILL_VARDGIVARE_SKANE_URL": f"{base_url}/stubs/ovning/vardgivare_skane/",
        "DRILL_DRIFTINFO_URL": f"{base_url}/stubs/ovning/driftinfo/",
        "DRILL_TELEPHONY_URL": f"{base_url}/stubs/ovning/telephony/",
        "NOTIFY_BACKOFF_BASE_SECONDS": "0.2",
        "NOTIFY_SWEEP_SECONDS": "1",
        "TIMER_SWEEP_SECONDS": "1",
        "CONN_MAX_AGE": "0",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def stub_headers(**extra):
    """What the app's own deliveries send to a stub: the shared secret (notifications/stubs.py)."""
    from notifications import stubs

    return {stubs.HEADER: stubs.secret(), **extra}


def stub_viewer(make_user):
    """A signed-in person allowed to read the stubs and switch their mode."""
    from django.contrib.auth.models import Permission

    user = make_user(username="stubbvisare")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="notifications", codename="use_stubs"))
    return user
