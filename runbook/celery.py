"""The Celery app. The broker is a doorbell; the database is the truth (DESIGN section 7)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")

app = Celery("runbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
