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


# The latest beat this process has read. Beats only move forward, so while this one is
# recent the sweep is known to be running and a page need not ask the database again.
_seen_beat = None


def scheduler_stale(now=None):
    """None when the sweep ran recently, else when it last ran (or the string 'never')."""
    global _seen_beat
    now = now or timezone.now()
    stale_after = settings.TIMER_SWEEP_INTERVAL * STALE_AFTER_INTERVALS
    if _seen_beat is not None and now - _seen_beat <= stale_after:
        return None
    at = last_beat()
    if at is None:
        return "never"
    _seen_beat = at
    if now - at > stale_after:
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
