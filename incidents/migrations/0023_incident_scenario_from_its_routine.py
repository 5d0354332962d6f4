"""An incident's scenario is a key of the routine version it is pinned to: routines are data,
so the column has no fixed choices (its title is read from the version, not from code)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0022_drill_plan"),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="scenario",
            field=models.CharField(max_length=40, verbose_name="scenario"),
        ),
    ]
