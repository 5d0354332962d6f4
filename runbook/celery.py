"""The Celery app. The broker is a doorbell; the database is the truth (DESIGN section 7)."""

import os

from celery import Celery
from celery.signals import setup_logging
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")

# Broker URLs use kombu's transports with the faults that stopped the worker removed.
TRANSPORT_ALIASES.update(
    {
        "redis": "runbook.broker:RedisTransport",
        "rediss": "runbook.broker:RedisTransport",
        "filesystem": "runbook.broker:FilesystemTransport",
    }
)

app = Celery("runbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_as_the_app_does(**_):
    """Worker and beat log as the web does (settings.LOGGING: JSON lines, runbook/logs.py)
    instead of Celery's own set-up; LOG_LEVEL, not --loglevel, sets the level."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
