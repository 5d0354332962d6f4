"""Liveness, readiness and the scheduler heartbeat."""

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

SWEEP = "sweep"
# Beat counts as stopped when it has missed this many sweep intervals.
STALE_AFTER_INTERVALS = 3


def beat(name=SWEEP, now=None):
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now()})


def last_beat(name=SWEEP):
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def scheduler_stale(now=None):
    """None when the sweep ran recently, else when it last ran (or the string 'never')."""
    now = now or timezone.now()
    at = last_beat()
    if at is None:
        return "never"
    if now - at > settings.TIMER_SWEEP_INTERVAL * STALE_AFTER_INTERVALS:
        return at
    return None


def broker_reachable():
    from runbook.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


def failing_deadlines():
    """How many deadlines keep failing to fire (TIMER_ALERT_AFTER_ATTEMPTS or more tries)."""
    from django.apps import apps

    Timer = apps.get_model("incidents", "Timer")
    return Timer.objects.filter(state="pending", attempts__gte=settings.TIMER_ALERT_AFTER_ATTEMPTS).count()
