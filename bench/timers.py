"""Benchmark of the durable deadlines (incidents.models.Timer) and the beat-driven sweep.

    .venv/bin/python bench/timers.py [--incidents 1000] [--interval 30] [--workers 2] [--history 100000]

1. ``--incidents`` live sesam_unreachable incidents whose 4-hour deadlines fall in the same
   minute. A beat thread starts a sweep every ``--interval`` seconds on a pool of
   ``--workers`` threads (as ``celery worker --pool=threads`` runs what beat sends; a sweep
   slower than the interval overlaps the next one); the sweep fires what is due and rings the
   broker (a redis-server of the script's own) for what is due within two intervals
   (incidents.doorbell), and a Celery worker started with docker-compose.yml's command line
   fires each at its moment. Run twice: with the broker up, and with the broker emptied
   after every sweep and no worker (only the sweep fires). Prints the lateness of each firing
   (fired_at - due_at: p50, p99, max, also in sweep intervals) and how many fired, were
   missed, duplicated or early. Goals: p99 <= 1 s with the broker up, <= one interval emptied.
2. The cost of a sweep with nothing due, before and after ``--history`` ended incidents
   (each with a fired and a cancelled deadline) are added: it must not grow with history.

Needs PostgreSQL; uses its own database (DATABASE_URL, default runbook_timers_bench), which
it empties first.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_timers_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("OPEN_INCIDENT_LIMIT", "0")  # one person opens them all


def ensure_database(url):
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(broker_url):
    """The Celery worker as docker-compose.yml runs it, on this database and broker."""
    import yaml

    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]["command"]
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "LOG_LEVEL": "WARNING"}
    log = open(os.devnull, "w")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / command[0]), *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    time.sleep(8)  # up and consuming before the first deadline is rung
    return proc


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="sweep interval, seconds (production: 30)")
    parser.add_argument("--workers", type=int, default=2, help="worker threads running sweeps")
    parser.add_argument("--history", type=int, default=100_000, help="ended incidents for the idle test")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    # A redis-server of this script's own: the broker that rings deadlines, flushed at will.
    redis_port = free_port()
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["CELERY_BROKER_URL"] = redis_url
    os.environ["TIMER_SWEEP_SECONDS"] = str(args.interval)
    import redis

    redis_client = redis.Redis(host="127.0.0.1", port=redis_port)
    for _ in range(50):
        try:
            redis_client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    from django.db.models import Count, Q
    from django.utils import timezone

    from incidents import doorbell, services, timers
    from incidents.models import Incident, State, TimelineEvent, Timer
    from routines import loader
    from runbook.scenarios import SESAM_UNREACHABLE

    if connection.vendor != "postgresql":
        sys.exit("bench/timers.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic(), connection.cursor() as cursor:
        # A bench database of its own: its owner steps around the timeline's TRUNCATE trigger.
        cursor.execute("ALTER TABLE incidents_timelineevent DISABLE TRIGGER incidents_timeline_no_truncate")
        cursor.execute(
            "TRUNCATE incidents_timer, incidents_timelineevent, incidents_task, incidents_reserveorder, "
            "incidents_incident RESTART IDENTITY CASCADE"
        )
        cursor.execute("ALTER TABLE incidents_timelineevent ENABLE TRIGGER incidents_timeline_no_truncate")
    User = get_user_model()
    ks, _ = User.objects.get_or_create(username="bench-kundservice")
    ks.groups.add(Group.objects.get(name="kundservice"))
    interval = timedelta(seconds=args.interval)
    print(
        f"PostgreSQL {connection.pg_version}, sweep interval {args.interval:g} s, "
        f"{args.workers} worker threads, RESERVE_ROUTINE_AFTER {settings.RESERVE_ROUTINE_AFTER}"
    )

    # --- 1. a minute full of deadlines, with the broker up and with it emptied --------------
    incidents = []

    def minute_of_deadlines(broker_up):
        t = time.perf_counter()
        opened = [
            services.open_incident(ks, scenario=SESAM_UNREACHABLE.key, summary=f"Bench {n}")
            for n in range(args.incidents)
        ]
        incidents.extend(opened)
        print(f"\nopened {len(opened)} incidents in {time.perf_counter() - t:.1f} s")
        worker = start_worker(redis_url) if broker_up else None
        # Put every deadline in one minute, starting two intervals from now.
        minute = timezone.now() + 2 * interval
        # Not named "timers": that is the engine (incidents.timers) the sweep below calls.
        deadlines = list(
            Timer.objects.pending().filter(kind=Timer.Kind.RESERVE_ROUTINE, incident__in=opened).order_by("id")
        )
        for i, timer in enumerate(deadlines):
            timer.due_at = minute + timedelta(seconds=60 * i / len(deadlines))
        Timer.objects.bulk_update(deadlines, ["due_at"])
        last_due = minute + timedelta(seconds=60)

        pool = ThreadPoolExecutor(max_workers=args.workers)
        sweep_seconds, sweep_errors = [], []

        def sweep():
            # What beat's "sweep" entry runs on a worker (incidents.tasks.sweep).
            started = time.perf_counter()
            try:
                doorbell.ring_due_soon()
                timers.fire_due_timers()
                if not broker_up:
                    redis_client.flushall()  # every ring is lost
            except Exception as exc:  # a sweep that fails is a finding, never a silent pool error
                sweep_errors.append(repr(exc))
                raise
            finally:
                sweep_seconds.append(time.perf_counter() - started)
                connections.close_all()

        stop = threading.Event()

        def beat():
            next_tick = time.monotonic()
            while not stop.is_set():
                pool.submit(sweep)
                next_tick += args.interval
                stop.wait(max(0, next_tick - time.monotonic()))

        beat_thread = threading.Thread(target=beat, daemon=True)
        beat_thread.start()
        give_up = last_due + 10 * interval
        while timezone.now() < give_up:
            if timezone.now() > last_due and not Timer.objects.pending().filter(incident__in=opened).exists():
                break
            time.sleep(0.5)
        stop.set()
        beat_thread.join()
        pool.shutdown(wait=True)
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)

        fired = list(
            Timer.objects.filter(
                kind=Timer.Kind.RESERVE_ROUTINE, state=Timer.State.FIRED, incident__in=opened, due_at__gte=minute
            )
        )
        late = [(t.fired_at - t.due_at).total_seconds() for t in fired]
        missed = Timer.objects.pending().filter(incident__in=opened, due_at__lte=last_due).count()
        activation_counts = list(
            Incident.objects.filter(pk__in=[i.pk for i in opened])
            .annotate(
                n=Count(
                    "events",
                    filter=Q(events__kind=TimelineEvent.Kind.TRANSITION, events__data__name="activate_reserve_routine"),
                )
            )
            .values_list("n", flat=True)
        )
        duplicated = sum(n - 1 for n in activation_counts if n > 1)
        not_activated = sum(1 for n in activation_counts if n == 0)
        in_reserve = Incident.objects.filter(pk__in=[i.pk for i in opened], state=State.RESERVE_ROUTINE).count()
        p50, p99, worst = percentile(late, 50), percentile(late, 99), max(late) if late else float("nan")
        early = sum(1 for x in late if x < 0)
        label = "broker up (doorbell and sweep)" if broker_up else "broker emptied after every sweep (sweep only)"
        print(
            f"{args.incidents} deadlines in one minute, sweep every {args.interval:g} s, {label}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  fired       {len(fired)}   (incidents now in reserve routine: {in_reserve}; early: {early})")
        print(f"  missed      {missed}   (incidents never activated: {not_activated})")
        print(f"  duplicated  {duplicated}")
        iv = args.interval
        print(
            f"  lateness    p50 {p50:.2f} s ({p50 / iv:.2f} intervals)   p99 {p99:.2f} s ({p99 / iv:.2f} intervals)"
            f"   max {worst:.2f} s ({worst / iv:.2f} intervals)"
        )
        busy = sorted(sweep_seconds)
        print(f"  sweeps      {len(busy)} run, longest {busy[-1]:.2f} s, failed {len(sweep_errors)}")
        for error in sorted(set(sweep_errors)):
            print(f"  sweep error {error}")
        limit = 1.0 if broker_up else iv
        goal = (
            not sweep_errors and p99 <= limit and missed == 0 and duplicated == 0 and not_activated == 0 and early == 0
        )
        print(f"  goal (p99 <= {limit:g} s, 0 missed, 0 duplicated, none early): {'met' if goal else 'NOT met'}")

    minute_of_deadlines(broker_up=True)
    minute_of_deadlines(broker_up=False)
    redis_proc.terminate()
    redis_proc.wait(timeout=10)

    # --- 2. the idle sweep against history ---------------------------------------------------
    def idle_cost(runs=200):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            counts = timers.fire_due_timers()
            samples.append(time.perf_counter() - started)
            assert not counts, counts
        return statistics.median(samples) * 1000, percentile(samples, 99) * 1000

    # Nothing due, but live incidents with deadlines ahead, as on a normal day.
    Timer.objects.bulk_create(
        Timer(incident=i, kind=Timer.Kind.PROGNOSIS_PASSED, due_at=timezone.now() + timedelta(hours=2))
        for i in incidents[:50]
    )
    before = idle_cost()
    rows_before = Timer.objects.count()

    t = time.perf_counter()
    ended_at = timezone.now() - timedelta(days=30)
    batch = 10_000
    pinned = loader.in_force().id
    for start in range(0, args.history, batch):
        size = min(batch, args.history - start)
        created = Incident.objects.bulk_create(
            Incident(
                pinned_version_id=pinned,
                scenario=SESAM_UNREACHABLE.key,
                state=State.CLOSED,
                summary="Historik",
                began_at=ended_at - timedelta(hours=6),
                reported_at=ended_at - timedelta(hours=6),
                reported_by=ks,
                ended_at=ended_at,
            )
            for _ in range(size)
        )
        Timer.objects.bulk_create(
            [
                Timer(
                    incident=i,
                    kind=Timer.Kind.RESERVE_ROUTINE,
                    due_at=ended_at - timedelta(hours=2),
                    state=Timer.State.FIRED,
                    fired_at=ended_at - timedelta(hours=2),
                    outcome="activated",
                )
                for i in created
            ]
            + [
                Timer(
                    incident=i,
                    kind=Timer.Kind.ACK_TIMEOUT,
                    due_at=ended_at - timedelta(hours=5),
                    state=Timer.State.CANCELLED,
                    cancelled_at=ended_at - timedelta(hours=6),
                    outcome="acknowledged",
                )
                for i in created
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_timer; ANALYZE incidents_incident")
    print()
    print(
        f"added {args.history} ended incidents ({Timer.objects.count() - rows_before} timer rows) "
        f"in {time.perf_counter() - t:.1f} s"
    )
    after = idle_cost()
    print("idle sweep (nothing due), median / p99 of 200 runs:")
    print(f"  {rows_before:>7} timer rows: {before[0]:.2f} ms / {before[1]:.2f} ms")
    print(f"  {Timer.objects.count():>7} timer rows: {after[0]:.2f} ms / {after[1]:.2f} ms")
    sql, params = (
        Timer.objects.due(timezone.now())
        .order_by("due_at", "id")
        .values_list("pk", "incident_id")[:200]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    print("query plan of the idle sweep:")
    for line in plan:
        print("   ", line)


if __name__ == "__main__":
    main()
