"""Each metrics row keeps the acknowledgement target of the routine version its incident is
pinned to (``durations.ack_timeout``): "acknowledged in time" is counted against it, not
against one setting for every routine.

Existing rows take their version's value. Months counted under that same target for every
row are marked counted that way (``EACH_VERSION``); any other month is counted from the metrics
rows until ``manage.py rebuild_incident_metrics`` or the next incident ending in it recounts it.
"""

from django.db import migrations, models

# What a version without the duration had (routine format 1 requires it): version 1's.
VERSION_1_ACK_TIMEOUT = 900
EACH_VERSION = 2**31 - 1  # review.monthly.EACH_VERSION when this was written


def fill(apps, schema_editor):
    IncidentMetrics = apps.get_model("review", "IncidentMetrics")
    FiguresMonth = apps.get_model("review", "FiguresMonth")
    RoutineVersion = apps.get_model("routines", "RoutineVersion")
    for pk, document in RoutineVersion.objects.values_list("pk", "document"):
        durations = (document or {}).get("durations") or {}
        secs = int(durations.get("ack_timeout") or VERSION_1_ACK_TIMEOUT)
        IncidentMetrics.objects.filter(incident__pinned_version_id=pk).update(ack_timeout_secs=secs)
    targets = set(IncidentMetrics.objects.values_list("ack_timeout_secs", flat=True).distinct())
    if len(targets) <= 1:
        # Every row has one target: a month counted against it counts the same row by row.
        same = targets.pop() if targets else VERSION_1_ACK_TIMEOUT
        FiguresMonth.objects.filter(ack_timeout_secs=same).update(ack_timeout_secs=EACH_VERSION)


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_metrics_drills"),
        ("routines", "0003_sesam_lmn_version_1"),
        ("incidents", "0018_pinned_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="incidentmetrics",
            name="ack_timeout_secs",
            field=models.PositiveIntegerField(default=VERSION_1_ACK_TIMEOUT),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
