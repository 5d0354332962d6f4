"""Historik's free text reads a stored tsvector instead of computing one per row.

With the vector computed in the query, PostgreSQL runs ``to_tsvector`` on every row a plan
walks (tens of microseconds each), and for a common word it walks many. A trigger keeps the
stored vector in step with ``search_text``, however a row is written (save, bulk_create,
rebuild). SQLite keeps the column empty: there the search is ``icontains``.
"""

import django.contrib.postgres.search
from django.db import migrations

STORED = """
DROP INDEX IF EXISTS metrics_search_fts;
CREATE TRIGGER metrics_search_vector BEFORE INSERT OR UPDATE OF search_text
    ON incidents_incidentmetrics FOR EACH ROW
    EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.swedish', search_text);
UPDATE incidents_incidentmetrics SET search_vector = to_tsvector('pg_catalog.swedish', COALESCE(search_text, ''));
CREATE INDEX metrics_search_vector ON incidents_incidentmetrics USING gin (search_vector);
"""
COMPUTED = """
DROP INDEX IF EXISTS metrics_search_vector;
DROP TRIGGER IF EXISTS metrics_search_vector ON incidents_incidentmetrics;
CREATE INDEX IF NOT EXISTS metrics_search_fts ON incidents_incidentmetrics
    USING gin (to_tsvector('swedish'::regconfig, COALESCE(search_text, '')));
"""


def stored_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STORED)


def computed_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COMPUTED)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_merge_0004_timers_0005_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="incidentmetrics",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(stored_vector, computed_vector),
    ]
