"""Thin Celery tasks: load ids, call a service."""

from celery import shared_task

from .doorbell import FIRE_TIMER_TASK


@shared_task(ignore_result=True)
def sweep():
    """Run by beat every TIMER_SWEEP_SECONDS: record that the scheduler is alive, then fire
    every deadline that is due. The deadlines are rows, so a lost sweep only delays them."""
    from runbook import health

    from . import doorbell, timers

    health.beat()
    # The rings first: a long batch of due deadlines must not hold up those due next.
    doorbell.ring_due_soon()
    timers.fire_due_timers()


@shared_task(name=FIRE_TIMER_TASK, ignore_result=True, bind=True, max_retries=40)
def fire_timer(self, timer_id, incident_id):
    """The doorbell of one deadline (incidents.doorbell): fire it at its moment if still pending.

    Someone holding the incident for a moment, or a ring that came early, rings again shortly;
    a deadline further off than the doorbell's horizon is left to the sweep, which rings it."""
    from runbook import logs

    from . import doorbell, timers

    with logs.bound(incident_id=incident_id):
        outcome = timers.fire_timer(timer_id, incident_id, only_if_due=True)
    if outcome == "busy":
        raise self.retry(countdown=0.2)
    if isinstance(outcome, float) and outcome <= doorbell.horizon().total_seconds():
        raise self.retry(countdown=outcome)
