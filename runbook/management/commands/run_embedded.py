"""Start the web server, a Celery worker and beat together (the embedded default).

The web server is gunicorn with threads, as in production. A process that dies is started
again (after 1 s, doubling up to 30 s while it keeps dying); the others go on meanwhile, and
since deadlines and messages are rows, nothing is lost. Ctrl-C (or SIGTERM) stops all three,
and they stop by themselves if this command is killed outright.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

RESTART_DELAY_MAX = 30
# A process that ran this long before dying is restarted after the shortest delay again.
STEADY_AFTER = 60
WEB_THREADS = 8

# Served over plain HTTP on this machine: cookies and redirects for HTTPS would lock people out.
LOCAL_HTTP = {
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
}


def _die_with_parent():
    """In the child, before exec: get SIGTERM when the parent dies (Linux), so a killed
    `make run` leaves no web server holding the port for the next one."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Process:
    def __init__(self, name, command, env):
        self.name, self.command, self.env = name, command, env
        self.proc = None
        self.started_at = 0.0
        self.delay = 1.0
        self.restart_at = None

    def start(self):
        self.proc = subprocess.Popen(self.command, env=self.env, preexec_fn=_die_with_parent)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self, out):
        """Restart the process when it has died and its delay has passed."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                out(f"{self.name}: startar igen.")
                self.start()
            return
        code = self.proc.poll()
        if code is None:
            return
        if now - self.started_at > STEADY_AFTER:
            self.delay = 1.0
        out(f"{self.name} stoppade (kod {code}); startar igen om {self.delay:.0f} s.")
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, RESTART_DELAY_MAX)

    def terminate(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def wait(self, timeout):
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Command(BaseCommand):
    help = "Migrate, create demo users and run web (gunicorn) + Celery worker + beat, restarting what dies."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, host, port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if settings.DEMO_MODE:
            call_command("seed_demo")
        python = sys.executable
        beat_schedule = str(settings.DATA_DIR / "celerybeat-schedule")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "runbook.wsgi:application",
                "--config",
                str(settings.BASE_DIR / "gunicorn.conf.py"),
                "--bind",
                f"{host}:{port}",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                str(WEB_THREADS),
                "--preload",
                "--graceful-timeout",
                "5",
                "--no-control-socket",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "runbook",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--pool=threads",
                "--hostname=embedded@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "runbook.beat",
                "beat",
                "--loglevel=INFO",
                f"--schedule={beat_schedule}",
            ],
        }
        # A person reads these lines in a terminal: plain text unless LOG_FORMAT says otherwise.
        env = {**LOCAL_HTTP, "LOG_FORMAT": "text", **os.environ, "PORT": str(port)}
        processes = [Process(name, cmd, env) for name, cmd in commands.items()]
        for process in processes:
            process.start()
        self.stdout.write(self.style.SUCCESS(f"Appen körs på http://{host}:{port}/ (Ctrl-C stoppar)"))

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for process in processes:
                    process.check(self.stderr.write)
                time.sleep(0.5)
        finally:
            for process in processes:
                process.terminate()
            deadline = time.monotonic() + 10
            for process in processes:
                process.wait(max(0.1, deadline - time.monotonic()))
