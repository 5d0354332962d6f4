"""IncidentMetrics and FiguresMonth now belong to the ``review`` app (its migration 0001).

State only: their tables, indexes, trigger and constraint stay as they are, under their old
names, and no SQL runs.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_timeline_refuses_truncate"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="FiguresMonth"),
                migrations.DeleteModel(name="IncidentMetrics"),
            ],
            database_operations=[],
        ),
    ]
