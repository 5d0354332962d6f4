"""The review side's tables, moved here from ``incidents`` (its migration 0016).

State only: the tables keep their names (``db_table``), and with them their indexes, the
free-text trigger of incidents 0007 and the unique constraint, so no SQL runs on them. Their
content types follow them, so that the permission ``export_figures`` and every group holding
it stay as they were (``review.export_figures`` from now on).
"""

import django.contrib.postgres.search
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = ("incidentmetrics", "figuresmonth")


def move_content_types(apps, schema_editor, source="incidents", target="review"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue  # already made for the target (a fresh database): nothing to move
        ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="review", target="incidents")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0016_review_models_moved"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FiguresMonth",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("month", models.DateField()),
                        ("scenario", models.CharField(max_length=40)),
                        ("incidents", models.PositiveIntegerField(default=0)),
                        ("cancelled", models.PositiveIntegerField(default=0)),
                        ("reserve_all", models.PositiveIntegerField(default=0)),
                        ("escalations", models.PositiveIntegerField(default=0)),
                        ("acknowledged_in_time", models.PositiveIntegerField(default=0)),
                        ("reserve", models.PositiveIntegerField(default=0)),
                        ("reserve_by_hand", models.PositiveIntegerField(default=0)),
                        ("reserve_early", models.PositiveIntegerField(default=0)),
                        ("followed", models.PositiveIntegerField(default=0)),
                        ("n_escalated", models.PositiveIntegerField(default=0)),
                        ("n_acknowledged", models.PositiveIntegerField(default=0)),
                        ("n_prognosis", models.PositiveIntegerField(default=0)),
                        ("n_reserve", models.PositiveIntegerField(default=0)),
                        ("n_resolved", models.PositiveIntegerField(default=0)),
                        ("n_closed", models.PositiveIntegerField(default=0)),
                        ("ack_timeout_secs", models.PositiveIntegerField()),
                        ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "verbose_name": "nyckeltal per månad",
                        "verbose_name_plural": "nyckeltal per månad",
                        "db_table": "incidents_figuresmonth",
                        "constraints": [
                            models.UniqueConstraint(fields=("month", "scenario"), name="figures_month_scenario")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="IncidentMetrics",
                    fields=[
                        (
                            "incident",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="metrics",
                                serialize=False,
                                to="incidents.incident",
                            ),
                        ),
                        ("scenario", models.CharField(max_length=40)),
                        ("first_scenario", models.CharField(max_length=40)),
                        ("reclassified", models.BooleanField(default=False)),
                        ("final_state", models.CharField(max_length=20)),
                        ("began_at", models.DateTimeField()),
                        ("reported_at", models.DateTimeField()),
                        ("ended_at", models.DateTimeField()),
                        ("escalated_at", models.DateTimeField(null=True)),
                        ("acknowledged_at", models.DateTimeField(null=True)),
                        ("first_prognosis_at", models.DateTimeField(null=True)),
                        ("reserve_at", models.DateTimeField(null=True)),
                        ("resolved_at", models.DateTimeField(null=True)),
                        ("closed_at", models.DateTimeField(null=True)),
                        ("had_reserve_routine", models.BooleanField(default=False)),
                        ("reserve_by_hand", models.BooleanField(default=False)),
                        ("reserve_early", models.BooleanField(default=False)),
                        ("secs_to_escalated", models.IntegerField(null=True)),
                        ("secs_to_acknowledged", models.IntegerField(null=True)),
                        ("secs_to_prognosis", models.IntegerField(null=True)),
                        ("secs_to_reserve", models.IntegerField(null=True)),
                        ("secs_to_resolved", models.IntegerField(null=True)),
                        ("secs_to_closed", models.IntegerField(null=True)),
                        ("secs_escalated_to_acknowledged", models.IntegerField(null=True)),
                        ("steps_on_time", models.PositiveSmallIntegerField(default=0)),
                        ("steps_late", models.PositiveSmallIntegerField(default=0)),
                        ("steps_skipped", models.PositiveSmallIntegerField(default=0)),
                        ("notices", models.PositiveSmallIntegerField(default=0)),
                        ("search_text", models.TextField(blank=True)),
                        (
                            "search_vector",
                            django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
                        ),
                        ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "verbose_name": "nyckeltal",
                        "verbose_name_plural": "nyckeltal",
                        "db_table": "incidents_incidentmetrics",
                        "permissions": [("export_figures", "Se nyckeltal och exportera CSV")],
                        "indexes": [
                            models.Index(
                                fields=["reported_at", "scenario", "final_state", "had_reserve_routine"],
                                name="metrics_period_filters",
                            ),
                            models.Index(fields=["scenario", "reported_at"], name="metrics_scenario_period"),
                            models.Index(
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
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
