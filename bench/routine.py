"""Benchmark: what pinning every incident to a routine version costs, against the code before it.

    .venv/bin/python bench/routine.py [--before 0faf281] [--rounds 6] [--per-round 15]

Times three things with the code of two commits in one run: opening an incident (the
service: its tasks, deadlines and notices), firing a deadline (the 4 hours, through the
sweep) and rendering the incident page (the cache emptied first, so it is rendered). "before"
is ``--before`` (default 0faf281: the routine as Python in runbook/scenarios.py), unpacked
with ``git archive`` into a temporary directory; "after" is this working tree. Each has its
own PostgreSQL database (BENCH_DATABASE_URL plus ``_before``/``_after``), dropped, created
and migrated. The two are run in alternating rounds, each round a fresh process per tree
that warms up and then times ``--per-round`` of each, so that a change of the machine's
load hits both alike. Prints the median and p95 in milliseconds and after/before as a ratio
(the goal: at most 1.2x).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_routine")
OPS = ("open an incident", "fire a deadline", "incident page")
WARM_UP = 3

# Run in each tree's own directory: only what both versions of the code have.
CHILD = r"""
import json, os, sys, time
from datetime import timedelta
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from incidents import services, timers
from incidents.models import Timer
from runbook.scenarios import SESAM_UNREACHABLE

User = get_user_model()

def user(name, role):
    person, made = User.objects.get_or_create(username=name, defaults={"first_name": name})
    person.groups.add(Group.objects.get(name=role))
    return person

ks, vs = user("bench-ks", "kundservice"), user("bench-vs", "verksamhetsspecialist")
client = Client()
client.force_login(vs)
times = {"open an incident": [], "fire a deadline": [], "incident page": []}
for i in range(WARM_UP + PER_ROUND):
    t = time.perf_counter()
    incident = services.open_incident(ks, scenario=SESAM_UNREACHABLE.key, summary="Mätning")
    opened = time.perf_counter() - t
    services.escalate(vs, incident.pk)
    Timer.objects.filter(incident=incident, kind=Timer.Kind.RESERVE_ROUTINE, state=Timer.State.PENDING).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    t = time.perf_counter()
    fired = timers.fire_due_timers()
    fire = time.perf_counter() - t
    assert fired.get("fired", sum(fired.values())) >= 1, fired
    cache.clear()
    t = time.perf_counter()
    response = client.get(reverse("incidents:detail", args=[incident.pk]))
    page = time.perf_counter() - t
    assert response.status_code == 200, response.status_code
    if i >= WARM_UP:
        times["open an incident"].append(opened)
        times["fire a deadline"].append(fire)
        times["incident page"].append(page)
print("RESULT " + json.dumps(times))
"""


def database_url(which):
    parsed = urlparse(BASE_URL)
    return parsed._replace(path=f"{parsed.path}_{which}").geturl()


def environment(which, data_dir):
    return {
        **os.environ,
        "DATABASE_URL": database_url(which),
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "x" * 50),
        "DJANGO_SETTINGS_MODULE": "runbook.settings",
        "DATA_DIR": str(data_dir),
        "OPEN_INCIDENT_LIMIT": "0",
    }


def fresh_database(which):
    import psycopg

    name = urlparse(database_url(which)).path.lstrip("/")
    admin = urlparse(BASE_URL)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(cmd, cwd, env):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} in {cwd} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(which, tree, data_dir):
    fresh_database(which)
    env = environment(which, data_dir)
    run([sys.executable, "manage.py", "migrate", "--noinput"], tree, env)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], tree, env)
    return env


def one_round(tree, env, per_round):
    code = CHILD.replace("WARM_UP + PER_ROUND", f"{WARM_UP} + {per_round}").replace("i >= WARM_UP", f"i >= {WARM_UP}")
    out = run([sys.executable, "-c", code], tree, env)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def ms(values, q):
    ordered = sorted(values)
    if q == 50:
        return statistics.median(ordered) * 1000
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="0faf281")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-routine-") as tmp:
        before = Path(tmp) / "before"
        before.mkdir()
        archive = Path(tmp) / "before.tar"
        subprocess.run(["git", "archive", "-o", str(archive), args.before], cwd=ROOT, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(before, filter="data")
        trees = {"before": before, "after": ROOT}
        envs = {}
        for which, tree in trees.items():
            data_dir = Path(tmp) / f"data-{which}"
            data_dir.mkdir()
            envs[which] = prepare(which, tree, data_dir)
            print(f"{which}: {tree} migrated", flush=True)

        times = {which: {op: [] for op in OPS} for which in trees}
        for n in range(args.rounds):
            order = ("before", "after") if n % 2 == 0 else ("after", "before")
            for which in order:
                for op, values in one_round(trees[which], envs[which], args.per_round).items():
                    times[which][op].extend(values)
            print(f"round {n + 1}/{args.rounds} done", flush=True)

    print(f"\n{args.rounds} rounds x {args.per_round} each, before = {args.before}, after = working tree")
    print(f"{'':20} {'before ms (p50/p95)':>22} {'after ms (p50/p95)':>22} {'after/before':>13}")
    worst = 0.0
    for op in OPS:
        b, a = times["before"][op], times["after"][op]
        ratio = statistics.median(a) / statistics.median(b)
        worst = max(worst, ratio)
        print(f"{op:20} {ms(b, 50):10.1f} / {ms(b, 95):9.1f} {ms(a, 50):10.1f} / {ms(a, 95):9.1f} {ratio:12.2f}x")
    print(f"\nworst ratio {worst:.2f}x (goal: at most 1.2x): {'met' if worst <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
