"""Liveness, readiness and the scheduler heartbeat."""

import time

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat

SWEEP = "sweep"
# Beat counts as stopped when it has missed this many sweep intervals.
STALE_AFTER_INTERVALS = 3


def beat(name=SWEEP, now=None):
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now()})
    forget_last_read()


def last_beat(name=SWEEP):
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


# The last beat this process read, and when (monotonic seconds). Every page shows the
# banner when beat has stopped, so each page would ask; for BEAT_CACHE_SECONDS the answer
# read last is used instead, and the banner appears or goes at most that much later.
BEAT_CACHE_SECONDS = 5
_last_read = None


def scheduler_stale(now=None):
    """None when the sweep ran recently, else when it last ran (or the string 'never')."""
    global _last_read
    if now is None:
        now = timezone.now()
        if _last_read is not None and time.monotonic() - _last_read[1] < BEAT_CACHE_SECONDS:
            at = _last_read[0]
        else:
            at = last_beat()
            _last_read = (at, time.monotonic())
    else:
        at = last_beat()
    if at is None:
        return "never"
    if now - at > settings.TIMER_SWEEP_INTERVAL * STALE_AFTER_INTERVALS:
        return at
    return None


def forget_last_read():
    """Make the next check read the heartbeat again (tests, after changing it)."""
    global _last_read
    _last_read = None


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
