"""Scale-out on loopback: N web processes, N workers and N beats on one PostgreSQL and one Redis.

    .venv/bin/python bench/scale_out.py [--shapes 1,2] [--reports 120] [--clients 8] [--seconds 10]

For each shape (1 = one web, one worker, one beat; 2 = two of each; web, worker and beat with
the command lines of docker-compose.yml), in a fresh database (BENCH_DATABASE_URL, default
runbook_bench_scale) and a redis-server of its own:

1. --reports reports through the API from --clients clients, spread over the web processes:
   reports/s and p50/p95 ms. Each report (telephony fault) writes its notices.
2. From the first report until every notice is at the receiver (a separate stub server, outside
   the figures): notices/s, and how many arrived twice (must be 0).
3. Closed loop for --seconds against the live list (signed-in) over all web processes: req/s.
4. RSS of the shape's processes at rest.

The machine has 2 cores and other work may run on it: compare the shapes within one run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import (  # noqa: E402 - the shape is started as the load benchmark starts it
    ROOT,
    Started,
    children,
    compose_commands,
    free_port,
    manage,
    memory,
    start_stubs,
    wait_for,
)

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_scale")


def start_shape(started, tmp, n):
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_port, stub_port = free_port(), free_port()
    web_ports = [free_port() for _ in range(n)]
    started.start(
        "redis",
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        os.environ.copy(),
    )
    stubs = f"http://127.0.0.1:{stub_port}"
    env = {
        **os.environ,
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": "bench-only-" + "z" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATA_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "SITE_URL": f"http://127.0.0.1:{web_ports[0]}",
        "STUBS_ENABLED": "1",
        "VARDGIVARE_SKANE_URL": f"{stubs}/stubs/vardgivare_skane/",
        "DRIFTINFO_URL": f"{stubs}/stubs/driftinfo/",
        "TELEPHONY_URL": f"{stubs}/stubs/telephony/",
        "EMAIL_URL": f"{stubs}/stubs/email/",
        "OPEN_INCIDENT_LIMIT": "0",
        "API_RATE_PER_TOKEN": "",
        "API_RATE_PER_ADDRESS": "",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    try:
        manage(env, "migrate", "--noinput")
    except subprocess.CalledProcessError as error:
        sys.exit(error.stderr[-2000:])
    manage(env, "collectstatic", "--noinput", "-v0")
    token = (
        manage(
            env,
            "shell",
            "-c",
            (
                "from django.contrib.auth import get_user_model\nfrom django.contrib.auth.models import Group\n"
                "from runbook.services import issue_token\n"
                "u = get_user_model().objects.create_user(username='ks-bench')\n"
                "u.groups.add(Group.objects.get(name='kundservice'))\nprint(issue_token(u, 'bench')[1])\n"
            ),
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    commands = compose_commands()
    start_stubs(started, env, stub_port, threads=8)
    for i, port in enumerate(web_ports):
        web = [a.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for a in commands["web"]]
        started.start(f"web{i}", web, env)
        started.start(f"worker{i}", commands["worker"] + [f"--hostname=w{i}@%h"], env)
        beat = [a if not a.startswith("--schedule=") else f"--schedule={tmp / f'beat{i}'}" for a in commands["beat"]]
        started.start(f"beat{i}", beat, env)
    bases = [f"http://127.0.0.1:{port}" for port in web_ports]
    for base in bases + [stubs]:
        wait_for(f"{base}/healthz", 180)
    for base in bases:
        wait_for(f"{base}/readyz", 180)
    return bases, stubs, token


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def measure(n, args):
    tmp = Path(tempfile.mkdtemp(prefix=f"scale{n}-"))
    started = Started(tmp)
    try:
        bases, stubs, token = start_shape(started, tmp, n)
        rss = sum(
            memory(p)[0]
            for name, proc in started.procs.items()
            if name.startswith(("web", "worker", "beat"))
            for p in children(proc.pid)
        )
        headers = {"Authorization": f"Bearer {token}"}
        clients = [httpx.Client(base_url=bases[i % n], headers=headers, timeout=60) for i in range(args.clients)]
        times, errors, lock = [], [0], threading.Lock()

        def report(i):
            began = time.monotonic()
            answer = clients[i % args.clients].post(
                "/api/v1/incidents", json={"scenario": "telephony_fault", "summary": f"Telefonin {i}"}
            )
            with lock:
                times.append(time.monotonic() - began)
                errors[0] += answer.status_code != 201

        first = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(report, range(args.reports)))
        reported = time.monotonic() - first
        import psycopg

        arrived, duplicates = 0, 0
        deadline = time.monotonic() + 300
        with psycopg.connect(DB_URL, autocommit=True) as db:
            (expected,) = db.execute("SELECT count(*) FROM notifications_notification").fetchone()
            while time.monotonic() < deadline:
                arrived, duplicates = db.execute(
                    "SELECT count(*), coalesce(sum(duplicates), 0) FROM notifications_stubmessage"
                ).fetchone()
                if arrived >= expected:
                    break
                time.sleep(0.5)
        delivered = time.monotonic() - first

        count, stop_at = [0], time.monotonic() + args.seconds

        def poll(i):
            client = clients[i]
            while time.monotonic() < stop_at:
                if client.get("/api/v1/incidents?limit=20").status_code == 200:
                    with lock:
                        count[0] += 1

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(poll, range(args.clients)))
        for client in clients:
            client.close()
        return {
            "reports/s": args.reports / reported,
            "report p50 ms": statistics.median(times) * 1000,
            "report p95 ms": pct(times, 95),
            "report errors": errors[0],
            "notices/s": arrived / delivered,
            "notices arrived": f"{arrived}/{expected}",
            "arrived twice": duplicates,
            "API list req/s": count[0] / args.seconds,
            "RSS MiB at rest": rss,
        }
    finally:
        started.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="1,2", help="processes of each kind, comma-separated")
    parser.add_argument("--reports", type=int, default=120)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    results = {int(n): measure(int(n), args) for n in args.shapes.split(",")}
    print(f"{'':24}" + "".join(f"{f'{n} web/worker/beat':>22}" for n in results))
    for key in next(iter(results.values())):
        cells = []
        for values in results.values():
            value = values[key]
            cells.append(f"{value:>22.1f}" if isinstance(value, float) else f"{value!s:>22}")
        print(f"{key:24}" + "".join(cells))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
