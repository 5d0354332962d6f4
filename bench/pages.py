"""Benchmark: server time of the review pages at 5,000 and at 50,000 ended incidents.

    .venv/bin/python bench/pages.py [--sizes 5000 50000] [--requests 200]

Uses its own PostgreSQL database (BENCH_DATABASE_URL, default runbook_bench_history), which it
drops and creates. Seeds with ``seed_history`` (about 20 timeline events per incident), runs
VACUUM ANALYZE as autovacuum would, then times each page in-process with Django's test
client (no network; this is the server's time) beside ``/healthz``. Prints median and p95
in milliseconds, the number of SQL queries per page, and the ratios the goal speaks of:
each page within 10x of /healthz, and at the larger size within 1.5x of its own time at the
smaller one.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_history")
os.environ.update(
    DATABASE_URL=DB_URL, DEBUG="0", DEMO_MODE="0", SECURE_SSL_REDIRECT="0",
    ALLOWED_HOSTS="testserver,127.0.0.1", SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
    DJANGO_SETTINGS_MODULE="runbook.settings",
)


def recreate_database():
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(client, url, n):
    from django.db import connection

    for _ in range(10):
        assert client.get(url).status_code == 200, url
    # Counted with a wrapper: request_started resets connection.queries, so a capture would not.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *a: (queries.append(sql), execute(sql, *a))[1]):
        client.get(url)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    recreate_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from incidents import services
    from incidents.models import Incident

    call_command("migrate", verbosity=0)
    User = get_user_model()
    va = User.objects.create_user("bench-va", first_name="Vera")
    va.groups.add(Group.objects.get(name="verksamhetsansvarig"))
    ks = User.objects.create_user("bench-ks", first_name="Karin")
    ks.groups.add(Group.objects.get(name="kundservice"))
    vs = User.objects.create_user("bench-vs", first_name="Ville")
    vs.groups.add(Group.objects.get(name="verksamhetsspecialist"))
    # A few incidents live now, as on a bad day.
    for scenario in ("sesam_unreachable", "telephony_fault", "kundservice_link_loss"):
        incident = services.open_incident(ks, scenario=scenario, summary="Pågående störning för mätning")
        if scenario == "sesam_unreachable":
            services.escalate(vs, incident.pk)

    client = Client()
    client.force_login(va)
    results = {}
    seeded = 0
    for size in args.sizes:
        t = time.perf_counter()
        call_command("seed_history", incidents=size - seeded, seed=size, stdout=open(os.devnull, "w"))
        seeded = size
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT count(*) FROM incidents_timelineevent")
            events = cursor.fetchone()[0]
        print(f"seeded {size} ended incidents, {events} timeline events in {time.perf_counter() - t:.0f} s", flush=True)
        recent = Incident.objects.ended().order_by("-reported_at").values_list("pk", flat=True).first()
        pages = {
            "/healthz": "/healthz",
            "live list": reverse("incidents:live"),
            "incident page": reverse("incidents:detail", args=[recent]),
            "incident report": reverse("incidents:incident_report", args=[recent]),
            "Historik, filter": reverse("incidents:history") + "?scenario=sesam_unreachable&reservrutin=ja",
            "Historik, free text": reverse("incidents:history") + "?q=leverant%C3%B6ren",
            "figures (12 months)": reverse("incidents:figures"),
        }
        results[size] = {name: timed(client, url, args.requests) for name, url in pages.items()}

    sizes = args.sizes
    print()
    header = f"{'page':22}" + "".join(f"{'median/p95 ms @' + str(s):>26}{'queries':>9}" for s in sizes)
    header += f"{'x healthz':>11}" + (f"{'growth':>9}" if len(sizes) > 1 else "")
    print(header)
    for name in results[sizes[0]]:
        line = f"{name:22}"
        for s in sizes:
            median, p95, queries = results[s][name]
            line += f"{median:17.2f} /{p95:7.2f}{queries:9d}"
        last = results[sizes[-1]][name][0]
        line += f"{last / results[sizes[-1]]['/healthz'][0]:10.1f}x"
        if len(sizes) > 1:
            line += f"{last / results[sizes[0]][name][0]:8.2f}x"
        print(line)


if __name__ == "__main__":
    main()
