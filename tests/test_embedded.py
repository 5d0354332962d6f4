"""`make run`'s embedded default: web, worker and beat from one command, no servers needed."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.worker


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    return None


def test_one_command_starts_web_worker_and_beat_on_sqlite_and_ctrl_c_stops_them(tmp_path):
    port = free_port()
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
    }
    env.update(DEBUG="1", DEMO_MODE="1", DATA_DIR=str(tmp_path), TIMER_SWEEP_SECONDS="1", PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_embedded"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(f"{base}/healthz")[0] == 200, 60), "web server did not start"
        status, body = get(f"{base}/logga-in/")
        assert status == 200 and "Logga in" in body
        # Beat and the worker are running: the sweep's heartbeat makes the app ready.
        assert wait_for(lambda: get(f"{base}/readyz")[0] == 200, 60), get(f"{base}/readyz")
        assert (tmp_path / "db.sqlite3").exists()
        passwords = (tmp_path / "demo-passwords.txt").read_text()
        assert "kundservice:" in passwords and "systemansvarig:" in passwords
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("Ctrl-C did not stop the embedded app") from None
    # Nothing of the group is left running.
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert "Demoanvändare" in output
