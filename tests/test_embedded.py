"""`make run`'s embedded default: web (gunicorn), worker and beat from one command, no servers
needed; it starts after a crash, takes reports in parallel and restarts what dies."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from processes import free_port

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.worker


def request(url, data=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers
    except OSError:
        return None, "", {}


def get(url):
    return request(url)[:2]


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    return None


def children(pid):
    """{pid: command line} of the processes whose parent is ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
    return found


def worker_pid(pid):
    return next((p for p, cmd in children(pid).items() if " worker " in cmd), None)


def test_make_run_starts_after_a_crash_takes_parallel_reports_and_restarts_what_dies(tmp_path):
    # What a crash on a full disk leaves behind: empty files in the broker's folders.
    (tmp_path / "broker" / "out").mkdir(parents=True)
    (tmp_path / "broker" / "control").mkdir()
    (tmp_path / "broker" / "out" / "0_lost.celery.msg").write_bytes(b"")
    (tmp_path / "broker" / "out" / "1_cut.celery.msg").write_bytes(b'{"body": "eyJ')
    (tmp_path / "broker" / "control" / "celery.pidbox.exchange").write_bytes(b"")

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "SECURE_SSL_REDIRECT"}
    }
    # As `make run` sets them: DEBUG off, demo mode on.
    env.update(DEBUG="0", DEMO_MODE="1", DATA_DIR=str(tmp_path), TIMER_SWEEP_SECONDS="1", PORT=str(port))
    # Twenty reports by one person, read back often: the abuse limits are tested on their own.
    env.update(OPEN_INCIDENT_LIMIT="0", API_RATE_PER_TOKEN="", API_RATE_PER_ADDRESS="")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_embedded"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    # Read as a terminal would, all along: the three processes log every request and event,
    # and a pipe nobody reads would stop them once full.
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 240), "web server did not start"
        status, body, headers = request(f"{base}/logga-in/")
        assert status == 200 and "Logga in" in body
        assert "gunicorn" in headers.get("Server", "")  # a real WSGI server, not runserver
        # DEBUG is off: static files are still served, and a wrong address gets the app's page.
        css = re.search(r'href="(/static/css/app[^"]*\.css)"', body).group(1)
        assert get(base + css)[0] == 200
        status, body = get(f"{base}/finns-inte/")
        assert status == 404 and "Sidan finns inte" in body and "URLconf" not in body
        # The worker skipped the broken files and runs: the sweep's heartbeat makes the app ready.
        assert wait_for(lambda: get(f"{base}/readyz")[0] == 200, 180), get(f"{base}/readyz")
        assert not (tmp_path / "broker" / "out" / "0_lost.celery.msg").exists()

        # Twenty people report at once: every report is taken.
        token = subprocess.run(
            [sys.executable, "manage.py", "create_api_token", "kundservice"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def report(n):
            data = json.dumps({"scenario": "telephony_fault", "summary": f"Telefonin svarar inte ({n})"})
            return request(f"{base}/api/v1/incidents", data.encode(), auth, timeout=60)

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(report, range(20)))
        assert [a[0] for a in answers] == [201] * 20, [a[:2] for a in answers if a[0] != 201][:3]
        ids = [json.loads(a[1])["id"] for a in answers]

        # The worker dies; it is started again and delivers what is waiting.
        first_worker = worker_pid(proc.pid)
        assert first_worker
        os.kill(first_worker, signal.SIGKILL)
        assert wait_for(lambda: worker_pid(proc.pid) not in (None, first_worker), 60), "worker not restarted"

        def all_sent():
            for incident_id in ids:
                status, body = request(f"{base}/api/v1/incidents/{incident_id}", headers=auth)[:2]
                if status != 200 or any(n["status"] != "sent" for n in json.loads(body)["notifications"]):
                    return False
            return True

        assert wait_for(all_sent, 180), "notices not delivered after the worker's restart"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
            reader.join(10)
            output = "".join(lines)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("Ctrl-C did not stop the embedded app") from None
    # Nothing of the group is left running.
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert "Demoanvändare" in output
    assert "worker stoppade" in output and "Skipped an unreadable broker message" in output
