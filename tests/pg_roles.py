"""A PostgreSQL database set up as production sets it up: tables owned by one role, the app
connected as another (runbook/db_roles.py), migrated with ``manage.py migrate`` as the owner.

Roles are the whole server's, which other test runs share: their names are made from this
run's test database (``test_runbook_x`` → ``test_runbook_x_roles_owner``), and the roles and
the database are dropped at the end.
"""

import json
import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def url(role, password, database):
    s = connection.settings_dict
    return f"postgres://{role}:{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database}"


def superuser_url(database):
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{database}"


def admin(sql, *params, database="postgres"):
    """Run ``sql`` as the test run's (super)user, outside any transaction."""
    with psycopg.connect(superuser_url(database), autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@dataclass
class RolesDatabase:
    name: str
    owner: str
    app: str
    password: str
    data_dir: Path

    @property
    def owner_url(self):
        return url(self.owner, self.password, self.name)

    @property
    def app_url(self):
        return url(self.app, self.password, self.name)

    def env(self, **extra):
        """The environment of an app process connected as the app's role."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "MIGRATE_"))}
        env.update({"DATABASE_URL": self.app_url, "DATA_DIR": str(self.data_dir), "CONN_MAX_AGE": "0", **extra})
        return env

    def manage(self, *args, timeout=300, **extra):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def migrate(self):
        return self.manage("migrate", "--noinput", MIGRATE_DATABASE_URL=self.owner_url)

    def run_python(self, script, timeout=120):
        """Run ``script`` in a Django process of the app's; its last line of output is JSON."""
        code = "import django, json; django.setup()\n" + script
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=BASE_DIR, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def connect(self, as_owner=False, database=None):
        return psycopg.connect(
            url(self.owner if as_owner else self.app, self.password, database or self.name), autocommit=True
        )


def drop(database, *roles):
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    for role in roles:
        admin(f'DROP ROLE IF EXISTS "{role}"')


@contextmanager
def roles_database(suffix, tmp_path):
    """A database owned by ``<test db>_<suffix>_owner`` for the app role ``..._app``, migrated."""
    base = connection.settings_dict["NAME"]
    db = RolesDatabase(
        name=f"{base}_{suffix}",
        owner=f"{base}_{suffix}_owner",
        app=f"{base}_{suffix}_app",
        password=secrets.token_urlsafe(16),
        data_dir=tmp_path,
    )
    drop(db.name, db.owner, db.app)
    try:
        admin(f"CREATE ROLE \"{db.owner}\" LOGIN PASSWORD '{db.password}'")
        admin(f"CREATE ROLE \"{db.app}\" LOGIN PASSWORD '{db.password}'")
        admin(f'CREATE DATABASE "{db.name}" OWNER "{db.owner}"')
        db.migrate()
        yield db
    finally:
        drop(db.name, db.owner, db.app)


# What the app does every day, run by an app process as the app's role: people, an incident,
# a note, the sweep firing a due deadline (the reserve routine), e-mails delivered.
EVERYDAY = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from incidents import services
from incidents.models import Incident, TimelineEvent, Timer
from incidents.tasks import sweep
from notifications import services as notify
from notifications.models import Notification
from runbook.models import Heartbeat

def person(name, role):
    user = get_user_model().objects.create_user(name, email=f"{name}@example.se")
    user.groups.add(Group.objects.get(name=role))
    return user

ks = person("kundservice", "kundservice")
person("verksamhetsansvarig", "verksamhetsansvarig")
person("verksamhetsspecialist", "verksamhetsspecialist")
incident = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
services.add_note(ks, incident.pk, "Tre förskrivare har ringt")
Timer.objects.filter(incident=incident, kind=Timer.Kind.RESERVE_ROUTINE).update(
    due_at=timezone.now() - timedelta(seconds=1))
sweep()
outbox = mail.get_connection("django.core.mail.backends.locmem.EmailBackend")
sent = [notify.deliver(pk, mail_connection=outbox)
        for pk in Notification.objects.filter(channel="email").values_list("pk", flat=True)]
incident.refresh_from_db()
print(json.dumps({
    "incident": incident.pk,
    "state": incident.state,
    "events": list(TimelineEvent.objects.filter(incident=incident).values_list("message", flat=True)),
    "timers": dict(Timer.objects.filter(incident=incident).values_list("kind", "state")),
    "sent": sent,
    "notifications": Notification.objects.count(),
    "heartbeats": Heartbeat.objects.count(),
}))
"""
