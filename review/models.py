"""The review side's tables: one metrics row per ended incident, and the month's figures.

Both are derived from the incidents' timelines and can be rebuilt from them
(``manage.py rebuild_incident_metrics``). They moved here from ``incidents`` without their
tables moving: ``db_table`` keeps the names (and so the indexes, the free-text trigger and
the constraints) they were made with.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident


class IncidentMetrics(models.Model):
    """Nyckeltal per störning: one row per ended incident, derived from its timeline.

    Written by the service that closes or cancels the incident, in the same transaction, and
    rebuildable from the timeline with ``manage.py rebuild_incident_metrics``. Historik and
    the figures read this table so that they need not walk a million events per request.
    Durations are whole seconds from the report.
    """

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, primary_key=True, related_name="metrics")
    # An övning (drill): in Historik only when asked for, never in the figures.
    is_drill = models.BooleanField(default=False)
    scenario = models.CharField(max_length=40)
    first_scenario = models.CharField(max_length=40)
    reclassified = models.BooleanField(default=False)
    final_state = models.CharField(max_length=20)
    began_at = models.DateTimeField()
    reported_at = models.DateTimeField()
    ended_at = models.DateTimeField()

    escalated_at = models.DateTimeField(null=True)
    acknowledged_at = models.DateTimeField(null=True)
    first_prognosis_at = models.DateTimeField(null=True)
    reserve_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)

    had_reserve_routine = models.BooleanField(default=False)
    reserve_by_hand = models.BooleanField(default=False)
    reserve_early = models.BooleanField(default=False)

    secs_to_escalated = models.IntegerField(null=True)
    secs_to_acknowledged = models.IntegerField(null=True)
    secs_to_prognosis = models.IntegerField(null=True)
    secs_to_reserve = models.IntegerField(null=True)
    secs_to_resolved = models.IntegerField(null=True)
    secs_to_closed = models.IntegerField(null=True)
    secs_escalated_to_acknowledged = models.IntegerField(null=True)
    # The ack_timeout of the routine version the incident is pinned to, in seconds: an
    # escalation acknowledged within it counts as acknowledged in time.
    ack_timeout_secs = models.PositiveIntegerField()

    steps_on_time = models.PositiveSmallIntegerField(default=0)
    steps_late = models.PositiveSmallIntegerField(default=0)
    steps_skipped = models.PositiveSmallIntegerField(default=0)
    notices = models.PositiveSmallIntegerField(default=0)

    # Summary, notes and review, for Historik's free-text search.
    search_text = models.TextField(blank=True)
    # to_tsvector('swedish', search_text), kept by a trigger on PostgreSQL (incidents migration 0007).
    search_vector = SearchVectorField(null=True, editable=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "incidents_incidentmetrics"
        verbose_name = _("nyckeltal")
        verbose_name_plural = _("nyckeltal")
        indexes = [
            # Historik's default order and period filter; the other columns let PostgreSQL
            # count a filtered list from the index alone.
            models.Index(
                fields=["reported_at", "scenario", "final_state", "had_reserve_routine", "is_drill"],
                name="metrics_period_filters",
            ),
            models.Index(fields=["scenario", "reported_at"], name="metrics_scenario_period"),
            # The figures' percentiles over a period, read from the index alone on PostgreSQL
            # (SQLite has no INCLUDE and makes a plain index on reported_at). Drills are never counted.
            models.Index(
                fields=["reported_at"],
                include=[
                    "final_state",
                    "secs_to_escalated",
                    "secs_to_acknowledged",
                    "secs_to_prognosis",
                    "secs_to_reserve",
                    "secs_to_resolved",
                    "secs_to_closed",
                ],
                condition=models.Q(is_drill=False),
                name="metrics_period_durations",
            ),
        ]
        permissions = [("export_figures", "Se nyckeltal och exportera CSV")]

    @property
    def followed_routine(self):
        return self.steps_late == 0 and self.steps_skipped == 0


class FiguresMonth(models.Model):
    """Nyckeltal per månad: the figures page's counts for one Stockholm month and scenario.

    Only counts that add up over months are kept (percentiles do not; the page computes them
    from ``IncidentMetrics``). Each row is recounted from the month's ``IncidentMetrics`` rows
    in the transaction that writes one of them (``services.refresh_figures_months``), never
    incremented, and the whole table is recounted by ``rebuild_incident_metrics``. A month
    with no incidents of a scenario has no row.
    """

    # The first day of the month in Stockholm.
    month = models.DateField()
    scenario = models.CharField(max_length=40)

    # All incidents reported in the month, by final state and reserve routine.
    incidents = models.PositiveIntegerField(default=0)  # not cancelled
    cancelled = models.PositiveIntegerField(default=0)
    reserve_all = models.PositiveIntegerField(default=0)  # reserve routine, cancelled ones too

    # Of the incidents not cancelled:
    escalations = models.PositiveIntegerField(default=0)
    acknowledged_in_time = models.PositiveIntegerField(default=0)
    reserve = models.PositiveIntegerField(default=0)
    reserve_by_hand = models.PositiveIntegerField(default=0)
    reserve_early = models.PositiveIntegerField(default=0)
    followed = models.PositiveIntegerField(default=0)  # no step late or skipped
    # How many have each duration (its column not null).
    n_escalated = models.PositiveIntegerField(default=0)
    n_acknowledged = models.PositiveIntegerField(default=0)
    n_prognosis = models.PositiveIntegerField(default=0)
    n_reserve = models.PositiveIntegerField(default=0)
    n_resolved = models.PositiveIntegerField(default=0)
    n_closed = models.PositiveIntegerField(default=0)

    # What ``acknowledged_in_time`` was counted against (``monthly.ack_timeout_secs``):
    # ``monthly.EACH_VERSION``, each incident's pinned version's own, or the seconds
    # ACK_TIMEOUT_SECONDS set for every version. A row counted otherwise is not used (the page
    # counts that month from IncidentMetrics instead).
    ack_timeout_secs = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "incidents_figuresmonth"
        verbose_name = _("nyckeltal per månad")
        verbose_name_plural = _("nyckeltal per månad")
        constraints = [
            models.UniqueConstraint(fields=["month", "scenario"], name="figures_month_scenario"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.scenario}"
