"""Benchmark: does each optimisation still pay at the goal sizes? The pages as they are against
the pages with one optimisation replaced by the plain way of doing the same thing.

    .venv/bin/python bench/simpler.py [--sizes 5000 50000] [--requests 60] [--rounds 6]

Uses the databases of ``bench/pages.py`` (``--reuse``: seeded once, then migrated), the same
signed-in client and pages (server time in-process, no network). In each round every size and
every variant is timed in turn (the order reversed every other round), so that the machine's
load, which other work changes, hits every variant alike; the figures are ratios within the run.
A variant puts back the plain way for as long as it is timed:

- ``auth``: Django's own ``ModelBackend`` (its two permission queries) and the roles read with
  a third query, instead of ``runbook/auth.py``'s one query.

(Three more, measured the same way, did not pay and were removed: the incident page's timeline
drawn by a template tag, the scheduler's heartbeat kept for 5 s per process, and an incident's
urgent orders read only when its timeline showed one: bench/README.md.)

The goal of ``bench/pages.py`` decides: an optimisation whose removal leaves every page within
10x of ``/healthz`` and within 1.5x of its own time at the smallest size, at a cost the pages
do not show (a few per cent, inside the run's noise), is removed.
"""

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402 - sets the environment before Django is set up

PAGES = (
    "/healthz",
    "tokens page",
    "live list",
    "incident page",
    "live incident page",
    "live incident, changed",
    "incident report",
    "Historik",
)


@contextmanager
def plain_auth():
    from django.contrib.auth import backends

    from incidents import permissions
    from runbook import auth, roles

    def load_access(user):
        if not hasattr(user, "_group_names"):
            ids = user.groups.values_list("name", flat=True) if user.is_authenticated else []
            user._group_names = set(ids)

    saved = (auth.ModelBackend._get_permissions, roles.load_access, permissions.load_access)
    auth.ModelBackend._get_permissions = backends.ModelBackend._get_permissions
    roles.load_access = permissions.load_access = load_access
    try:
        yield
    finally:
        auth.ModelBackend._get_permissions, roles.load_access, permissions.load_access = saved


@contextmanager
def as_is():
    yield


VARIANTS = {
    "as is": as_is,
    "auth": plain_auth,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page, size and variant")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    variants = ["as is"] + [v for v in args.variants if v != "as is"]
    setups = {}
    for size in args.sizes:
        client, urls = pages.prepare(size, reuse=True)
        setups[size] = (client, {name: urls[name] for name in PAGES})
    queries = {}
    for size, (client, urls) in setups.items():
        pages.use_database(pages.database_name(size))
        for variant in variants:
            with VARIANTS[variant]():
                queries[size, variant] = {name: pages.count_queries(client, url) for name, url in urls.items()}

    samples = {(size, v, name): [] for size in args.sizes for v in variants for name in PAGES}
    per_round = max(1, args.requests // args.rounds)
    load = [os.getloadavg()[0]]
    t = time.perf_counter()
    for number in range(args.rounds):
        order = variants if number % 2 == 0 else variants[::-1]
        for size in args.sizes if number % 2 == 0 else args.sizes[::-1]:
            client, urls = setups[size]
            pages.use_database(pages.database_name(size))
            for variant in order:
                with VARIANTS[variant]():
                    for name, url in urls.items():
                        samples[size, variant, name] += pages.sample(client, url, per_round)
        load.append(os.getloadavg()[0])
    print(
        f"timed {per_round * args.rounds} requests per page, size and variant in {args.rounds} rounds, "
        f"{time.perf_counter() - t:.0f} s; load average (1 min) {min(load):.1f}-{max(load):.1f}"
    )

    def median(size, variant, name):
        return statistics.median(samples[size, variant, name])

    for size in args.sizes:
        print(f"\n@{size} ended incidents: median ms (queries), and each variant against 'as is'")
        print(f"{'page':24}" + "".join(f"{v:>22}" for v in variants))
        for name in PAGES:
            base = median(size, "as is", name)
            line = f"{name:24}"
            for v in variants:
                m = median(size, v, name)
                cell = f"{m:.2f} ({queries[size, v][name]})"
                if v != "as is":
                    cell += f" {m / base:.2f}x"
                line += f"{cell:>22}"
            print(line)
        healthz = median(size, "as is", "/healthz")
        worst = {
            v: max(median(size, v, n) / median(size, v, "/healthz") for n in PAGES if n != "/healthz") for v in variants
        }
        print(f"{'worst page x healthz':24}" + "".join(f"{worst[v]:21.1f}x" for v in variants))
        del healthz
    if len(args.sizes) > 1:
        small, big = args.sizes[0], args.sizes[-1]
        growth = {v: max(median(big, v, n) / median(small, v, n) for n in PAGES) for v in variants}
        print(f"\n{'worst growth':24}" + "".join(f"{growth[v]:21.2f}x" for v in variants))


if __name__ == "__main__":
    main()
