"""Thin Celery tasks: load ids, call a service."""

from celery import shared_task


@shared_task(ignore_result=True)
def sweep():
    """Run by beat every TIMER_SWEEP_SECONDS: record that the scheduler is alive, then fire
    every deadline that is due. The deadlines are rows, so a lost sweep only delays them."""
    from runbook import health

    from . import services

    health.beat()
    services.fire_due_timers()
