"""Backup and restore, rehearsed: bin/backup dumps the database (and keeps BACKUP_KEEP_DAYS days
of dumps), bin/restore puts a dump into an empty database, and everything is there again:
incidents, the timeline, notices, deadlines, and the triggers that keep the timeline as it was."""

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from pg_roles import BASE_DIR, EVERYDAY, admin, roles_database

TABLES = (
    "incidents_incident",
    "incidents_timelineevent",
    "notifications_notification",
    "incidents_timer",
    "incidents_task",
)
DAY = 24 * 3600


def run(script, *args, **env):
    return subprocess.run(
        [str(BASE_DIR / "bin" / script), *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def rows(conn, table):
    return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def triggers(conn):
    return conn.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
    ).fetchall()


def backup_env(url, backup_dir, keep_days=14):
    return {"BACKUP_DATABASE_URL": url, "BACKUP_DIR": str(backup_dir), "BACKUP_KEEP_DAYS": str(keep_days)}


@pytest.mark.postgres
def test_a_dump_restored_into_an_empty_database_has_everything(require_postgres, db, tmp_path):
    with roles_database("backup", tmp_path / "data") as db:
        done = db.run_python(EVERYDAY)
        assert done["state"] == "reserve_routine" and done["notifications"]
        backups = tmp_path / "backups"
        backups.mkdir()
        old = backups / "runbook-20250101T020000Z.dump"
        old.write_bytes(b"an old dump")
        os.utime(old, (time.time() - 15 * DAY,) * 2)
        recent = backups / "runbook-20250110T020000Z.dump"
        recent.write_bytes(b"a dump from yesterday")
        os.utime(recent, (time.time() - DAY,) * 2)
        other = backups / "notes.txt"
        other.write_text("not ours")
        os.utime(other, (time.time() - 30 * DAY,) * 2)

        made = run("backup", **backup_env(db.owner_url, backups))
        assert made.returncode == 0, made.stderr
        dump = Path(made.stdout.splitlines()[0])
        assert dump.parent == backups and dump.name.startswith("runbook-") and dump.suffix == ".dump"
        # Older than BACKUP_KEEP_DAYS days is deleted; the rest, and what is not a backup, stays.
        assert f"deleted {old}" in made.stdout
        assert sorted(p.name for p in backups.iterdir()) == sorted([dump.name, recent.name, other.name])

        restored = f"{db.name}_restored"
        admin(f'CREATE DATABASE "{restored}" OWNER "{db.owner}"')
        try:
            restored_url = db.owner_url.rsplit("/", 1)[0] + f"/{restored}"
            result = run("restore", str(dump), RESTORE_DATABASE_URL=restored_url)
            assert result.returncode == 0, result.stderr
            assert f"restored: 1 incidents, {len(done['events'])} timeline events" in result.stdout

            with db.connect(as_owner=True) as source, db.connect(as_owner=True, database=restored) as copy:
                for table in TABLES:
                    assert rows(copy, table) == rows(source, table), table
                assert triggers(copy) == triggers(source)
                assert {name for name, _ in triggers(copy)} >= {
                    "incidents_timeline_append_only",
                    "incidents_timeline_no_truncate",
                }
                # The triggers work after the restore, for the owner too.
                for sql in (
                    "UPDATE incidents_timelineevent SET message = 'Ändrad historik'",
                    "TRUNCATE incidents_timelineevent CASCADE",
                ):
                    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                        copy.execute(sql)
                # The sequences go on where they were: the next incident gets a new id.
                (next_id,) = copy.execute(
                    "INSERT INTO incidents_timelineevent (incident_id, at, kind, actor_label, message,"
                    " note, data) SELECT id, now(), 'note', 'Systemet', 'Efter återläsning', '', '{}'"
                    " FROM incidents_incident RETURNING id"
                ).fetchone()
                assert next_id > max(row[0] for row in rows(source, "incidents_timelineevent"))
            # The app's role has its grants back, and no more.
            with db.connect(database=restored) as app:
                assert rows(app, "incidents_incident")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute("DELETE FROM incidents_timelineevent")

            # A database that holds tables is refused, and left as it was; --force replaces it.
            again = run("restore", str(dump), RESTORE_DATABASE_URL=restored_url)
            assert again.returncode == 1 and "already holds" in again.stderr
            with db.connect(as_owner=True, database=restored) as copy:
                assert rows(copy, "incidents_timelineevent")[-1][4] == "Efter återläsning"
            forced = run("restore", str(dump), "--force", RESTORE_DATABASE_URL=restored_url)
            assert forced.returncode == 0, forced.stderr
            with db.connect(as_owner=True, database=restored) as copy, db.connect(as_owner=True) as source:
                assert rows(copy, "incidents_timelineevent") == rows(source, "incidents_timelineevent")
        finally:
            admin(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


def test_the_embedded_defaults_sqlite_file_is_backed_up_and_restored(tmp_path):
    """The embedded default's database, copied while the app has it open (WAL mode)."""
    data = tmp_path / "data"
    data.mkdir()
    database = data / "db.sqlite3"
    app = sqlite3.connect(database, isolation_level=None)
    app.execute("PRAGMA journal_mode=WAL")
    for table in TABLES:
        app.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, what TEXT)")
        app.execute(f"INSERT INTO {table} (what) VALUES ('före')")
    env = {"DATA_DIR": str(data), "DATABASE_URL": "", "BACKUP_DIR": str(tmp_path / "backups")}

    made = run("backup", **env)
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.splitlines()[0])
    assert backup.suffix == ".sqlite3"
    app.execute("INSERT INTO incidents_incident (what) VALUES ('efter')")  # lost by the restore

    refused = run("restore", str(backup), **env)
    assert refused.returncode == 1 and "already holds" in refused.stderr
    app.close()
    restored = run("restore", str(backup), "--force", **env)
    assert restored.returncode == 0, restored.stderr
    assert "restored: 1 incidents, 1 timeline events, 1 notifications, 1 deadlines" in restored.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT what FROM incidents_incident").fetchall() == [("före",)]


@pytest.mark.postgres
def test_the_database_password_never_stands_on_a_command_line(require_postgres, db, tmp_path):
    """Any user of the machine can read a process's command line (`ps`): the password in the
    URL goes to pg_dump and psql in PGPASSWORD, percent-decoded, and the URL they get has none."""
    from django.db import connection

    real = {name: shutil.which(name) for name in ("pg_dump", "psql", "pg_restore")}
    assert all(real.values()), real
    seen = tmp_path / "seen"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for name, path in real.items():
        wrapper = wrappers / name
        wrapper.write_text(
            f'#!/bin/sh\nprintf "%s|%s\\n" "$(echo "$*" | tr "\\n" " ")" "$PGPASSWORD" >> {seen}\nexec {path} "$@"\n'
        )
        wrapper.chmod(0o755)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}:Hemligt%21l%C3%B6sen@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    path = f"{wrappers}:{os.environ['PATH']}"

    made = run("backup", **backup_env(url, tmp_path / "backups"), PATH=path)
    assert made.returncode == 0, made.stderr
    refused = run("restore", made.stdout.splitlines()[0], RESTORE_DATABASE_URL=url, PATH=path)
    assert refused.returncode == 1 and "already holds" in refused.stderr

    calls = seen.read_text().splitlines()
    assert {call.split()[0].split("|")[0] for call in calls} >= {"--format=custom", "--no-psqlrc"}
    for call in calls:
        arguments, password = call.rsplit("|", 1)
        assert "Hemligt" not in arguments and "%21" not in arguments
        assert f"postgres://{settings['USER']}@" in arguments
        assert password == "Hemligt!lösen"
