"""Processes a test starts and always stops: a Redis of its own, Celery workers and beats.

Everything binds to 127.0.0.1 on a free port, runs in its own session and is killed when
the test ends, so a test may stop and restart its Redis without touching anyone else's.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=40, what="condition", every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def stop(proc, timeout=10):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


class RedisServer:
    """A redis-server of the test's own on a free loopback port; stop() and start() at will."""

    def __init__(self, directory):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.proc = None

    def start(self):
        log = open(self.directory / f"redis-{self.port}.log", "a")
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, timeout=10, what="redis-server to start")

    def answers(self):
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)


@pytest.fixture
def own_redis(tmp_path):
    if not REDIS_SERVER:
        from conftest import missing

        missing("needs redis-server (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def celery_broker(url):
    """Point this process's Celery app (and its doorbell) at ``url`` for a while."""
    import kombu.pools

    from runbook import doorbell
    from runbook.celery import app

    def reset():
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()
        doorbell.reset()

    old = app.conf.broker_url
    reset()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        reset()
        app.conf.broker_url = old


class Celery:
    """Starts Celery workers and beats as separate processes; stops them all at the end."""

    def __init__(self, directory, env):
        self.directory = directory
        self.env = env
        self.started = []

    def _start(self, name, args, app="runbook", **extra):
        env = {**self.env, **{k: str(v) for k, v in extra.items()}}
        log = open(self.directory / f"{name}-{len(self.started)}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app, *args],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = log.name
        self.started.append(proc)
        return proc

    def worker(self, **extra):
        return self._start(
            "worker",
            [
                "worker",
                "--pool=threads",
                "--concurrency=2",
                "--loglevel=INFO",
                f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            **extra,
        )

    def beat(self, **extra):
        schedule = self.directory / f"beat-{len(self.started)}"
        # As docker-compose.yml and run_embedded start it: the app that loads no Django apps.
        return self._start("beat", ["beat", "--loglevel=INFO", f"--schedule={schedule}"], app="runbook.beat", **extra)

    def stop_all(self):
        for proc in self.started:
            stop(proc)
