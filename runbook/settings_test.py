"""Settings for the test suite: the production settings, with the environment a test run
needs filled in where it is not set, so that plain ``pytest`` works as ``bin/test`` does.

PostgreSQL is used when it answers on 127.0.0.1:5432 (else SQLite); tests that need a
service that is missing are skipped with the reason (see tests/conftest.py).
"""

import os
import secrets
import socket


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
# Processes the tests start (workers, servers, manage.py) read the production settings,
# with the environment above.
os.environ["DJANGO_SETTINGS_MODULE"] = "runbook.settings"

from runbook.settings import *  # noqa: E402, F403
