"""Ringing the broker after commit: fast, or not at all.

What a task is rung for is already a row in the database (an outbox row, a deadline), and a
sweep finds every due row whether or not the bell rang. So a ring must never hold up the
person whose action caused it: it publishes over a connection of its own with short timeouts
and no retries, and after a failure it stays silent for ``DOORBELL_QUIET_SECONDS`` instead of
trying the broker again for every action (the sweep catches up).
"""

import logging
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)

_local = threading.local()  # one broker connection per thread (kombu's are not shared)
_quiet_until = 0.0


def ring(task, args=(), *, countdown=None):
    """Publish ``task(*args)``; True when the broker took it. Never raises.

    ``task`` is a task or its registered name; a service rings its own app's tasks by name,
    so that the tasks module (which calls the services) is not imported back by them.
    """
    global _quiet_until
    if time.monotonic() < _quiet_until:
        return False
    try:
        if isinstance(task, str):
            from runbook.celery import app

            if task not in app.tasks:
                app.loader.import_default_modules()  # finds the apps' tasks modules, once
            task = app.tasks[task]
        task.apply_async(args, countdown=countdown, connection=_connection(), retry=False)
        return True
    except Exception:  # noqa: BLE001 - the rows are safe; only the doorbell failed
        _forget_connection()
        _quiet_until = time.monotonic() + settings.DOORBELL_QUIET_SECONDS
        log.warning(
            "Broker unreachable; %s waits for the sweep (quiet for %ss)",
            getattr(task, "name", task),
            settings.DOORBELL_QUIET_SECONDS,
            exc_info=True,
        )
        return False


def _connection():
    from runbook.celery import app

    url = app.conf.broker_write_url or app.conf.broker_url
    cached = getattr(_local, "connection", None)
    if cached is not None and cached[0] == url:
        return cached[1]
    _forget_connection()
    timeout = settings.DOORBELL_TIMEOUT_SECONDS
    options = {"max_retries": 0}
    if url.startswith(("redis://", "rediss://")):
        options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
    connection = app.connection_for_write(url, connect_timeout=timeout, transport_options=options)
    _local.connection = (url, connection)
    return connection


def _forget_connection():
    cached = getattr(_local, "connection", None)
    _local.connection = None
    if cached is not None:
        try:
            cached[1].release()
        except Exception:  # noqa: BLE001 - it is being thrown away
            pass


def warm():
    """Do the one-time work of a first ring (loading tasks, the transport) at start-up."""
    from runbook.celery import app

    try:
        app.loader.import_default_modules()
        app.finalize(auto=True)
        app.amqp.send_task_message  # noqa: B018 - built (and its imports done) on first use
        _connection().transport  # noqa: B018 - imports the transport
    except Exception:  # noqa: BLE001 - a first ring will try again
        log.warning("Could not prepare the broker connection", exc_info=True)
    _forget_connection()


def reset():
    """Forget connections and any quiet period (tests that point Celery elsewhere)."""
    global _quiet_until
    _forget_connection()
    _quiet_until = 0.0
