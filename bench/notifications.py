#!/usr/bin/env python
"""Benchmark: notifications from commit to receipt at the stub, and an e-mail fan-out.

    .venv/bin/python bench/notifications.py [--n 100] [--n-emptied 30] [--subscribers 1000]

Starts its own processes on ports 8570-8579 (redis-server, gunicorn serving the app with the
stub receivers, a Celery worker, Celery beat, an aiosmtpd SMTP server in this process) against
PostgreSQL database ``runbook_notify_bench`` (created if missing), then measures

1. broker up: commit of an incident report -> each notice stored at its stub;
2. broker emptied: the same, but every doorbell message is dropped (published into a Redis
   database no worker reads, which is then flushed), so only the sweep delivers;
3. fan-out: one reserve-routine e-mail to N subscribers by SMTP, commit -> last one received.

Results are printed and written to bench/results/notifications-<time>.json.
"""

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_PORT, WEB_PORT, SMTP_PORT = 8579, 8571, 8572
DB_NAME = os.environ.get("BENCH_DB", "runbook_notify_bench")
PG = "postgres://postgres@127.0.0.1:5432"
SWEEP_SECONDS = float(os.environ.get("BENCH_SWEEP_SECONDS", "2"))


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port}")


def environment():
    base = f"http://127.0.0.1:{WEB_PORT}"
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "STUBS_ENABLED": "1",
        "SECURE_SSL_REDIRECT": "0",
        "PORT": str(WEB_PORT),
        "SITE_URL": base,
        "VARDGIVARE_SKANE_URL": f"{base}/stubs/vardgivare_skane/",
        "DRIFTINFO_URL": f"{base}/stubs/driftinfo/",
        "TELEPHONY_URL": f"{base}/stubs/telephony/",
        "EMAIL_URL": "",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(SMTP_PORT),
        "NOTIFY_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "TIMER_SWEEP_SECONDS": "30",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        # One bench user opens every incident: the per-person limit would stop it.
        "OPEN_INCIDENT_LIMIT": "0",
    }


