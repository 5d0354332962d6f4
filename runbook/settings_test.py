"""Settings for the test suite: the production settings, with the environment a test run
needs filled in where it is not set, so that plain ``pytest`` works as ``bin/test`` does.

PostgreSQL is used when it answers on 127.0.0.1:5432 (else SQLite); tests that need a
service that is missing are skipped with the reason (see tests/conftest.py).
"""

import os
import secrets
import socket
from pathlib import Path


def _postgres_answers():
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


_DEFAULTS = {
    "DEBUG": "0",
    "DEMO_MODE": "0",
    "SECRET_KEY": f"test-only-{secrets.token_hex(48)}",
    "SECURE_SSL_REDIRECT": "0",
    # The live test server answers each keep-alive connection in a thread of its own, which
    # would keep its database connection open past the test database's drop.
    "CONN_MAX_AGE": "0",
    "TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)
if "DATABASE_URL" not in os.environ and _postgres_answers():
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/runbook"
# Tests run side by side (``bin/test -n 2``, pytest-xdist) each have their own test database
# (pytest-django names it per worker), Redis (tests/conftest.py) and files: the collected
# static files and the filesystem broker live under a DATA_DIR of the worker's own.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _data = os.environ.get("DATA_DIR") or str(Path(__file__).resolve().parent.parent / ".data")
    os.environ["DATA_DIR"] = str(Path(_data) / f"test-{_worker}")
# Processes the tests start (workers, servers, manage.py) read the production settings,
# with the environment above.
os.environ["DJANGO_SETTINGS_MODULE"] = "runbook.settings"

from runbook.settings import *  # noqa: E402, F403
