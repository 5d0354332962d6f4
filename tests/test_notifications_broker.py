"""The broker is a doorbell: real Redis, real Celery workers, the stubs behind a live server."""

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from notifications.models import Notification, StubMessage, StubMode
from notify_helpers import point_at_stubs, worker_env

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]
BASE_DIR = Path(__file__).resolve().parent.parent


@contextmanager
def celery_broker(url):
    """Point this process's Celery app at ``url`` (the test Redis) for the test's duration."""
    from runbook.celery import app

    def reset():
        import kombu.pools

        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    old = app.conf.broker_url
    reset()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        reset()
        app.conf.broker_url = old


@pytest.fixture
def broker(redis_url, require_postgres):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # our own test database number only
    with celery_broker(redis_url):
        yield client
    client.flushdb()


@pytest.fixture
def workers(tmp_path, live_server, redis_url):
    started = []

    def start(beat=False, **extra):
        env = worker_env(live_server.url, connection.settings_dict["NAME"], redis_url, **extra)
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "runbook",
            "worker",
            "--pool=threads",
            "--concurrency=2",
            "--loglevel=WARNING",
            f"--hostname=notifytest-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        if beat:
            cmd += ["-B", f"--schedule={tmp_path / f'beat-{len(started)}'}"]
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for(predicate, timeout=40, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("emptied", [False, True], ids=["broker-up", "broker-emptied"])
def test_each_notice_arrives_exactly_once(emptied, settings, live_server, broker, workers, open_incident):
    point_at_stubs(settings, live_server.url)
    incident = open_incident(scenario="telephony_fault")
    outgoing = list(incident.notifications.exclude(channel="email"))
    assert broker.llen("celery") >= 1  # the doorbell rang after commit
    if emptied:
        broker.flushdb()
        assert broker.llen("celery") == 0
    workers(beat=True)

    def all_sent():
        return all(Notification.objects.get(pk=n.pk).status == "sent" for n in outgoing)

    wait_for(all_sent, what="delivery")
    time.sleep(2)  # a further sweep or two must not send again
    for n in outgoing:
        (received,) = StubMessage.objects.filter(idempotency_key=n.idempotency_key)
        assert received.duplicates == 0
    assert StubMessage.objects.count() == len(outgoing)


def test_a_worker_killed_mid_delivery_leaves_one_notice_at_the_receiver(
    settings, live_server, broker, workers, open_incident
):
    point_at_stubs(settings, live_server.url)
    settings.STUB_SLOW_SECONDS = 6
    StubMode.objects.create(channel="telephony", mode="slow")
    first = workers(NOTIFY_READ_TIMEOUT_SECONDS=60, NOTIFY_CLAIM_SECONDS=3)
    incident = open_incident(scenario="telephony_fault")
    lavin = incident.notifications.get(channel="telephony")

    wait_for(lambda: StubMessage.objects.filter(channel="telephony").exists(), what="the receiver to store")
    os.killpg(first.pid, signal.SIGKILL)  # mid-delivery: stored at the receiver, no answer yet
    first.wait()
    lavin.refresh_from_db()
    assert lavin.status == "pending" and lavin.attempts == 1

    StubMode.objects.filter(channel="telephony").update(mode="ok")
    workers(beat=True, NOTIFY_CLAIM_SECONDS=3)
    wait_for(lambda: Notification.objects.get(pk=lavin.pk).status == "sent", what="redelivery")
    lavin.refresh_from_db()
    assert lavin.attempts == 2
    (received,) = StubMessage.objects.filter(channel="telephony")
    assert received.duplicates == 1  # the resend was recognised by its idempotency key
