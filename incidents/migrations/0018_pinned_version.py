"""Every incident is pinned to the routine version it runs under; the incidents there are
already ran under version 1 of Driftstörningsrutin Sesam LMN (migration routines.0003)."""

import django.db.models.deletion
from django.db import migrations, models


def pin_to_version_1(apps, schema_editor):
    RoutineVersion = apps.get_model("routines", "RoutineVersion")
    Incident = apps.get_model("incidents", "Incident")
    if not Incident.objects.exists():
        return
    version_1 = RoutineVersion.objects.get(routine__key="sesam-lmn", number=1)
    Incident.objects.filter(pinned_version__isnull=True).update(pinned_version=version_1)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0017_live_list_version"),
        ("routines", "0003_sesam_lmn_version_1"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="pinned_version",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="incidents",
                to="routines.routineversion",
                verbose_name="rutinversion",
            ),
        ),
        migrations.RunPython(pin_to_version_1, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="incident",
            name="pinned_version",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="incidents",
                to="routines.routineversion",
                verbose_name="rutinversion",
            ),
        ),
    ]
