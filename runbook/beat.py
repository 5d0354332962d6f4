"""Beat's own Celery app (`celery -A runbook.beat beat`): it only puts the schedule's task
names (settings.CELERY_BEAT_SCHEDULE) on the broker, which the worker runs. So it reads the
settings and the broker's transport (runbook.celery) and never loads Django's apps, models,
checks or the tasks' code: about a third of a process that loaded them."""

from celery import Celery

from runbook import celery as _app  # noqa: F401 -- the broker's transports, logging as the app's

# No Django fix-up: it would set Django up (every app, model and check) before the first beat.
app = Celery("runbook", fixups=[])
app.config_from_object("django.conf:settings", namespace="CELERY")
