"""Benchmark of the durable deadlines (incidents.models.Timer) and the beat-driven sweep.

    .venv/bin/python bench/timers.py [--incidents 1000] [--interval 5] [--workers 2] [--history 100000]

1. ``--incidents`` live sesam_unreachable incidents whose 4-hour deadlines fall in the same
   minute. A beat thread starts a sweep every ``--interval`` seconds on a pool of
   ``--workers`` threads (as ``celery worker --pool=threads`` runs what beat sends; a sweep
   slower than the interval overlaps the next one). Prints the lateness of each firing
   (fired_at - due_at: p50, p99, max, also in sweep intervals) and how many fired, were
   missed and were duplicated.
2. The cost of a sweep with nothing due, before and after ``--history`` ended incidents
   (each with a fired and a cancelled deadline) are added: it must not grow with history.

Needs PostgreSQL; uses its own database (DATABASE_URL, default runbook_timers_bench), which
it empties first.
"""

import argparse
import os
import statistics
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


def ensure_database(url):
    import psycopg
    from urllib.parse import urlparse

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


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
    parser.add_argument("--interval", type=float, default=5.0, help="sweep interval, seconds")
    parser.add_argument("--workers", type=int, default=2, help="worker threads running sweeps")
    parser.add_argument("--history", type=int, default=100_000, help="ended incidents for the idle test")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from incidents import services
    from incidents.models import Incident, State, TimelineEvent, Timer

    if connection.vendor != "postgresql":
        sys.exit("bench/timers.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE incidents_timer, incidents_timelineevent, incidents_task, incidents_reserveorder, "
            "incidents_incident RESTART IDENTITY CASCADE"
        )
    User = get_user_model()
    ks, _ = User.objects.get_or_create(username="bench-kundservice")
    ks.groups.add(Group.objects.get(name="kundservice"))
    interval = timedelta(seconds=args.interval)
    print(f"PostgreSQL {connection.pg_version}, sweep interval {args.interval:g} s, "
          f"{args.workers} worker threads, RESERVE_ROUTINE_AFTER {settings.RESERVE_ROUTINE_AFTER}")

    # --- 1. a minute full of deadlines -------------------------------------------------------
    t = time.perf_counter()
    incidents = [
        services.open_incident(ks, scenario="sesam_unreachable", summary=f"Bench {n}")
        for n in range(args.incidents)
    ]
    print(f"opened {len(incidents)} incidents in {time.perf_counter() - t:.1f} s")
    # Put every deadline in one minute, starting two intervals from now.
    minute = timezone.now() + 2 * interval
    timers = list(Timer.objects.pending().filter(kind=Timer.Kind.RESERVE_ROUTINE).order_by("id"))
    for i, timer in enumerate(timers):
        timer.due_at = minute + timedelta(seconds=60 * i / len(timers))
    Timer.objects.bulk_update(timers, ["due_at"])
    last_due = minute + timedelta(seconds=60)

    pool = ThreadPoolExecutor(max_workers=args.workers)
    sweep_seconds = []

    def sweep():
        started = time.perf_counter()
        try:
            services.fire_due_timers()
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
        if timezone.now() > last_due and not Timer.objects.pending().exists():
            break
        time.sleep(0.5)
    stop.set()
    beat_thread.join()
    pool.shutdown(wait=True)

    fired = list(Timer.objects.filter(kind=Timer.Kind.RESERVE_ROUTINE, state=Timer.State.FIRED, due_at__gte=minute))
    late = [(t.fired_at - t.due_at).total_seconds() for t in fired]
    missed = Timer.objects.pending().filter(due_at__lte=last_due).count()
    activation_counts = [
        n for n in Incident.objects.filter(pk__in=[i.pk for i in incidents]).annotate(
            n=__import__("django.db.models", fromlist=["Count"]).Count(
                "events", filter=__import__("django.db.models", fromlist=["Q"]).Q(
                    events__kind=TimelineEvent.Kind.TRANSITION, events__data__name="activate_reserve_routine"
                )
            )
        ).values_list("n", flat=True)
    ]
    duplicated = sum(n - 1 for n in activation_counts if n > 1)
    not_activated = sum(1 for n in activation_counts if n == 0)
    in_reserve = Incident.objects.filter(pk__in=[i.pk for i in incidents], state=State.RESERVE_ROUTINE).count()
    p50, p99, worst = percentile(late, 50), percentile(late, 99), max(late) if late else float("nan")
    print()
    print(f"{args.incidents} deadlines in one minute, sweep every {args.interval:g} s")
    print(f"  fired       {len(fired)}   (incidents now in reserve routine: {in_reserve})")
    print(f"  missed      {missed}   (incidents never activated: {not_activated})")
    print(f"  duplicated  {duplicated}")
    iv = args.interval
    print(f"  lateness    p50 {p50:.2f} s ({p50 / iv:.2f} intervals)   p99 {p99:.2f} s ({p99 / iv:.2f} intervals)"
          f"   max {worst:.2f} s ({worst / iv:.2f} intervals)")
    busy = sorted(sweep_seconds)
    print(f"  sweeps      {len(busy)} run, longest {busy[-1]:.2f} s, "
          f"firing cost {sum(busy) / max(len(fired), 1) * 1000:.1f} ms per deadline")
    goal = p99 <= 2 * iv and missed == 0 and duplicated == 0 and not_activated == 0
    print(f"  goal (p99 <= 2 intervals, 0 missed, 0 duplicated): {'met' if goal else 'NOT met'}")

    # --- 2. the idle sweep against history ---------------------------------------------------
    def idle_cost(runs=200):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            counts = services.fire_due_timers()
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
    for start in range(0, args.history, batch):
        size = min(batch, args.history - start)
        created = Incident.objects.bulk_create(
            Incident(scenario="sesam_unreachable", state=State.CLOSED, summary="Historik",
                     began_at=ended_at - timedelta(hours=6), reported_at=ended_at - timedelta(hours=6),
                     reported_by=ks, ended_at=ended_at)
            for _ in range(size)
        )
        Timer.objects.bulk_create(
            [Timer(incident=i, kind=Timer.Kind.RESERVE_ROUTINE, due_at=ended_at - timedelta(hours=2),
                   state=Timer.State.FIRED, fired_at=ended_at - timedelta(hours=2), outcome="activated")
             for i in created]
            + [Timer(incident=i, kind=Timer.Kind.ACK_TIMEOUT, due_at=ended_at - timedelta(hours=5),
                     state=Timer.State.CANCELLED, cancelled_at=ended_at - timedelta(hours=6), outcome="acknowledged")
               for i in created]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_timer; ANALYZE incidents_incident")
    print()
    print(f"added {args.history} ended incidents ({Timer.objects.count() - rows_before} timer rows) "
          f"in {time.perf_counter() - t:.1f} s")
    after = idle_cost()
    print("idle sweep (nothing due), median / p99 of 200 runs:")
    print(f"  {rows_before:>7} timer rows: {before[0]:.2f} ms / {before[1]:.2f} ms")
    print(f"  {Timer.objects.count():>7} timer rows: {after[0]:.2f} ms / {after[1]:.2f} ms")
    sql, params = (
        Timer.objects.due(timezone.now()).order_by("due_at", "id").values_list("pk", "incident_id")[:200]
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
