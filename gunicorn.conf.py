"""gunicorn's settings beyond the command line: JSON logs, and prometheus-client's
multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn reads this file from the
working directory by itself; the Dockerfile, docker-compose.yml and `make run` start it there).

Its own lines (start, workers, timeouts) and its access log are JSON lines like the app's
(runbook/logs.py); an access line carries the request id the app echoed in X-Request-ID.
"""

import glob
import os

from runbook import logs

_access = {"handlers": ["console"], "level": "INFO", "propagate": False}
logconfig_dict = logs.config(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "json"))
logconfig_dict["loggers"].update({"gunicorn.error": dict(_access), "gunicorn.access": dict(_access)})


def on_starting(server):
    """A new master starts with an empty metrics folder: files of processes from an earlier
    run would add their counts to this one's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for path in glob.glob(os.path.join(folder, "*.db")):
            os.remove(path)


def child_exit(server, worker):
    """A worker process that ended: its live gauges go (its histogram counts stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
