"""Migrations stand alone: an empty database migrates from zero on SQLite and PostgreSQL, and
no migration imports the project's live code (which may move or change after it was written)."""

import ast
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"incidents", "notifications", "offline", "review", "routines", "runbook"}
MIGRATIONS = sorted(p for p in ROOT.glob("*/migrations/[0-9]*.py"))


def manage(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url, "CONN_MAX_AGE": "0"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or "")


def test_there_are_migrations_to_check():
    assert len(MIGRATIONS) > 20


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_migration_imports_the_projects_live_code(path):
    live = [name for name in imported_modules(path) if name.startswith(".") or name.split(".")[0] in PROJECT_PACKAGES]
    assert live == [], f"{path.relative_to(ROOT)} imports {live}: copy what it needs into it"


def test_an_empty_sqlite_database_migrates_from_zero_and_models_match_migrations(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    done = manage(url, "migrate", "--noinput")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "fresh.sqlite3").stat().st_size > 0
    shown = manage(url, "showmigrations", "--plan")
    assert shown.returncode == 0, shown.stderr
    assert "[ ]" not in shown.stdout and "[X]  incidents.0005_history" in shown.stdout

    check = manage(url, "makemigrations", "--check", "--dry-run")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No changes detected" in check.stdout


@pytest.mark.postgres
def test_an_empty_postgresql_database_migrates_from_zero(require_postgres):
    import psycopg
    from django.conf import settings

    server = settings.DATABASES["default"]
    name = f"runbook_fresh_{uuid.uuid4().hex[:10]}"
    admin = dict(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or 5432,
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = server["USER"] + (f":{server['PASSWORD']}" if server["PASSWORD"] else "")
        url = f"postgres://{auth}@{admin['host']}:{admin['port']}/{name}"
        done = manage(url, "migrate", "--noinput")
        assert done.returncode == 0, done.stdout + done.stderr
        shown = manage(url, "showmigrations", "--plan")
        assert "[ ]" not in shown.stdout and "[X]  incidents.0005_history" in shown.stdout
        with psycopg.connect(**{**admin, "dbname": name}) as conn:
            # The PostgreSQL-only parts exist: the free-text index made by raw SQL in 0007.
            index = conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'metrics_search_vector'").fetchone()
        assert index is not None
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
