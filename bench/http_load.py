"""HTTP load on loopback: the production shape, and the embedded default (`make run`).

    .venv/bin/python bench/http_load.py [--target production|embedded|both] [--seconds 60]
        [--pollers 200] [--poll-every 5] [--pages 10] [--reports 2] [--history 1] [--healthz 5]
        [--phase-seconds 8] [--concurrency 4] [--history-size 2000] [--burst 20] [--memory-only]

production: PostgreSQL (its own database, BENCH_DATABASE_URL, default runbook_bench_http), a
redis-server of its own on a free port, and web, worker and beat started with the command lines
of docker-compose.yml (only the address and the beat schedule's path changed); a second small
gunicorn serves the stub receivers the notices go to, outside the figures.
embedded: `make run` in a fresh data directory (SQLite, the file-system broker).

For each target it signs in over HTTP, then (with --memory-only only 3, and no load):

0. --burst reports at the same moment (POST /anmal/, default 20): all answered, 0 errors.
1. Open-loop mix for --seconds: --pollers people polling the live list every --poll-every
   seconds as the page does (htmx, each with the ETag it holds), --pages incident pages a
   second (live incidents), --reports reports a second (POST /anmal/), --history Historik a
   second and --healthz /healthz a second (with the session cookie: "signed in"). Requests
   are sent at their time whether or not earlier ones have been answered. Prints per page:
   req/s, p50/p95/p99 ms, errors, p50 against /healthz's.
2. Closed loop, one page at a time for --phase-seconds with --concurrency clients: req/s
   (capacity) and the web processes' CPU per request (from /proc), against /healthz's.
3. RSS (and PSS, which counts pages shared between processes once) of every process of the
   shape, at rest before the load.

The machine has 2 cores and other work may run on it: the goals are ratios within one run.
Goals: live-list p99 <= 200 ms and 0 errors over the mix; an unchanged poll <= 2x a signed-in
/healthz in web CPU; the live fragment's closed-loop capacity >= 50 % of /healthz's; the
production shape <= 600 MiB RSS at rest.
"""

import argparse
import asyncio
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/runbook_bench_http")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
ROLES = ("kundservice", "verksamhetsspecialist", "systemansvarig", "verksamhetsansvarig", "telefoniansvarig")


# --- processes -------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {seconds} s")


