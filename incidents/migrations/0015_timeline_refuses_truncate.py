"""The timeline is append-only below the ORM on every database: on PostgreSQL a statement
trigger refuses TRUNCATE (which passes the row triggers of 0002 by), and SQLite, the embedded
default, gets the row triggers PostgreSQL has had since 0002."""

from django.db import migrations

POSTGRES_SQL = """
CREATE TRIGGER incidents_timeline_no_truncate
    BEFORE TRUNCATE ON incidents_timelineevent
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_timeline_append_only();
"""
POSTGRES_DROP = "DROP TRIGGER IF EXISTS incidents_timeline_no_truncate ON incidents_timelineevent;"

SQLITE_SQL = [
    f"""
CREATE TRIGGER incidents_timeline_append_only_{what}
    BEFORE {what.upper()} ON incidents_timelineevent
BEGIN
    SELECT RAISE(ABORT, 'The timeline is append-only');
END;
"""
    for what in ("update", "delete")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS incidents_timeline_append_only_{what};" for what in ("update", "delete")]


def guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_SQL)
    elif vendor == "sqlite":
        for sql in SQLITE_SQL:
            schema_editor.execute(sql)


def unguard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0014_contacts_kept_by_the_specialists")]
    operations = [migrations.RunPython(guard, unguard)]
