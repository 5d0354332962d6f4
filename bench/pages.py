"""Benchmark: server time of the review pages at 5,000 and at 50,000 ended incidents.

    .venv/bin/python bench/pages.py [--sizes 5000 50000] [--requests 300] [--rounds 6] [--reuse]

Each size has its own PostgreSQL database (BENCH_DATABASE_URL plus ``_<size>``, default
runbook_bench_pages_5000 and runbook_bench_pages_50000), dropped, created and seeded with
``seed_history`` (about 20 timeline events per incident) and three live incidents, then
VACUUM ANALYZE as autovacuum would. ``--reuse`` keeps a database that already holds that
many ended incidents (it is migrated, not reseeded).

The pages are timed in-process with Django's test client (no network: the server's time).
The sizes and pages are interleaved in ``--rounds`` rounds, each page warmed up in each round,
so that a change of the machine's load hits every figure alike; the ratios the goal speaks of
are taken within the run: each page within 10x of /healthz, and at the largest size within
1.5x of its own time at the smallest. Prints median and p95 in milliseconds and the SQL
queries per page. "tokens page" is the smallest page drawn from the base template (a form
and an empty list): it shows what any signed-in page costs before it reads any data.
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

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_pages")
os.environ.update(
    DATABASE_URL=BASE_URL,
    DEBUG="0",
    DEMO_MODE="0",
    SECURE_SSL_REDIRECT="0",
    ALLOWED_HOSTS="testserver,127.0.0.1",
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
    DJANGO_SETTINGS_MODULE="runbook.settings",
)
WARM_UP = 5
# A page marked with this is timed with the cache emptied before each request.
CHANGED = "bench-changed"


def database_name(size):
    return f"{urlparse(BASE_URL).path.lstrip('/')}_{size}"


def admin_connection():
    import psycopg

    return psycopg.connect(urlparse(BASE_URL)._replace(path="/postgres").geturl(), autocommit=True)


def use_database(name):
    """Point Django's connection at another database (closed now, opened on the next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def prepare(size, reuse):
    """Make (or reuse) the database of one size; returns a signed-in client and the page URLs."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from incidents import services
    from incidents.models import Incident
    from runbook.scenarios import KUNDSERVICE_LINK_LOSS, SESAM_UNREACHABLE, TELEPHONY_FAULT

    name = database_name(size)
    with admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or not reuse:
            conn.execute(f'CREATE DATABASE "{name}"')
    use_database(name)
    call_command("migrate", verbosity=0)
    User = get_user_model()
    if reuse and Incident.objects.ended().count() == size:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # after whatever a migration rewrote, as autovacuum would
        print(f"{name}: reusing {size} ended incidents", flush=True)
    else:
        if Incident.objects.exists():
            sys.exit(f"{name} holds other data: drop it or run without --reuse")
        t = time.perf_counter()
        ks = User.objects.create_user("bench-ks", first_name="Karin")
        ks.groups.add(Group.objects.get(name="kundservice"))
        vs = User.objects.create_user("bench-vs", first_name="Ville")
        vs.groups.add(Group.objects.get(name="verksamhetsspecialist"))
        # A few incidents live now, as on a bad day.
        for scenario in (SESAM_UNREACHABLE.key, TELEPHONY_FAULT.key, KUNDSERVICE_LINK_LOSS.key):
            incident = services.open_incident(ks, scenario=scenario, summary="Pågående störning för mätning")
            if scenario == SESAM_UNREACHABLE.key:
                services.escalate(vs, incident.pk)
        call_command("seed_history", incidents=size, seed=size, stdout=open(os.devnull, "w"))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"{name}: seeded {size} ended incidents in {time.perf_counter() - t:.0f} s", flush=True)
    va, created = User.objects.get_or_create(username="bench-va", defaults={"first_name": "Vera"})
    va.groups.add(Group.objects.get(name="verksamhetsansvarig"))
    client = Client()
    client.force_login(va)
    recent = Incident.objects.ended().order_by("-reported_at").values_list("pk", flat=True).first()
    live = Incident.objects.live().filter(scenario=SESAM_UNREACHABLE.key).values_list("pk", flat=True).first()
    pages = {
        "/healthz": "/healthz",
        "tokens page": reverse("tokens"),
        "live list": reverse("incidents:live"),
        "incident page": reverse("incidents:detail", args=[recent]),
        # A live incident's page as most requests find it (kept rendered since its last change),
        # and as the first request after a change finds it (rendered: the cache emptied first).
        "live incident page": reverse("incidents:detail", args=[live]),
        "live incident, changed": reverse("incidents:detail", args=[live]) + "?" + CHANGED,
        "incident report": reverse("review:incident_report", args=[recent]),
        "Historik": reverse("review:history"),
        "Historik, filter": reverse("review:history") + f"?scenario={SESAM_UNREACHABLE.key}&reservrutin=ja",
        "Historik, free text": reverse("review:history") + "?q=leverant%C3%B6ren",
        "figures (12 months)": reverse("review:figures"),
        # Twelve months that start and end mid-month: two part months counted from the incidents.
        "figures, mid-month": reverse("review:figures") + f"?fran={mid_month(-380)}&till={mid_month(-15)}",
    }
    return client, pages


def mid_month(days):
    """The 15th of the month ``days`` from today (Stockholm), as the date form field wants it."""
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() + timedelta(days=days)).replace(day=15).isoformat()


def count_queries(client, url):
    from django.core.cache import cache
    from django.db import connection

    from runbook import health

    health.beat()  # as in sample()
    assert client.get(url).status_code == 200, url  # warmed up as in sample(), then counted
    if url.endswith(CHANGED):
        cache.clear()
    # Counted with a wrapper: request_started resets connection.queries, so a capture would not.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *a: (queries.append(sql), execute(sql, *a))[1]):
        assert client.get(url).status_code == 200, url
    return len(queries)


def sample(client, url, n):
    from runbook import health

    # The scheduler beats every TIMER_SWEEP_SECONDS in production; without a recent beat
    # every page would show the "beat has stopped" warning, which is not the page people see.
    health.beat()
    for _ in range(WARM_UP):
        assert client.get(url).status_code == 200, url
    samples = []
    from django.core.cache import cache

    changed = url.endswith(CHANGED)
    for _ in range(n):
        if changed:
            cache.clear()
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page and size")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reuse", action="store_true", help="keep databases already seeded to size")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the pages' static manifest
    sizes = args.sizes
    setups = {size: prepare(size, args.reuse) for size in sizes}
    queries = {}
    for size, (client, pages) in setups.items():
        use_database(database_name(size))
        queries[size] = {name: count_queries(client, url) for name, url in pages.items()}

    samples = {size: {name: [] for name in setups[size][1]} for size in sizes}
    per_round = max(1, args.requests // args.rounds)
    t = time.perf_counter()
    for number in range(args.rounds):
        # Every other round the other way round, so that neither size always goes first.
        for size in sizes if number % 2 == 0 else sizes[::-1]:
            client, pages = setups[size]
            use_database(database_name(size))
            for name, url in pages.items():
                samples[size][name] += sample(client, url, per_round)
    print(
        f"timed {per_round * args.rounds} requests per page and size in {args.rounds} rounds, "
        f"{time.perf_counter() - t:.0f} s; load average now {os.getloadavg()[0]:.2f}"
    )

    def median(size, name):
        return statistics.median(samples[size][name])

    def p95(size, name):
        values = sorted(samples[size][name])
        return values[int(len(values) * 0.95) - 1]

    print()
    header = f"{'page':22}" + "".join(f"{'median / p95 ms @' + str(s):>24}{'queries':>9}" for s in sizes)
    header += f"{'x healthz':>11}" + (f"{'growth':>9}" if len(sizes) > 1 else "")
    print(header)
    big, small = sizes[-1], sizes[0]
    for name in samples[small]:
        line = f"{name:22}"
        for s in sizes:
            line += f"{median(s, name):15.2f} /{p95(s, name):7.2f}{queries[s][name]:9d}"
        line += f"{median(big, name) / median(big, '/healthz'):10.1f}x"
        if len(sizes) > 1:
            line += f"{median(big, name) / median(small, name):8.2f}x"
        print(line)


if __name__ == "__main__":
    main()