class Started:
    """Processes this script started, each in a session of its own; stopped by their ids."""

    def __init__(self, logs):
        self.logs = logs
        self.procs = {}

    def start(self, name, cmd, env, cwd=ROOT):
        log = open(self.logs / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self.procs[name]

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def children(pid):
    """The process and all its descendants."""
    found, todo = [], [pid]
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    while todo:
        p = todo.pop()
        found.append(p)
        todo += parents.get(p, [])
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def memory(pid):
    """(RSS, PSS) in MiB."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


# --- the two targets ---------------------------------------------------------------------------


def compose_commands():
    """web, worker and beat as docker-compose.yml runs them."""
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: list(services[name]["command"]) for name in ("web", "worker", "beat")}


def manage(env, *args, **kwargs):
    return subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True, **kwargs
    )


def start_production(started, tmp, history_size):
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_port, web_port, stub_port = free_port(), free_port(), free_port()
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
        "SECRET_KEY": "bench-only-" + "y" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "TRUST_X_FORWARDED_PROTO": "0",
        "DATA_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "STUBS_ENABLED": "1",
        "VARDGIVARE_SKANE_URL": f"{stubs}/stubs/vardgivare_skane/",
        "DRIFTINFO_URL": f"{stubs}/stubs/driftinfo/",
        "TELEPHONY_URL": f"{stubs}/stubs/telephony/",
        "EMAIL_URL": f"{stubs}/stubs/email/",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        # Capacity is measured, not abuse limits: a few users send every request from one address.
        "OPEN_INCIDENT_LIMIT": "0",
        "API_RATE_PER_TOKEN": "",
        "API_RATE_PER_ADDRESS": "",
    }
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "-v0")
    passwords = make_users(env)
    if history_size:
        manage(env, "seed_history", f"--incidents={history_size}", "--seed=14")
    commands = compose_commands()
    web = [a.replace("0.0.0.0:8000", f"127.0.0.1:{web_port}") for a in commands["web"]]
    beat = [
        a if not a.startswith("--schedule=") else f"--schedule={tmp / 'celerybeat-schedule'}" for a in commands["beat"]
    ]
    start_stubs(started, env, stub_port, threads=4)
    started.start("web", web, env)
    started.start("worker", commands["worker"], env)
    started.start("beat", beat, env)
    print("production shape:", " | ".join(shlex.join(c) for c in (web, commands["worker"], beat)))
    return f"http://127.0.0.1:{web_port}", passwords, {"web": ["web"], "all": ["web", "worker", "beat"]}


def start_stubs(started, env, port, threads):
    """A small gunicorn of the app serving the stub receivers, outside the figures."""
    command = ["gunicorn", "runbook.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    started.start("stubs", command + ["--threads", str(threads), "--worker-class", "gthread"], env)


def make_users(env):
    """One person per role (and three more Kundservice for the reports), with fresh passwords."""
    import secrets

    people = {role: role for role in ROLES}
    people.update({f"kundservice{n}": "kundservice" for n in (2, 3, 4)})
    passwords = {user: secrets.token_urlsafe(12) for user in people}
    script = (
        "from django.contrib.auth import get_user_model\nfrom django.contrib.auth.models import Group\n"
        f"people, passwords = {people!r}, {passwords!r}\n"
        "for name, role in people.items():\n"
        "    u, _ = get_user_model().objects.get_or_create(username=name, defaults={'email': name + '@bench.invalid'})\n"
        "    u.set_password(passwords[name]); u.save(); u.groups.add(Group.objects.get(name=role))\n"
    )
    manage(env, "shell", "-c", script)
    return passwords


def start_embedded(started, tmp):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.update(
        DATA_DIR=str(tmp),
        LOG_LEVEL="WARNING",
        PORT=str(port),
        OPEN_INCIDENT_LIMIT="0",
        API_RATE_PER_TOKEN="",
        API_RATE_PER_ADDRESS="",
    )
    started.start("make-run", ["make", "run", f"PORT={port}"], env)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", 600)  # migrate, collectstatic and the demo data first
    passwords = {}
    for line in (tmp / "demo-passwords.txt").read_text().splitlines():
        user, password = line.split(":", 1)
        passwords[user.strip()] = password.strip()
    return base, passwords, None


def process_groups(started, groups):
    """name -> pids: the web processes and all processes of the shape (at the time of asking)."""
    if groups is None:  # make run: whatever runs under it
        everything = children(started.procs["make-run"].pid)
        web = [p for p in everything if "runserver" in cmdline(p) or "gunicorn" in cmdline(p)]
        shape = [
            p for p in everything if "manage.py" in cmdline(p) or "celery" in cmdline(p) or "gunicorn" in cmdline(p)
        ]
        return {"web": web, "all": shape}
    return {key: [p for name in names for p in children(started.procs[name].pid)] for key, names in groups.items()}


# --- the load ----------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.times, self.errors, self.codes = [], 0, {}

    def add(self, ms, code, ok):
        self.times.append(ms)
        self.codes[code] = self.codes.get(code, 0) + 1
        if not ok:
            self.errors += 1


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


async def sign_in(base, username, passwords, connections=60):
    if username not in passwords:  # make run has one demo user per role
        username = username.rstrip("0123456789")
    password = passwords[username]
    client = httpx.AsyncClient(
        base_url=base,
        timeout=30,
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=connections,
            max_keepalive_connections=connections,
            # under gunicorn's keep-alive (2 s): never reuse a
            # connection the server is closing
            keepalive_expiry=1.0,
        ),
    )
    page = await client.get("/logga-in/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        "/logga-in/", data={"username": username, "password": password, "csrfmiddlewaretoken": token}
    )
    if response.status_code != 302:
        sys.exit(f"could not sign in as {username}: {response.status_code}")
    return client


def csrf_of(client):
    return client.cookies.get("csrftoken")


async def timed(stats, call, ok_codes):
    start = time.perf_counter()
    try:
        response = await call()
        code = response.status_code
    except httpx.HTTPError as exc:
        response, code = None, type(exc).__name__
    except asyncio.CancelledError:
        stats.add((time.perf_counter() - start) * 1000, "unanswered", False)
        raise
    stats.add((time.perf_counter() - start) * 1000, code, code in ok_codes)
    return response


def poll_name(args):
    return "incident poll" if args.poll == "incident" else "live list poll"


async def open_loop(base, clients, args):
    stats = {name: Stats() for name in (poll_name(args), "incident page", "report", "Historik", "/healthz")}
    live = await clients["verksamhetsansvarig"].get("/api/v1/incidents", params={"phase": "live", "limit": 100})
    live_ids = [item["id"] for item in live.json().get("items", [])] if live.status_code == 200 else []
    tasks = set()
    end = time.monotonic() + args.seconds
    readers = [
        clients[r] for r in ("verksamhetsansvarig", "verksamhetsspecialist", "systemansvarig", "telefoniansvarig")
    ]
    reporters = [clients[u] for u in ("kundservice", "kundservice2", "kundservice3", "kundservice4")]

    def launch(coro):
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def person(n):
        client, held = readers[n % len(readers)], None
        await asyncio.sleep(random.uniform(0, args.poll_every))
        next_at = time.monotonic()

        # The live list, or with --poll incident the page of one live incident (its part, as
        # the incident page polls itself), each person with the ETag they hold.
        path = f"/storning/{live_ids[0]}/del/sida/" if args.poll == "incident" and live_ids else "/"

        async def poll():
            nonlocal held
            headers = {"HX-Request": "true"} | ({"If-None-Match": held} if held else {})
            response = await timed(stats[poll_name(args)], lambda: client.get(path, headers=headers), (200, 204))
            if response is not None and response.status_code == 200:
                held = response.headers.get("ETag")

        while next_at < end:
            launch(poll())
            next_at += args.poll_every
            await asyncio.sleep(max(0, next_at - time.monotonic()))

    async def stream(rate, make_call):
        if rate <= 0:
            return
        next_at = time.monotonic()
        n = 0
        while next_at < end:
            launch(make_call(n))
            n += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0, next_at - time.monotonic()))

    async def incident_page(n):
        if not live_ids:
            return
        client = readers[n % len(readers)]
        pk = random.choice(live_ids[-100:])
        await timed(stats["incident page"], lambda: client.get(f"/storning/{pk}/"), (200,))

    async def report(n):
        client = reporters[n % len(reporters)]
        data = {
            "kundservice_reaches_sesam": "no",
            "prescribers_reach_sesam": "no",
            "rest_of_it_up": "yes",
            "phones_work": "yes",
            "scenario": "sesam_unreachable",
            "summary": f"Lasttest {n}: Sesam LMN svarar inte",
            "began_at": "",
            "csrfmiddlewaretoken": csrf_of(client) or "",
        }
        response = await timed(
            stats["report"], lambda: client.post("/anmal/", data=data, headers={"Referer": base + "/anmal/"}), (302,)
        )
        if response is not None and response.status_code == 302:
            found = re.search(r"/storning/(\d+)/", response.headers.get("Location", ""))
            if found:
                live_ids.append(int(found.group(1)))

    async def history(n):
        await timed(stats["Historik"], lambda: readers[n % len(readers)].get("/historik/"), (200,))

    async def healthz(n):
        await timed(stats["/healthz"], lambda: readers[n % len(readers)].get("/healthz"), (200,))

    for client in reporters:  # a CSRF cookie for the report form
        await client.get("/anmal/")
    await asyncio.gather(
        *(person(n) for n in range(args.pollers)),
        stream(args.pages, incident_page),
        stream(args.reports, report),
        stream(args.history, history),
        stream(args.healthz, healthz),
    )
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    for task in list(tasks):  # still unanswered a minute after the mix: counted as errors
        task.cancel()
    return stats, live_ids


async def closed_loop(client, path, seconds, concurrency, headers=None):
    stats = Stats()
    end = time.monotonic() + seconds

    async def loop():
        while time.monotonic() < end:
            await timed(stats, lambda: client.get(path, headers=headers or {}), (200, 204, 304))
            if stats.errors > 50:
                return

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return stats


# --- one target --------------------------------------------------------------------------------


def run_target(target, args):
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-http-{target}-"))
    started = Started(tmp)
    try:
        if target == "production":
            base, passwords, groups = start_production(started, tmp, args.history_size)
        else:
            base, passwords, groups = start_embedded(started, tmp)
        wait_for(f"{base}/healthz")
        return asyncio.run(measure(target, base, passwords, started, groups, args))
    finally:
        started.stop()
        if target == "production":
            import psycopg

            parsed = urlparse(DB_URL)
            with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


async def measure(target, base, passwords, started, groups, args):
    clients = {}
    for user in (*ROLES, "kundservice2", "kundservice3", "kundservice4"):
        clients[user] = await sign_in(base, user, passwords)
    va = clients["verksamhetsansvarig"]
    # Three live incidents before the load, and every page once, so that the processes are warm.
    for n in range(3):
        ks = clients["kundservice"]
        await ks.get("/anmal/")
        await ks.post(
            "/anmal/",
            headers={"Referer": base + "/anmal/"},
            data={
                "kundservice_reaches_sesam": "no",
                "prescribers_reach_sesam": "no",
                "rest_of_it_up": "yes",
                "phones_work": "yes",
                "scenario": "sesam_unreachable",
                "summary": f"Före lasten {n}",
                "began_at": "",
                "csrfmiddlewaretoken": csrf_of(ks),
            },
        )
    for path in ("/", "/historik/", "/healthz"):
        for _ in range(3):
            await va.get(path)
    await asyncio.sleep(8)  # at rest: deliveries done, a sweep or two
    pids = process_groups(started, groups)
    at_rest = {pid: (cmdline(pid), *memory(pid)) for pid in pids["all"]}
    if args.memory_only:
        print_memory(target, at_rest)
        return
    if args.burst:
        await burst(target, base, clients, args.burst)

    load_before = os.getloadavg()
    web_cpu_before = cpu_seconds(pids["web"])
    t = time.monotonic()
    stats, live_ids = await open_loop(base, clients, args)
    elapsed = time.monotonic() - t
    web_cpu_mix = cpu_seconds(process_groups(started, groups)["web"]) - web_cpu_before
    load_after = os.getloadavg()

    print(
        f"\n=== {target}: open-loop mix for {args.seconds:g} s ({elapsed:.0f} s with the stragglers), "
        f"{len(live_ids)} live incidents at the end; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after"
    )
    print(
        f"{'page':18}{'sent':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}{'p50 x healthz':>15}  codes"
    )
    health_p50 = statistics.median(stats["/healthz"].times) if stats["/healthz"].times else float("nan")
    for name, s in stats.items():
        if not s.times:
            continue
        p50 = pct(s.times, 50)
        print(
            f"{name:18}{len(s.times):7d}{len(s.times) / args.seconds:8.1f}{p50:9.1f}{pct(s.times, 95):9.1f}"
            f"{pct(s.times, 99):9.1f}{s.errors:8d}{p50 / health_p50:14.1f}x  {dict(sorted(s.codes.items(), key=str))}"
        )
    total = sum(len(s.times) for s in stats.values())
    print(
        f"web CPU over the mix: {web_cpu_mix:.1f} s for {total} requests ({web_cpu_mix / max(total, 1) * 1000:.2f} ms each)"
    )

    # Closed loop, one page at a time: capacity and web CPU per request, with fresh connections.
    await asyncio.sleep(5)  # the last reports' notices delivered
    for user in list(clients):
        await clients[user].aclose()
        clients[user] = await sign_in(base, user, passwords)
    va = clients["verksamhetsansvarig"]
    first = await va.get("/", headers={"HX-Request": "true"})
    etag = first.headers.get("ETag", "")
    pk = live_ids[-1] if live_ids else 1
    phases = [
        ("/healthz (signed in)", "/healthz", None),
        ("live poll, unchanged", "/", {"HX-Request": "true", "If-None-Match": etag}),
        ("live poll, changed", "/", {"HX-Request": "true", "If-None-Match": '"stale.0"'}),
        ("incident part, unchanged", f"/storning/{pk}/del/sida/", "part"),
        ("live list page", "/", None),
        ("incident page", f"/storning/{pk}/", None),
        ("Historik", "/historik/", None),
    ]
    print(f"\n{target}: closed loop, {args.concurrency} clients, {args.phase_seconds:g} s a page")
    print(
        f"{'page':26}{'req/s':>8}{'p50 ms':>9}{'web CPU ms/req':>16}{'x healthz CPU':>15}{'capacity x healthz':>20}  codes"
    )
    results = {}
    for name, path, headers in phases:
        if headers == "part":
            part = await va.get(path, headers={"HX-Request": "true"})
            headers = {"HX-Request": "true", "If-None-Match": part.headers.get("ETag", "")}
        web = process_groups(started, groups)["web"]
        before = cpu_seconds(web)
        s = await closed_loop(va, path, args.phase_seconds, args.concurrency, headers)
        cpu = (cpu_seconds(web) - before) / max(len(s.times), 1) * 1000
        results[name] = (len(s.times) / args.phase_seconds, cpu)
        base_rate, base_cpu = results["/healthz (signed in)"]
        print(
            f"{name:26}{results[name][0]:8.0f}{pct(s.times, 50):9.1f}{cpu:16.2f}{cpu / base_cpu:14.1f}x"
            f"{results[name][0] / base_rate:19.2f}x  {dict(sorted(s.codes.items(), key=str))}"
        )

    rss_total = print_memory(target, at_rest)

    poll = stats[poll_name(args)]
    unchanged_cpu = results["live poll, unchanged"][1] / results["/healthz (signed in)"][1]
    capacity = results["live poll, changed"][0] / results["/healthz (signed in)"][0]
    print(f"\n{target}: goals")
    print(
        f"  {poll_name(args)} p99 {pct(poll.times, 99):.0f} ms (<= 200), errors in the mix "
        f"{sum(s.errors for s in stats.values())} (0)"
    )
    print(f"  unchanged poll {unchanged_cpu:.2f}x a signed-in /healthz in web CPU (<= 2)")
    print(
        f"  live fragment capacity {capacity * 100:.0f} % of /healthz's (>= 50 %; a changed poll served from the cache)"
    )
    print(f"  RSS at rest {rss_total:.0f} MiB (<= 600)")
    for client in clients.values():
        await client.aclose()


def print_memory(target, at_rest):
    print(f"\n{target}: memory at rest (MiB), load average {os.getloadavg()[0]:.1f}")
    rss_total = pss_total = 0
    for pid, (cmd, rss, pss) in sorted(at_rest.items()):
        rss_total += rss
        pss_total += pss
        print(f"  {pid:>7} RSS {rss:7.1f}  PSS {pss:7.1f}  {cmd[:110]}")
    print(f"  total   RSS {rss_total:7.1f}  PSS {pss_total:7.1f}   (goal: RSS <= 600)")
    return rss_total


async def burst(target, base, clients, count):
    """count reports sent at the same moment (POST /anmal/), each by one of the four reporters:
    every one must be answered with the incident it made (302), none with an error."""
    reporters = [clients[u] for u in ("kundservice", "kundservice2", "kundservice3", "kundservice4")]
    for client in reporters:
        await client.get("/anmal/")
    stats = Stats()

    def send(n):
        client = reporters[n % len(reporters)]
        data = {
            "kundservice_reaches_sesam": "no",
            "prescribers_reach_sesam": "no",
            "rest_of_it_up": "yes",
            "phones_work": "yes",
            "scenario": "sesam_unreachable",
            "summary": f"Samtidigt {n}: Sesam LMN svarar inte",
            "began_at": "",
            "csrfmiddlewaretoken": csrf_of(client) or "",
        }
        return timed(stats, lambda: client.post("/anmal/", data=data, headers={"Referer": base + "/anmal/"}), (302,))

    load = os.getloadavg()[0]
    t = time.monotonic()
    await asyncio.gather(*(send(n) for n in range(count)))
    print(
        f"\n=== {target}: {count} reports at once (load average {load:.1f}): {time.monotonic() - t:.1f} s for all, "
        f"p50 {pct(stats.times, 50):.0f} ms, max {max(stats.times):.0f} ms, errors {stats.errors} (0), "
        f"codes {dict(sorted(stats.codes.items(), key=str))}"
    )
    await asyncio.sleep(5)  # their notices delivered before the mix


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=("production", "embedded", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--poll-every", type=float, default=5)
    parser.add_argument(
        "--poll",
        choices=("live", "incident"),
        default="live",
        help="what the pollers poll: the live list, or one incident's page",
    )
    parser.add_argument("--pages", type=float, default=10, help="incident pages a second")
    parser.add_argument("--reports", type=float, default=2, help="reports a second")
    parser.add_argument("--history", type=float, default=1, help="Historik a second")
    parser.add_argument("--healthz", type=float, default=5, help="/healthz a second")
    parser.add_argument("--phase-seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--history-size", type=int, default=2000, help="ended incidents seeded (production)")
    parser.add_argument(
        "--burst", type=int, default=20, help="reports sent at the same moment before the mix (0: none)"
    )
    parser.add_argument("--memory-only", action="store_true", help="only the memory at rest: no load")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for target in ("production", "embedded") if args.target == "both" else (args.target,):
        run_target(target, args)


if __name__ == "__main__":
    main()
