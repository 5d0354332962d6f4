import datetime

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def office_hours(apps, schema_editor):
    """Weekdays 08:00–16:30 until the unit sets SA's real hours in the admin."""
    DutyHours = apps.get_model("incidents", "DutyHours")
    if not DutyHours.objects.exists():
        DutyHours.objects.bulk_create(
            DutyHours(weekday=day, start=datetime.time(8, 0), end=datetime.time(16, 30)) for day in range(5)
        )


def arm_live_incidents(apps, schema_editor):
    """Incidents already live when timers arrive get their 4-hour deadline too."""
    from django.conf import settings

    Incident = apps.get_model("incidents", "Incident")
    Timer = apps.get_model("incidents", "Timer")
    live = Incident.objects.filter(
        scenario="sesam_unreachable", state__in=["reported", "escalated", "acknowledged", "awaiting_it"]
    )
    Timer.objects.bulk_create(
        Timer(incident_id=i.pk, kind="reserve_routine", due_at=i.began_at + settings.RESERVE_ROUTINE_AFTER)
        for i in live
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_contacts"),
    ]

    operations = [
        migrations.CreateModel(
            name="DutyHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "måndag"),
                            (1, "tisdag"),
                            (2, "onsdag"),
                            (3, "torsdag"),
                            (4, "fredag"),
                            (5, "lördag"),
                            (6, "söndag"),
                        ],
                        verbose_name="veckodag",
                    ),
                ),
                ("start", models.TimeField(verbose_name="från")),
                ("end", models.TimeField(verbose_name="till")),
            ],
            options={
                "verbose_name": "arbetstid för SA",
                "verbose_name_plural": "arbetstider för SA",
                "ordering": ["weekday", "start"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("end__gt", models.F("start"))), name="duty_end_after_start"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Timer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("reserve_routine", "Reservrutin efter 4 timmar utan prognos"),
                            ("ack_timeout", "Eskalering inte kvitterad"),
                            ("prognosis_passed", "Prognosen passerar"),
                        ],
                        max_length=20,
                    ),
                ),
                ("due_at", models.DateTimeField()),
                (
                    "state",
                    models.CharField(
                        choices=[("pending", "Väntar"), ("fired", "Utlöst"), ("cancelled", "Avbruten")],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("fired_at", models.DateTimeField(blank=True, null=True)),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                ("outcome", models.CharField(blank=True, max_length=40)),
                (
                    "incident",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="timers", to="incidents.incident"
                    ),
                ),
            ],
            options={
                "verbose_name": "tidsfrist",
                "verbose_name_plural": "tidsfrister",
                "ordering": ["due_at", "id"],
                "indexes": [
                    models.Index(condition=models.Q(("state", "pending")), fields=["due_at"], name="timer_pending_due"),
                    models.Index(fields=["incident", "kind"], name="timer_incident_kind"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("state", "pending")),
                        fields=("incident", "kind"),
                        name="one_pending_timer_per_kind",
                    )
                ],
            },
        ),
        migrations.RunPython(office_hours, migrations.RunPython.noop),
        migrations.RunPython(arm_live_incidents, migrations.RunPython.noop),
    ]
