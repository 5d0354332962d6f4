"""Shared fixtures. Real PostgreSQL, Redis and Chromium where the machine has them.

A test that needs a missing service is skipped with the reason, or fails when
RUNBOOK_REQUIRE_SERVICES=1 (set by .ci/run), so CI cannot pass by skipping.
"""

import os
import shutil
import socket

import pytest
from django.contrib.auth.models import Group

REQUIRE_SERVICES = os.environ.get("RUNBOOK_REQUIRE_SERVICES") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _flush_steps_around_the_timeline_guard():
    """Between live-server tests Django empties the test database (``flush``), which the
    timeline's triggers refuse, as they should anywhere else. The harness is the tables' owner
    and steps around them for that one transaction: on PostgreSQL with the triggers off, on
    SQLite by dropping and making them again."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    flush = BaseDatabaseOperations.execute_sql_flush
    table = "incidents_timelineevent"

    def execute_sql_flush(self, sql_list):
        if not any(table in sql for sql in sql_list):
            return flush(self, sql_list)
        if self.connection.vendor == "postgresql":
            return flush(
                self,
                [f"ALTER TABLE {table} DISABLE TRIGGER USER", *sql_list, f"ALTER TABLE {table} ENABLE TRIGGER USER"],
            )
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            triggers = cursor.fetchall()
        return flush(
            self, [*(f'DROP TRIGGER "{name}"' for name, _ in triggers), *sql_list, *(sql for _, sql in triggers)]
        )

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush


_flush_steps_around_the_timeline_guard()


def missing(reason):
    """Skip, or fail where CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def port_open(host, port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def pytest_sessionstart(session):
    """Pages name their static files by the manifest collectstatic writes (DEBUG is off);
    collected again whenever a source file is newer than the manifest. Tests run side by side
    (pytest-xdist) collect them in each worker, into the worker's own DATA_DIR; the process
    that only hands out the tests needs none."""
    if getattr(session.config.option, "numprocesses", None) and not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if manifest.exists():
        written = manifest.stat().st_mtime
        sources = (
            os.path.getmtime(storage.path(path))
            for finder in finders.get_finders()
            for path, storage in finder.list([])
        )
        if all(mtime < written for mtime in sources):
            return
    call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Production hashing costs about a second per user; tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _one_person_may_open_any_number(settings):
    """Tests open many incidents as one person; the per-person limit (OPEN_INCIDENT_LIMIT) is
    tested on its own (tests/test_abuse_bounded.py), where it is set again."""
    settings.OPEN_INCIDENT_LIMIT = 0


@pytest.fixture(autouse=True)
def _rate_limits_counted_afresh():
    """The API's rate-limit counts (a cache) start from nothing in each test."""
    from django.core.cache import caches

    caches["ratelimit"].clear()
    yield


@pytest.fixture(autouse=True)
def _rendered_parts_forgotten():
    """Pages kept rendered per change (runbook.polling) start afresh in each test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _doorbell_afresh():
    """A ring that failed keeps the doorbell quiet for a few seconds; not into the next test."""
    from runbook import doorbell

    doorbell.reset()
    yield
    doorbell.reset()


@pytest.fixture(autouse=True)
def _routine_read_afresh(request):
    """Routine versions are read once per process and kept by id; ids come again after a
    test's rollback, so each test reads them afresh. A transactional test's flush removes the
    version the data migration made: a test that uses the database gets it back."""
    from notifications import rules
    from routines import loader

    loader.forget()
    rules.forget()
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if transactional or names & {"transactional_db", "live_server"}:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names or "django_db_reset_sequences" in names:
        request.getfixturevalue("db")
    else:
        yield
        return
    ensure_first_routine_version()
    yield


def ensure_first_routine_version():
    """Version 1 of the routine as migration routines.0003 made it, if it is missing."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("routines.migrations.0003_sesam_lmn_version_1")
    if not apps.get_model("routines", "RoutineVersion").objects.exists():
        migration.first_version(apps, None)


@pytest.fixture
def require_postgres(django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture(scope="session")
def _redis_of_this_worker(tmp_path_factory):
    """Tests run side by side (pytest-xdist) would share TEST_REDIS_URL's database: each
    worker gets a redis-server of its own instead, on a free loopback port."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield None
        return
    from tests.processes import REDIS_SERVER, RedisServer

    if not REDIS_SERVER:
        missing("needs redis-server (apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(_redis_of_this_worker):
    from urllib.parse import urlparse

    if _redis_of_this_worker:
        return _redis_of_this_worker
    parsed = urlparse(TEST_REDIS_URL)
    if not port_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        missing(f"needs Redis at {TEST_REDIS_URL}")
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def role_permissions(django_db_setup, django_db_blocker):
    """The role groups and their permissions as the migrations made them."""
    with django_db_blocker.unblock():
        return {
            group.name: list(group.permissions.values_list("content_type__app_label", "codename"))
            for group in Group.objects.prefetch_related("permissions")
        }


def ensure_role_groups(role_permissions):
    """A transactional test's flush removes the groups the data migrations made; put them
    back as they were (the permissions themselves are re-made by the flush's post_migrate)."""
    from django.contrib.auth.models import Permission

    if Group.objects.filter(name__in=role_permissions).count() == len(role_permissions):
        return
    for name, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


@pytest.fixture
def make_user(db, django_user_model, role_permissions):
    """make_user("kundservice") -> a user in that role's group."""
    ensure_role_groups(role_permissions)
    counter = {"n": 0}

    def make(*roles, username=None, password="ett-långt-testlösenord"):
        counter["n"] += 1
        name = username or f"{'-'.join(roles) or 'ingen'}-{counter['n']}"
        user = django_user_model.objects.create_user(username=name, password=password, first_name=name.title())
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def ks(make_user):
    return make_user("kundservice")


@pytest.fixture
def sa(make_user):
    return make_user("systemansvarig")


@pytest.fixture
def va(make_user):
    return make_user("verksamhetsansvarig")


@pytest.fixture
def vs(make_user):
    return make_user("verksamhetsspecialist")


@pytest.fixture
def tel(make_user):
    return make_user("telefoniansvarig")


@pytest.fixture
def open_incident(ks):
    from incidents import services

    def make(scenario="sesam_unreachable", summary="Sesam LMN svarar inte", by=None, **kwargs):
        return services.open_incident(by or ks, scenario=scenario, summary=summary, **kwargs)

    return make


@pytest.fixture
def chromium_path():
    if not CHROMIUM:
        missing("needs Debian's Chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def browser(chromium_path):
    """A real headless Chromium driven by Playwright; Playwright downloads no browser."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def api_client(db):
    """api_client(user) -> a test client that sends that user's new personal API token."""
    from django.test import Client

    from runbook import services

    def make(user, **headers):
        _token, key = services.issue_token(user, "test")
        client = Client(headers={"Authorization": f"Bearer {key}", **headers})
        client.token = key
        return client

    return make


# --- incidents in a given state, and what a person could see of them -------------------

# How people bring an incident into each state (DESIGN section 3). States that only one
# scenario reaches are reached under that scenario, then reclassified if another is asked for.
_PATH_TO_STATE = {
    "reported": (None, []),
    "escalated": ("sesam_unreachable", ["escalate"]),
    "acknowledged": ("sesam_unreachable", ["escalate", "acknowledge"]),
    "reserve_routine": ("sesam_unreachable", ["activate_reserve_routine"]),
    "awaiting_it": ("full_it_outage", ["await_it"]),
    "resolved": (None, ["resolve"]),
    "closed": (None, ["resolve", "complete_open_tasks", "close"]),
    "cancelled": (None, ["cancel"]),
}


@pytest.fixture
def everyone(make_user):
    """One person in all five roles: for rules about the state, not about who may act."""
    from runbook.scenarios import Role

    return make_user(*Role.ALL, username="alla-roller")


@pytest.fixture
def incident_in(open_incident, everyone):
    """incident_in("telephony_fault", "escalated") -> an incident brought there by people."""
    from incidents import services
    from incidents.models import Incident

    def make(scenario, state, **kwargs):
        home, steps = _PATH_TO_STATE[state]
        incident = open_incident(scenario=home or scenario, **kwargs)
        for step in steps:
            if step == "complete_open_tasks":
                for task in incident.tasks.filter(done_at__isnull=True):
                    services.complete_task(everyone, task.pk)
            elif step == "cancel":
                services.cancel(everyone, incident.pk, reason="Falsklarm")
            elif step == "close":
                services.close(everyone, incident.pk, review="Genomgången: rutinen följdes.")
            else:
                services.fire(everyone, incident.pk, step)
        if home and home != scenario:
            services.reclassify(everyone, incident.pk, scenario)
        incident = Incident.objects.get(pk=incident.pk)
        assert (incident.scenario, incident.state) == (scenario, state)
        return incident

    return make


@pytest.fixture(autouse=True)
def swedish_by_default():
    """Each test starts in the app's default language, whatever a previous request chose."""
    from django.utils import translation

    translation.activate("sv")
    yield
    translation.deactivate()


def observed(incident):
    """Everything a person could see change on an incident, for "nothing changed" checks."""
    from incidents.models import Incident

    fresh = Incident.objects.get(pk=incident.pk)
    return {
        "state": fresh.state,
        "scenario": fresh.scenario,
        "prognosis": (fresh.prognosis_kind, fresh.prognosis_at),
        "it_contact": (fresh.servicedesk_ref, fresh.vendor_contact),
        "cancel_reason": fresh.cancel_reason,
        "events": list(fresh.events.values_list("id", "kind", "message")),
        "tasks": list(fresh.tasks.values_list("id", "step_key", "done_at", "done_by")),
        "orders": list(fresh.reserve_orders.values_list("id", "entered_in_sesam")),
    }


@pytest.fixture
def snapshot():
    return observed


@pytest.fixture
def client_as(client):
    """client_as(user) -> the test client, signed in as that person."""

    def login(user):
        client.force_login(user, backend="runbook.auth.ModelBackend")
        return client

    return login


@pytest.fixture
def duty_hours(db):
    """SA's duty hours as the data migration makes them (weekdays 08:00-16:30): a live-server
    test's flush before this one in the same process removes them."""
    from datetime import time

    from incidents.models import DutyHours

    if not DutyHours.objects.exists():
        DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(8), end=time(16, 30)) for d in range(5))


@pytest.fixture
def sa_on_duty(time_machine, duty_hours):
    """Pin the clock to a working Wednesday morning (10:00 in Stockholm), when SA is on duty,
    for tests about other things than SA's duty hours. The clock keeps ticking."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    time_machine.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm")), tick=True)


@pytest.fixture
def pdf_text(tmp_path):
    """pdf_text(pdf_bytes, first=None, last=None) -> the text pdftotext (poppler-utils) reads."""
    import subprocess

    tool = shutil.which("pdftotext")
    if not tool:
        missing("needs pdftotext (apt-get install poppler-utils)")

    def read(data, first=None, last=None):
        path = tmp_path / f"doc-{len(list(tmp_path.iterdir()))}.pdf"
        path.write_bytes(data)
        pages = (["-f", str(first)] if first else []) + (["-l", str(last)] if last else [])
        done = subprocess.run(
            [tool, "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, timeout=60, check=True
        )
        return done.stdout.decode("utf-8")

    def info(data):
        """pdfinfo's fields ("Pages", "Page size", ...) for the document."""
        path = tmp_path / f"info-{len(list(tmp_path.iterdir()))}.pdf"
        path.write_bytes(data)
        done = subprocess.run(
            [shutil.which("pdfinfo") or "pdfinfo", str(path)], capture_output=True, timeout=60, check=True
        )
        return dict(line.split(":", 1) for line in done.stdout.decode().splitlines() if ":" in line)

    read.info = info
    return read


def squeezed(text):
    """Text without whitespace or hyphens, to find a sentence however the PDF broke its lines
    (pdftotext joins "IT-" at a line's end to the next line as one word)."""
    return "".join(str(text).split()).replace("-", "").replace("\u00ad", "")
