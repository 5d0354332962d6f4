"""A published version is never changed, below the ORM too: a trigger refuses an UPDATE of a
row that is already published (publishing itself turns a draft row into a published one)."""

from django.db import migrations

POSTGRES_SQL = """
CREATE OR REPLACE FUNCTION routines_published_version_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'A published routine version is never changed';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER routines_published_version_kept
    BEFORE UPDATE ON routines_routineversion
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION routines_published_version_kept();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS routines_published_version_kept ON routines_routineversion;
DROP FUNCTION IF EXISTS routines_published_version_kept();
"""
SQLITE_SQL = """
CREATE TRIGGER routines_published_version_kept
    BEFORE UPDATE ON routines_routineversion
    WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, 'A published routine version is never changed');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS routines_published_version_kept;"


def guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_SQL)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_SQL)


def unguard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("routines", "0001_initial")]
    operations = [migrations.RunPython(guard, unguard)]
