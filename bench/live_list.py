"""Benchmark: the live list with many live incidents, paged, against all of it on one page.

    .venv/bin/python bench/live_list.py [--live 1054] [--requests 20]

Every open browser re-fetches the live list every LIVE_REFRESH_SECONDS. With one token able to
open incidents without bound, 1,054 live incidents made the list 845 KiB and 745 ms. Now
opening is limited per person and the list is paged (LIVE_PAGE_SIZE a page). This makes a
database (BENCH_DATABASE_URL, default runbook_bench_live) with ``--live`` live incidents,
then times, in-process with Django's test client, the first page and the whole list in one
page (LIVE_PAGE_SIZE raised for the comparison), and prints bytes and median milliseconds,
and the ratio within the run.
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

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_live")
os.environ.update(
    DATABASE_URL=URL,
    DEBUG="0",
    DEMO_MODE="0",
    SECURE_SSL_REDIRECT="0",
    OPEN_INCIDENT_LIMIT="0",
    ALLOWED_HOSTS="testserver,127.0.0.1",
    SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
    DJANGO_SETTINGS_MODULE="runbook.settings",
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--live", type=int, default=1054)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    import psycopg

    name = urlparse(URL).path.lstrip("/")
    with psycopg.connect(urlparse(URL)._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from incidents import services, views
    from runbook import scenarios as routine_scenarios

    call_command("migrate", verbosity=0)
    User = get_user_model()
    ks = User.objects.create_user("bench-ks")
    ks.groups.add(Group.objects.get(name="kundservice"))
    vs = User.objects.create_user("bench-vs")
    vs.groups.add(Group.objects.get(name="verksamhetsspecialist"))
    scenarios = list(routine_scenarios.SCENARIOS)
    for n in range(args.live):
        services.open_incident(ks, scenario=scenarios[n % 4], summary=f"Störning nummer {n} för mätning")
    client = Client()
    client.force_login(vs, backend="runbook.auth.ModelBackend")

    def measure(page_size):
        views.LIVE_PAGE_SIZE = page_size
        sizes, times = [], []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get("/")
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
            sizes.append(len(response.content))
        return statistics.median(sizes), statistics.median(times)

    paged_bytes, paged_ms = measure(50)
    whole_bytes, whole_ms = measure(args.live + 1)
    print(f"{args.live} live incidents, {args.requests} requests each (median)")
    print(f"  one page of 50:  {paged_bytes / 1024:7.1f} KiB  {paged_ms:7.1f} ms")
    print(f"  all on one page: {whole_bytes / 1024:7.1f} KiB  {whole_ms:7.1f} ms")
    print(f"  ratio: {whole_bytes / paged_bytes:.1f}x the bytes, {whole_ms / paged_ms:.1f}x the time")


if __name__ == "__main__":
    main()
