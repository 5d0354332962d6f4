"""The broker's doorbell for deadlines due soon, so that they fire on time, not on the next sweep.

A deadline is a row (``Timer``) and the sweep fires whatever is due; that alone makes a
deadline up to one sweep interval late. So a deadline due within ``horizon()`` is also rung
through the broker with a countdown to its moment: when it is armed (after commit), and by each
sweep for the deadlines that have come that close. The ring only says "look now": the task
fires the row under the same row locks as the sweep, so a deadline fires once whoever comes
first, and a ring the broker loses leaves the row for the sweep.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

# The task (incidents/tasks.py) that fires one deadline, rung by name: it calls back in here.
FIRE_TIMER_TASK = "incidents.tasks.fire_timer"


def horizon():
    """Ring deadlines due within two sweep intervals: each is rung by a sweep before it is due."""
    return settings.TIMER_SWEEP_INTERVAL * 2


def ring(timer_id, incident_id, due_at, now=None):
    """Ask the broker to fire this deadline at its moment. Never raises: the row is the truth."""
    from runbook import doorbell

    now = now or timezone.now()
    # Quick or not at all (runbook.doorbell): the sweep fires it when due.
    doorbell.ring(FIRE_TIMER_TASK, (timer_id, incident_id), countdown=max(0.0, (due_at - now).total_seconds()))


def ring_after_commit(timer):
    """For a deadline just armed: ring it once the transaction commits, if it is due soon."""
    if timer.due_at - timezone.now() <= horizon():
        transaction.on_commit(lambda: ring(timer.pk, timer.incident_id, timer.due_at))


def ring_due_soon(now=None):
    """Run by the sweep: ring every pending deadline due before the sweep after next."""
    from .models import Timer

    now = now or timezone.now()
    soon = Timer.objects.pending().filter(due_at__gt=now, due_at__lte=now + horizon())
    rung = 0
    for timer_id, incident_id, due_at in soon.values_list("pk", "incident_id", "due_at"):
        ring(timer_id, incident_id, due_at, now)
        rung += 1
    return rung