class Inbox:
    def __init__(self):
        self.count = 0
        self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += len(envelope.rcpt_tos)
            self.last = time.time()
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--n-emptied", type=int, default=30)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    env = environment()
    os.environ.update(env)
    python = sys.executable
    procs = []
    log_dir = BASE_DIR / "bench" / "results"
    log_dir.mkdir(parents=True, exist_ok=True)

    def start(name, cmd):
        log = open(log_dir / f"{name}.log", "w")
        proc = subprocess.Popen(
            cmd, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        procs.append(proc)
        return proc

    try:
        if not port_open(REDIS_PORT):
            start(
                "redis",
                ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            )
            wait_port(REDIS_PORT)
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"], check=True
        )
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)

        from aiosmtpd.controller import Controller

        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
        smtp.start()

        start(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "runbook.wsgi",
                "-b",
                f"127.0.0.1:{WEB_PORT}",
                "-w",
                "4",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
        )
        start(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "runbook",
                "worker",
                "--pool=threads",
                f"--concurrency={args.concurrency}",
                "--loglevel=WARNING",
                "--hostname=bench@%h",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        start(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "runbook",
                "beat",
                "--loglevel=WARNING",
                f"--schedule={log_dir / 'celerybeat-schedule'}",
            ],
        )
        wait_port(WEB_PORT)

        sys.path.insert(0, str(BASE_DIR))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")
        import django

        django.setup()
        # Celery prefers the environment variable to its configuration; drop it so the bench
        # can point its own doorbell elsewhere for the "emptied" run.
        os.environ.pop("CELERY_BROKER_URL", None)
        results = run(args, inbox)
    finally:
        # Redis (started first) goes last, so the worker can say goodbye to it.
        for group in (procs[1:], procs[:1]):
            for proc in group:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in group:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = log_dir / f"notifications-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies):
    ms = [v * 1000 for v in latencies]
    return {
        "notices": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def run(args, inbox):
    import redis
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from incidents import services as incident_services
    from notifications.models import Notification, StubMessage, Subscription
    from runbook import scenarios
    from runbook.celery import app

    User = get_user_model()
    ks = User.objects.create_user("bench-ks", password=secrets.token_urlsafe(12))
    ks.groups.add(Group.objects.get(name="kundservice"))
    vs = User.objects.create_user("bench-vs", password=secrets.token_urlsafe(12))
    vs.groups.add(Group.objects.get(name="verksamhetsspecialist"))

    def commit_incidents(n, after_commit=None):
        commits = {}
        for i in range(n):
            with transaction.atomic():
                incident = incident_services.open_incident(
                    ks, scenario=scenarios.TELEPHONY_FAULT.key, summary=f"bench {i}"
                )
            committed = datetime.now(UTC)
            commits[incident.pk] = committed
            if after_commit:
                after_commit()
            time.sleep(0.05)
        return commits

    def latencies(commits, timeout):
        keys = dict(
            Notification.objects.filter(incident_id__in=commits)
            .exclude(channel="email")
            .values_list("idempotency_key", "incident_id")
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = StubMessage.objects.filter(idempotency_key__in=keys).count()
            if got == len(keys):
                break
            time.sleep(0.2)
        received = StubMessage.objects.filter(idempotency_key__in=keys)
        dupes = sum(m.duplicates for m in received)
        values = [(m.received_at - commits[keys[m.idempotency_key]]).total_seconds() for m in received]
        return values, len(keys), dupes

    results = {"sweep_interval_s": SWEEP_SECONDS, "worker_concurrency": args.concurrency}

    # Warm-up: first requests load code and open connections.
    warm = commit_incidents(3)
    latencies(warm, 30)

    commits = commit_incidents(args.n)
    values, expected, dupes = latencies(commits, 120)
    results["broker_up"] = {**summary(values), "expected": expected, "duplicates_at_receiver": dupes}

    # Broker emptied: this process rings a Redis database no worker reads, then empties it.
    void = redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=1)
    import kombu.pools

    app.conf.broker_url = f"redis://127.0.0.1:{REDIS_PORT}/1"
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
    dropped = []

    def empty_the_broker():
        dropped.append(void.llen("celery"))
        void.flushdb()

    commits = commit_incidents(args.n_emptied, after_commit=empty_the_broker)
    values, expected, dupes = latencies(commits, 120)
    results["broker_emptied"] = {
        **summary(values),
        "expected": expected,
        "duplicates_at_receiver": dupes,
        "doorbell_messages_dropped": sum(dropped),
    }

    # For comparison: the send itself, in this process, no broker and no sweep involved.
    from notifications import services as notify_services

    def deliver_now():
        dropped.append(void.llen("celery"))
        void.flushdb()
        for pk in Notification.objects.filter(status="pending").exclude(channel="email").values_list("pk", flat=True):
            notify_services.deliver(pk)

    commits = commit_incidents(20, after_commit=deliver_now)
    values, expected, dupes = latencies(commits, 60)
    results["direct_send_no_broker"] = {**summary(values), "expected": expected, "duplicates_at_receiver": dupes}
    app.conf.broker_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()

    # Fan-out: one e-mail to N subscribers.
    Subscription.objects.bulk_create(Subscription(email=f"prenumerant{i}@example.org") for i in range(args.subscribers))
    incident = incident_services.open_incident(ks, scenario=scenarios.SESAM_UNREACHABLE.key, summary="bench fan-out")
    incident_services.escalate(vs, incident.pk)
    time.sleep(3)
    before = inbox.count
    start = time.time()
    incident_services.activate_reserve_routine(vs, incident.pk)
    committed = time.time()
    rows = Notification.objects.filter(incident=incident, rule="reserve_alert_roles").count()
    deadline = time.monotonic() + 600
    while inbox.count - before < rows and time.monotonic() < deadline:
        time.sleep(0.1)
    received = inbox.count - before
    results["fanout_email"] = {
        "recipients": rows,
        "received_by_smtp": received,
        "write_transaction_s": round(committed - start, 3),
        "commit_to_last_received_s": round((inbox.last or committed) - committed, 2),
        "total_s": round((inbox.last or committed) - start, 2),
        "sent_status": Notification.objects.filter(
            incident=incident, rule="reserve_alert_roles", status="sent"
        ).count(),
    }
    return results


if __name__ == "__main__":
    main()
