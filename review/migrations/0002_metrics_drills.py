"""Drills (övningar) in the metrics rows: marked, shown in Historik only when asked for, and
never counted in the figures (the durations' index holds no drill)."""

from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.utils import timezone

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def mark_drills(apps, schema_editor):
    IncidentMetrics = apps.get_model("review", "IncidentMetrics")
    db = schema_editor.connection.alias
    IncidentMetrics.objects.using(db).filter(incident__is_drill=True).update(is_drill=True)


def forget_figures_with_drills(apps, schema_editor):
    """A month whose figures counted a drill ended before this migration is marked as counted
    under no ACK_TIMEOUT: the figures page then counts it afresh from the metrics rows (without
    the drills), and the next incident ending in it, or ``rebuild_incident_metrics``, recounts it."""
    IncidentMetrics = apps.get_model("review", "IncidentMetrics")
    FiguresMonth = apps.get_model("review", "FiguresMonth")
    db = schema_editor.connection.alias
    for reported_at, scenario in (
        IncidentMetrics.objects.using(db).filter(is_drill=True).values_list("reported_at", "scenario")
    ):
        month = timezone.localtime(reported_at, STOCKHOLM).date().replace(day=1)
        FiguresMonth.objects.using(db).filter(month=month, scenario=scenario).update(ack_timeout_secs=0)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0019_drills"),
        ("review", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="incidentmetrics",
            name="metrics_period_filters",
        ),
        migrations.RemoveIndex(
            model_name="incidentmetrics",
            name="metrics_period_durations",
        ),
        migrations.AddField(
            model_name="incidentmetrics",
            name="is_drill",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_drills, migrations.RunPython.noop),
        migrations.RunPython(forget_figures_with_drills, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="incidentmetrics",
            index=models.Index(
                fields=["reported_at", "scenario", "final_state", "had_reserve_routine", "is_drill"],
                name="metrics_period_filters",
            ),
        ),
        migrations.AddIndex(
            model_name="incidentmetrics",
            index=models.Index(
                condition=models.Q(("is_drill", False)),
                fields=["reported_at"],
                include=(
                    "final_state",
                    "secs_to_escalated",
                    "secs_to_acknowledged",
                    "secs_to_prognosis",
                    "secs_to_reserve",
                    "secs_to_resolved",
                    "secs_to_closed",
                ),
                name="metrics_period_durations",
            ),
        ),
    ]
