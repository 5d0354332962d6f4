"""Thin Celery tasks: load ids, call a service."""

from celery import shared_task


@shared_task(ignore_result=True)
def sweep():
    """Run by beat every TIMER_SWEEP_SECONDS: record that the scheduler is alive."""
    from runbook import health

    health.beat()
