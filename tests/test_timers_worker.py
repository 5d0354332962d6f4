"""The reserve routine fires on time, exactly once, with a real Redis broker and real Celery
worker and beat processes: through a broker flush, with two workers and two beats, and with
the worker killed and restarted (DESIGN sections 4 and 7).

The processes share this test's PostgreSQL database (committed rows: transaction=True) and
a Redis server of their own, so FLUSHALL touches nobody else.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import missing
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from incidents import services
from incidents.models import Incident, State, TimelineEvent, Timer
from timer_support import restore_seed_data

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

RESERVE_AFTER = timedelta(seconds=4)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_PORT = 8479  # in this worktree's range; nobody else's Redis is flushed


def _free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    if not os.path.exists(REDIS_SERVER):
        missing("needs redis-server to start a Redis of its own")
    port = next((p for p in range(REDIS_PORT, REDIS_PORT + 10) if _free(p)), None)
    if port is None:
        missing("no free port for a private redis-server")
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(50):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        missing("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0", client
    proc.terminate()
    proc.wait(timeout=10)


class Celery:
    """Worker and beat processes, started and stopped by this test only (by process id)."""

    def __init__(self, tmp_path, broker_url):
        db = connection.settings_dict
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        self.tmp = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "TIMER_SWEEP_SECONDS": "1",
            "RESERVE_ROUTINE_AFTER_SECONDS": str(int(RESERVE_AFTER.total_seconds())),
            "DATA_DIR": str(tmp_path),
            "CONN_MAX_AGE": "0",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "LOG_LEVEL": "INFO",
        }
        self.procs = {}
        self.count = 0

    def _start(self, name, args):
        self.count += 1
        log = open(self.tmp / f"{name}-{self.count}.log", "w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "runbook", *args],
            env=self.env,
            cwd=Path(django_settings.BASE_DIR),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def worker(self, name="worker"):
        self._start(
            name,
            [
                "worker",
                "--pool=threads",
                "--concurrency=2",
                f"--hostname={name}-{self.count}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
        )

    def beat(self, name="beat"):
        self._start(name, ["beat", f"--schedule={self.tmp / name}-schedule", "--loglevel=INFO"])

    def ensure(self, name):
        if name not in self.procs or self.procs[name].poll() is not None:
            (self.beat if name.startswith("beat") else self.worker)(name)

    def kill(self, name):
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def wait_swept(self, timeout=60):
        """Until a sweep has run after now: beat and a worker are up."""
        from runbook import health

        since = timezone.now()
        ok = wait_until(lambda: (health.last_beat() or since) > since, timeout=timeout)
        assert ok, self.logs()

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))


@pytest.fixture(scope="module")
def shared_procs(django_db_setup, django_db_blocker, own_redis, tmp_path_factory):
    """One set of processes for the module: starting Celery is the slow part of these tests."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            missing("needs PostgreSQL (set DATABASE_URL=postgres://...)")
        procs = Celery(tmp_path_factory.mktemp("celery"), own_redis[0])
    yield procs
    procs.stop_all()


@pytest.fixture
def celery_procs(shared_procs, settings):
    # This process arms the deadlines, so it uses the same short clock as the workers.
    settings.RESERVE_ROUTINE_AFTER = RESERVE_AFTER
    yield shared_procs
    connection.close()


@pytest.fixture
def report(django_db_blocker, transactional_db):
    restore_seed_data()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    ks = get_user_model().objects.create_user(username="ks-worker-test")
    ks.groups.add(Group.objects.get(name="kundservice"))

    def make(n=1):
        return [
            services.open_incident(ks, scenario="sesam_unreachable", summary=f"Sesam LMN nere {i}") for i in range(n)
        ]

    return make


def wait_until(predicate, timeout, step=0.2, during=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if during:
            during()
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def all_activated(incidents):
    ids = [i.pk for i in incidents]
    return lambda: Incident.objects.filter(pk__in=ids, state=State.RESERVE_ROUTINE).count() == len(ids)


def assert_activated_once(incidents, procs):
    for incident in incidents:
        incident = Incident.objects.get(pk=incident.pk)
        assert incident.state == State.RESERVE_ROUTINE, procs.logs()
        transitions = incident.events.filter(kind=TimelineEvent.Kind.TRANSITION, data__name="activate_reserve_routine")
        timer_events = incident.events.filter(kind=TimelineEvent.Kind.TIMER, data__timer="reserve_routine")
        assert transitions.count() == 1
        assert timer_events.count() == 1
        assert transitions.get().actor_label == "Systemet"
        timer = incident.timers.get(kind=Timer.Kind.RESERVE_ROUTINE)
        assert timer.state == Timer.State.FIRED and timer.fired_at >= timer.due_at


def test_reserve_routine_activates_once_with_real_worker_and_beat(require_postgres, celery_procs, report):
    celery_procs.ensure("worker")
    celery_procs.ensure("beat")
    celery_procs.wait_swept()
    [incident] = report()
    assert wait_until(all_activated([incident]), timeout=20), celery_procs.logs()
    time.sleep(2)  # more sweeps run; nothing fires twice
    assert_activated_once([incident], celery_procs)
    timer = incident.timers.get()
    # Due after 4 s, swept every second: late by about one sweep interval, never early.
    assert timer.fired_at - timer.due_at < timedelta(seconds=5), timer.fired_at - timer.due_at


def test_reserve_routine_still_activates_after_broker_is_flushed(celery_procs, own_redis, report):
    _, client = own_redis
    celery_procs.ensure("worker")
    celery_procs.ensure("beat")
    celery_procs.wait_swept()
    [incident] = report()
    started = time.monotonic()

    def flush_for_the_first_6_seconds():
        if time.monotonic() - started < 6:
            client.flushall()

    # Everything queued is thrown away again and again, across the moment the deadline falls due.
    wait_until(lambda: False, timeout=6, step=0.3, during=flush_for_the_first_6_seconds)
    assert wait_until(all_activated([incident]), timeout=15), celery_procs.logs()
    time.sleep(1.5)
    assert_activated_once([incident], celery_procs)


def test_two_workers_and_two_beats_activate_exactly_once(celery_procs, report):
    for name in ("worker", "worker-b", "beat", "beat-b"):
        celery_procs.ensure(name)
    celery_procs.wait_swept()
    incidents = report(10)
    assert wait_until(all_activated(incidents), timeout=25), celery_procs.logs()
    time.sleep(2)
    assert_activated_once(incidents, celery_procs)


def test_worker_killed_and_restarted_still_activates(celery_procs, report):
    celery_procs.ensure("worker")
    celery_procs.ensure("beat")
    celery_procs.wait_swept()
    for name in [n for n in celery_procs.procs if n.startswith("worker")]:
        celery_procs.kill(name)
    [incident] = report()
    time.sleep(RESERVE_AFTER.total_seconds() + 1.5)
    # Due, but nobody is there to fire it: it waits in the database, not in a lost message.
    assert Incident.objects.get(pk=incident.pk).state == State.REPORTED
    assert incident.timers.pending().count() == 1
    celery_procs.ensure("worker")
    assert wait_until(all_activated([incident]), timeout=60), celery_procs.logs()
    time.sleep(1.5)
    assert_activated_once([incident], celery_procs)


@pytest.fixture
def broker_here(own_redis):
    """This process rings the private Redis too (as web and worker do in production)."""
    from runbook.celery import app

    def point(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    point(own_redis[0])
    yield
    point(previous)


def test_a_deadline_due_soon_fires_at_its_moment_not_at_the_next_sweep(
    require_postgres, own_redis, broker_here, report, settings, tmp_path
):
    procs = Celery(tmp_path, own_redis[0])
    procs.env["TIMER_SWEEP_SECONDS"] = "3600"  # and no beat: no sweep comes in time
    procs.worker("worker-doorbell")
    try:
        assert wait_until(lambda: "ready." in procs.logs(), timeout=60), procs.logs()
        settings.RESERVE_ROUTINE_AFTER = timedelta(seconds=3)
        [incident] = report()  # its deadline, due in 3 s, is rung through the broker on commit
        assert wait_until(all_activated([incident]), timeout=20), procs.logs()
        time.sleep(1)
        assert_activated_once([incident], procs)
        timer = incident.timers.get(kind=Timer.Kind.RESERVE_ROUTINE)
        assert timer.fired_at - timer.due_at < timedelta(seconds=1), timer.fired_at - timer.due_at
    finally:
        procs.stop_all()
        connection.close()
