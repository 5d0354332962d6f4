"""Start the web server, a Celery worker and beat together (the embedded default).

Ctrl-C (or SIGTERM) stops all three.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, create demo users and run web + Celery worker + beat in one go."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, *args, host, port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if settings.DEMO_MODE:
            call_command("seed_demo")
        python = sys.executable
        beat_schedule = str(settings.DATA_DIR / "celerybeat-schedule")
        commands = {
            "web": [python, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
            "worker": [python, "-m", "celery", "-A", "runbook", "worker", "--loglevel=INFO",
                       "--concurrency=2", "--pool=threads", "--hostname=embedded@%h"],
            "beat": [python, "-m", "celery", "-A", "runbook", "beat", "--loglevel=INFO",
                     f"--schedule={beat_schedule}"],
        }
        env = {**os.environ, "PORT": str(port)}
        processes = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
        self.stdout.write(self.style.SUCCESS(f"Appen körs på http://{host}:{port}/ (Ctrl-C stoppar)"))

        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in processes.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} stopped (exit {proc.returncode}); stopping the rest.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in processes.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + 10
            for proc in processes.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
