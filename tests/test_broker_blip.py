"""A broker blip stops nothing: Redis stopped for ten seconds under a real worker that holds a
notice's retry, then started again. Every notice arrives once, the worker and beat live on,
and a person acting while Redis is down is not held up by ringing it."""

import json
import time

import pytest
from django.db import connection

from notifications import tasks
from notifications.models import Notification, StubMessage, StubMode
from notify_helpers import point_at_stubs, worker_env
from processes import Celery, celery_broker, own_redis, wait_for  # noqa: F401 - own_redis is a fixture
from runbook import doorbell

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 10
RETRY_AFTER_SECONDS = 12  # the first retry is due after Redis is back


def holds_retry(redis):
    """The worker holds a notice's retry: a countdown task it took but has not acknowledged."""
    held = [json.loads(raw)[0]["headers"]["task"] for raw in redis.hvals("unacked")]
    return "notifications.tasks.deliver" in held


def all_sent(notices):
    return all(Notification.objects.get(pk=n.pk).status == "sent" for n in notices)


def test_redis_stopped_and_started_under_a_worker_holding_a_retry(
    settings,
    tmp_path,
    live_server,
    own_redis,
    open_incident,
    require_postgres,
):
    point_at_stubs(settings, live_server.url)
    env = worker_env(
        live_server.url,
        connection.settings_dict["NAME"],
        own_redis.url,
        NOTIFY_BACKOFF_BASE_SECONDS=RETRY_AFTER_SECONDS,
    )
    celery = Celery(tmp_path, env)
    try:
        with celery_broker(own_redis.url):
            worker = celery.worker()
            beat = celery.beat()
            StubMode.objects.create(channel="telephony", mode="fail")

            first = open_incident(scenario="telephony_fault")
            lavin = first.notifications.get(channel="telephony")
            # The worker tried once, got 503 and now holds the retry as a countdown task.
            wait_for(
                lambda: Notification.objects.get(pk=lavin.pk).last_status_code == 503, what="a first, failed attempt"
            )
            redis = own_redis.client()
            wait_for(lambda: holds_retry(redis), what="the worker to hold the retry")

            own_redis.stop()
            stopped = time.monotonic()
            StubMode.objects.filter(channel="telephony").update(mode="ok")

            # A person reports while Redis is down: ringing it does not hold them up.
            began = time.monotonic()
            second = open_incident(scenario="telephony_fault", summary="Telefonin svarar inte")
            assert time.monotonic() - began < 1.0  # ringing used to wait 6 s for the broker
            rung = time.monotonic()
            assert doorbell.ring(tasks.sweep) is False
            assert time.monotonic() - rung < 0.1  # quiet after a failure: no second wait

            time.sleep(max(0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
            assert worker.poll() is None, open(worker.log_path).read()[-3000:]
            own_redis.start()

            notices = list(first.notifications.all()) + list(second.notifications.all())
            wait_for(lambda: all_sent(notices), timeout=60, what="every notice to be sent")
            assert worker.poll() is None and beat.poll() is None

            # The worker consumes from the broker again: with beat (and so the sweep) stopped,
            # a new notice can only reach it by the doorbell.
            beat.terminate()
            beat.wait(timeout=10)
            doorbell.reset()
            third = open_incident(scenario="telephony_fault", summary="Fortfarande ingen telefoni")
            new = list(third.notifications.all())
            wait_for(lambda: all_sent(new), timeout=30, what="delivery through the broker")
            assert worker.poll() is None

        time.sleep(1)  # nothing further may arrive twice
        for n in notices + new:
            (received,) = StubMessage.objects.filter(idempotency_key=n.idempotency_key)
            assert received.duplicates == 0, n
        assert StubMessage.objects.count() == len(notices) + len(new)
        log = open(worker.log_path).read()
        assert "Unrecoverable error" not in log
    finally:
        celery.stop_all()
