"""How long ringing the broker after a commit holds a person up (runbook/doorbell.py).

    .venv/bin/python bench/doorbell.py [--rings 50]

Rings the notifications task --rings times in each case, in a web process's state (the WSGI
module loaded, so the one-time work is done), and prints the median and the slowest ring:
a Redis that answers (its own redis-server on a free port), a Redis that has stopped (the port
refuses), and an address that does not answer at all (packets dropped). Then the same with
Celery's own publishing (``apply_async(retry=False)``), which the app used before.
Goal: no ring slower than 100 ms.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(ring, rings):
    times = []
    for _ in range(rings):
        began = time.monotonic()
        ring()
        times.append(time.monotonic() - began)
    return statistics.median(times) * 1000, max(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rings", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "runbook.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "d" * 50)
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(0.5)
        import runbook.wsgi  # noqa: F401 - as a web process: the first ring's work done at start
        from notifications import tasks
        from runbook import doorbell
        from runbook.celery import app

        cases = {
            "Redis up": f"redis://127.0.0.1:{port}/0",
            "Redis stopped (refused)": f"redis://127.0.0.1:{port}/1",
            "no answer (dropped)": "redis://10.255.255.1:6379/0",
        }
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.rings} rings each")
        print(f"{'':28}{'doorbell p50 ms':>17}{'max ms':>9}{'apply_async p50 ms':>20}{'max ms':>9}")
        for name, url in cases.items():
            if name == "Redis stopped (refused)":
                redis.terminate()
                redis.wait(timeout=10)
            import kombu.pools

            app.conf.broker_url = url
            app._pool = None
            app.amqp._producer_pool = None
            kombu.pools.reset()
            doorbell.reset()
            ours = timed(lambda: doorbell.ring(tasks.deliver_batch, ([],)), args.rings)

            def celery_ring():
                try:
                    tasks.deliver_batch.apply_async(([],), retry=False)
                except Exception:  # noqa: BLE001 - the old code caught it too
                    pass

            theirs = timed(celery_ring, args.rings if name == "Redis up" else 2)
            print(f"{name:28}{ours[0]:>17.1f}{ours[1]:>9.1f}{theirs[0]:>20.1f}{theirs[1]:>9.1f}")
    finally:
        if redis.poll() is None:
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    main()
