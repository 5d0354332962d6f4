"""The incident, its tasks, its timeline and the reserve-routine orders.

The state machine of DESIGN section 3 lives on ``Incident`` (django-fsm-2, protected
field): a state changes only through a transition, and only through the services, which
check the person's permission and write the timeline in the same transaction.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from routines import loader
from runbook import formatting, scenarios
from runbook.scenarios import Role

from .times import EARLIEST, LATEST

# The most a drill's clocks may be sped up: the 4 hours in 2 minutes, 15 minutes in 7.5 s.
DRILL_MAX_TIME_SCALE = 120
# The most a drill leader's notes may hold (the scorecard's form and the database both say so).
DRILL_NOTES_MAX = 4000


def times_in_bounds(name, *fields):
    """The database's own refusal of a time outside the bounds every time keeps
    (incidents/times.py): the last line, behind the services' checks."""
    condition = models.Q()
    for field in fields:
        inside = models.Q(**{f"{field}__gte": EARLIEST, f"{field}__lt": LATEST})
        condition &= inside | models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=name)


class State(models.TextChoices):
    REPORTED = "reported", _("Anmäld")
    ESCALATED = "escalated", _("Eskalerad till SA")
    ACKNOWLEDGED = "acknowledged", _("Kvitterad")
    AWAITING_IT = "awaiting_it", _("Avvaktar IT")
    RESERVE_ROUTINE = "reserve_routine", _("Reservrutin aktiv")
    RESOLVED = "resolved", _("Åtgärdad")
    CLOSED = "closed", _("Avslutad")
    CANCELLED = "cancelled", _("Makulerad")


LIVE_STATES = (
    State.REPORTED,
    State.ESCALATED,
    State.ACKNOWLEDGED,
    State.AWAITING_IT,
    State.RESERVE_ROUTINE,
)
ENDED_STATES = (State.CLOSED, State.CANCELLED)


def _uses(transition):
    """The incident's scenario uses this transition (its routine's data says which)."""

    def condition(incident):
        return incident.scenario_def.uses(transition)

    condition.__name__ = f"scenario_uses_{transition}"
    return condition


def _is_drill(incident):
    return incident.is_drill


def _not_drill(incident):
    """A drill is not cancelled as a wrong report is: its leader breaks it off, saying why."""
    return not incident.is_drill


def _nothing_left_open(incident):
    open_tasks, open_orders = incident.close_blocker_facts()
    return not open_tasks and not open_orders


class IncidentQuerySet(models.QuerySet):
    def live(self):
        return self.filter(state__in=LIVE_STATES)

    def not_ended(self):
        return self.exclude(state__in=ENDED_STATES)

    def ended(self):
        return self.filter(state__in=ENDED_STATES)

    def real(self):
        """Real disruptions: no drill (övning)."""
        return self.filter(is_drill=False)

    def drills(self):
        return self.filter(is_drill=True)


class Incident(ConcurrentTransitionMixin, models.Model):
    """Driftstörning: one disruption of Sesam LMN, from report to close."""

    class PrognosisKind(models.TextChoices):
        MISSING = "missing", _("Prognos saknas")
        NONE = "none", _("Ingen prognos")
        AT = "at", _("Prognos")

    # A key of the pinned version's scenarios (routines are data: no fixed choices here); its
    # title is ``scenario_title``, never a display of code choices.
    scenario = models.CharField(_("scenario"), max_length=40)
    state = FSMField(_("status"), default=State.REPORTED, choices=State.choices, protected=True)
    summary = models.CharField(_("sammanfattning"), max_length=500)
    routine_version = models.CharField(max_length=20, default=scenarios.ROUTINE_VERSION)
    # The routine version the incident was reported under: its tasks, deadlines, notices,
    # caller script and report follow that version for ever (routines.loader.version_for).
    pinned_version = models.ForeignKey(
        "routines.RoutineVersion",
        on_delete=models.PROTECT,
        related_name="incidents",
        editable=False,
        verbose_name=_("rutinversion"),
    )

    began_at = models.DateTimeField(_("störningen började"))
    reported_at = models.DateTimeField(_("anmäld"), default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_incidents"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    prognosis_kind = models.CharField(max_length=10, choices=PrognosisKind.choices, default=PrognosisKind.MISSING)
    prognosis_at = models.DateTimeField(_("prognos"), null=True, blank=True)

    servicedesk_ref = models.CharField(_("ärende hos Servicedesk/Ritz"), max_length=60, blank=True)
    vendor_contact = models.CharField(_("kontakt med systemleverantör"), max_length=200, blank=True)
    cancel_reason = models.CharField(_("skäl till makulering"), max_length=500, blank=True)

    # An övning (drill) of the routine runs through the same machine, apart from real work
    # (``incidents/drills.py``, ``Drill``); its clocks run ``time_scale`` times faster.
    # A real incident is never a drill and always runs in real time (the constraint below).
    is_drill = models.BooleanField(_("övning"), default=False, editable=False)
    time_scale = models.PositiveIntegerField(_("tidsskala"), default=1, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised by ``stamps.touch`` with every change a page shows (state, tasks, prognosis,
    # timeline, deadlines, notices), in the transaction of the change; never written by save().
    version = models.PositiveBigIntegerField(default=1, editable=False)
    # Raised with ``version`` by the changes the live list's row shows; not by those it does
    # not (a notice claimed, sent or to be retried: ``stamps.touch(..., listed=False)``).
    list_version = models.PositiveBigIntegerField(default=1, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("driftstörning")
        verbose_name_plural = _("driftstörningar")
        indexes = [
            models.Index(fields=["state", "-reported_at"]),
            # The live list: a handful of rows among all of history, found without a scan.
            models.Index(
                fields=["-reported_at"],
                condition=~models.Q(state__in=ENDED_STATES),
                name="incident_live",
            ),
            # The live list's stamp (stamps.live_stamp) read from the index alone.
            models.Index(
                fields=["id", "list_version"],
                condition=~models.Q(state__in=ENDED_STATES),
                name="incident_live_list_stamp",
            ),
            # The drill plan's last drills (incidents.drill_plan), read without a scan of history.
            models.Index(
                fields=["pinned_version", "scenario", "began_at"],
                condition=models.Q(is_drill=True, state="closed"),
                name="incident_drill_done",
            ),
        ]
        constraints = [
            times_in_bounds("incident_times_in_bounds", "began_at", "reported_at", "prognosis_at", "ended_at"),
            models.CheckConstraint(
                condition=models.Q(time_scale__gte=1, time_scale__lte=DRILL_MAX_TIME_SCALE)
                & (models.Q(is_drill=True) | models.Q(time_scale=1)),
                name="incident_time_scale_only_for_drills",
            ),
        ]
        permissions = [
            ("report_incident", "Anmäla störning och skriva anteckning"),
            ("escalate_incident", "Eskalera till systemansvarig"),
            ("await_it_incident", "Markera Avvaktar IT"),
            ("reclassify_incident", "Byta scenario"),
            ("acknowledge_incident", "Kvittera eskalering"),
            ("record_prognosis", "Ange prognos"),
            ("record_it_contact", "Registrera Servicedesk-ärende och leverantörskontakt"),
            ("activate_reserve_routine", "Aktivera reservrutin manuellt"),
            ("resolve_incident", "Markera Driften återställd"),
            ("close_incident", "Avsluta"),
            ("cancel_incident", "Makulera"),
            ("cancel_own_report", "Makulera egen anmälan medan den är Anmäld"),
            ("complete_any_task", "Klarmarkera uppgifter för alla roller"),
            ("log_reserve_order", "Registrera akut förskrivning under reservrutin"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.scenario_title}"

    def save(self, *args, **kwargs):
        # The versions belong to stamps.touch alone: a copy read before a touch and saved
        # after it must not put the old numbers back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in ("version", "list_version")
            ]
        super().save(*args, **kwargs)

    @property
    def routine(self):
        """The routine version the incident runs under (read once per process)."""
        return loader.version_for(self)

    def clock(self, name: str) -> timedelta:
        """One of the routine's clocks (``reserve_routine_after``, ``ack_timeout``) as it runs
        for this incident: a drill's runs ``time_scale`` times faster."""
        return self.scaled(loader.duration(self.routine, name))

    def scaled(self, span: timedelta) -> timedelta:
        """A span of the routine (a clock, a step's time limit) as this incident lives it."""
        return span / self.time_scale if self.time_scale != 1 else span

    def real_time(self, span: timedelta) -> timedelta:
        """A span this incident lived, in the routine's real time (a drill's scorecard)."""
        return span * self.time_scale

    @property
    def scenario_def(self):
        return self.routine.scenario(self.scenario)

    @property
    def scenario_title(self):
        """The scenario's title in the version the incident is pinned to."""
        found = self.routine.scenarios.get(self.scenario) if self.pinned_version_id else None
        return found.title if found is not None else self.scenario

    @property
    def system(self):
        """The IT system of the incident's routine ("Sesam LMN")."""
        return self.routine.system

    @property
    def is_live(self):
        return self.state in LIVE_STATES

    @property
    def is_ended(self):
        return self.state in ENDED_STATES

    def has_valid_prognosis(self, now=None):
        """A prognosis counts only while its time lies ahead (DESIGN section 3)."""
        now = now or timezone.now()
        return self.prognosis_kind == self.PrognosisKind.AT and self.prognosis_at > now

    def prognosis_passed(self, now=None):
        now = now or timezone.now()
        return self.prognosis_kind == self.PrognosisKind.AT and self.prognosis_at <= now

    def close_blockers(self, facts=None):
        """Why the incident cannot be closed yet, in words for the person who tried.

        ``facts`` are ``close_blocker_facts()`` taken earlier, to word them later (in the
        reader's language) as they were when closing was refused.
        """
        open_tasks, open_orders = facts if facts is not None else self.close_blocker_facts()
        reasons = []
        if open_tasks:
            reasons.append(
                ngettext(
                    "%(n)d uppgift är inte klar: %(titles)s",
                    "%(n)d uppgifter är inte klara: %(titles)s",
                    len(open_tasks),
                )
                % {"n": len(open_tasks), "titles": "; ".join(open_tasks)}
            )
        if open_orders:
            reasons.append(
                ngettext(
                    "%(n)d akut förskrivning under reservrutinen är inte inlagd i Sesam LMN.",
                    "%(n)d akuta förskrivningar under reservrutinen är inte inlagda i Sesam LMN.",
                    open_orders,
                )
                % {"n": open_orders}
            )
        return reasons

    def close_blocker_facts(self):
        """Every open task (its role and whole text) and how many urgent orders are not yet
        in Sesam LMN."""
        return (
            [f"{Role.label(t.role)}: {t.text}" for t in self.tasks.all() if not t.is_done],
            sum(1 for o in self.reserve_orders.all() if not o.entered_in_sesam),
        )

    # --- transitions (who may fire them is checked in services.py) -----------------------

    @transition(
        field=state,
        source=State.REPORTED,
        target=State.ESCALATED,
        conditions=[_uses(scenarios.ESCALATE)],
    )
    def escalate(self):
        """Eskalera till systemansvarig."""

    @transition(field=state, source=State.ESCALATED, target=State.ACKNOWLEDGED)
    def acknowledge(self):
        """Kvittera."""

    @transition(
        field=state,
        source=State.REPORTED,
        target=State.AWAITING_IT,
        conditions=[_uses(scenarios.AWAIT_IT)],
    )
    def await_it(self):
        """Avvaktar IT."""

    @transition(
        field=state,
        source=[State.REPORTED, State.ESCALATED, State.ACKNOWLEDGED],
        target=State.RESERVE_ROUTINE,
        conditions=[_uses(scenarios.RESERVE_ROUTINE)],
    )
    def activate_reserve_routine(self):
        """Aktivera reservrutin."""

    @transition(field=state, source=list(LIVE_STATES), target=State.RESOLVED)
    def resolve(self):
        """Driften återställd."""

    @transition(field=state, source=State.RESOLVED, target=State.CLOSED, conditions=[_nothing_left_open])
    def close(self):
        """Avsluta."""
        self.ended_at = timezone.now()

    @transition(field=state, source=[State.REPORTED, State.ESCALATED], target=State.CANCELLED, conditions=[_not_drill])
    def cancel(self):
        """Makulera."""
        self.ended_at = timezone.now()

    @transition(field=state, source=[*LIVE_STATES, State.RESOLVED], target=State.CANCELLED, conditions=[_is_drill])
    def break_off(self):
        """Avbryt övningen (a drill only: ``drills.break_off``)."""
        self.ended_at = timezone.now()


class Drill(models.Model):
    """Övning: a rehearsal of the routine, run as an incident (``is_drill``) by its leader
    with the people taking part; started and broken off only through ``incidents/drills.py``."""

    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, primary_key=True, related_name="drill", verbose_name=_("övning")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_drills", verbose_name=_("övningsledare")
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="drills", verbose_name=_("deltagare"), blank=True
    )
    started_at = models.DateTimeField(_("startad"), default=timezone.now)
    # The leader's notes for the scorecard (what went well, what to practise), bounded.
    NOTES_MAX = DRILL_NOTES_MAX
    notes = models.TextField(_("övningsledarens anteckningar"), blank=True)
    broken_off_at = models.DateTimeField(_("avbruten"), null=True, blank=True)
    broken_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    broken_off_reason = models.CharField(_("skäl till avbrott"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("övning")
        verbose_name_plural = _("övningar")
        constraints = [
            times_in_bounds("drill_times_in_bounds", "started_at", "broken_off_at"),
            models.CheckConstraint(
                condition=models.Q(broken_off_at__isnull=True) | ~models.Q(broken_off_reason=""),
                name="drill_broken_off_with_reason",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), DRILL_NOTES_MAX),
                name="drill_notes_bounded",
            ),
        ]

    def __str__(self):
        return f"Övning #{self.incident_id}"


# How often a scenario is drilled (övningsplan), in days: at least weekly, at most every
# three years; a scenario without a plan of its own is drilled yearly.
DRILL_INTERVAL_MIN_DAYS = 7
DRILL_INTERVAL_MAX_DAYS = 1095
DRILL_INTERVAL_DEFAULT_DAYS = 365


class DrillPlan(models.Model):
    """Övningsplan: how often Verksamhetsansvarig wants one scenario of one routine drilled.

    A scenario without a row is drilled every ``DRILL_INTERVAL_DEFAULT_DAYS`` (yearly); set
    only through ``incidents/drill_plan.py``, which checks who and what, and the database
    refuses an interval outside the bounds."""

    routine = models.ForeignKey(
        "routines.Routine", on_delete=models.PROTECT, related_name="drill_plans", verbose_name=_("rutin")
    )
    scenario = models.CharField(_("scenario"), max_length=40)
    interval_days = models.PositiveIntegerField(_("övas var (dagar)"), default=DRILL_INTERVAL_DEFAULT_DAYS)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(_("ändrad"), default=timezone.now)

    class Meta:
        ordering = ["routine", "scenario"]
        verbose_name = _("övningsplan")
        verbose_name_plural = _("övningsplaner")
        constraints = [
            models.UniqueConstraint(fields=["routine", "scenario"], name="drill_plan_one_per_scenario"),
            models.CheckConstraint(
                condition=models.Q(
                    interval_days__gte=DRILL_INTERVAL_MIN_DAYS, interval_days__lte=DRILL_INTERVAL_MAX_DAYS
                ),
                name="drill_plan_interval_in_bounds",
            ),
            times_in_bounds("drill_plan_times_in_bounds", "set_at"),
        ]

    def __str__(self):
        return f"{self.routine_id}/{self.scenario}: {self.interval_days}"


class Task(models.Model):
    """Uppgift: one step of the routine, due for one role in one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="tasks")
    scenario = models.CharField(max_length=40)
    step_key = models.CharField(max_length=60)
    role = models.CharField(max_length=40, choices=[(r, Role.label(r)) for r in Role.ALL])
    text = models.TextField()
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "scenario", "step_key"], name="one_task_per_step")]

    def __str__(self):
        return self.short_text()

    @property
    def is_done(self):
        return self.done_at is not None

    def short_text(self, length=80):
        text = str(self.text)
        return text if len(text) <= length else text[: length - 1] + "…"

    def is_overdue(self, now=None):
        return not self.is_done and self.due_at is not None and self.due_at < (now or timezone.now())


class TimelineEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The timeline is append-only.")

    def delete(self):
        raise TypeError("The timeline is append-only.")


class TimelineEvent(models.Model):
    """Händelse i tidslinjen. Append-only: written by services.log_event, never changed."""

    class Kind(models.TextChoices):
        REPORTED = "reported", _("Anmäld")
        TRANSITION = "transition", _("Statusändring")
        TASK_CREATED = "task_created", _("Ny uppgift")
        TASK_DONE = "task_done", _("Uppgift klar")
        PROGNOSIS = "prognosis", _("Prognos")
        NOTE = "note", _("Anteckning")
        CALLER_REPORT = "caller_report", _("Samtal från förskrivare")
        IT_CONTACT = "it_contact", _("Kontakt med IT/leverantör")
        RECLASSIFIED = "reclassified", _("Nytt scenario")
        RESERVE_ORDER = "reserve_order", _("Akut förskrivning")
        TIMER = "timer", _("Timer")
        NOTIFICATION = "notification", _("Meddelande")
        # What a drill's leader made go wrong (``incidents/drills.py``: ``inject``).
        INJECTED = "injected", _("Inspel")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who did it, as shown then ("Anna Andersson (Systemansvarig)" or "Systemet").
    actor_label = models.CharField(max_length=200)
    message = models.CharField(max_length=500)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TimelineEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]
        # The times inside ``data`` (since, began_at, expected_at) are checked on PostgreSQL
        # by migration 0010.
        constraints = [times_in_bounds("timeline_at_in_bounds", "at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.message}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("The timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The timeline is append-only.")


class ReserveOrder(models.Model):
    """Akut förskrivning under reservrutin.

    Only a reference to the paper/e-mail order form is kept: no personnummer, no patient
    name. The order is entered into Sesam LMN once service is back.
    """

    class ProductArea(models.TextChoices):
        INCONTINENCE = "incontinence", _("Inkontinenshjälpmedel")
        SPECIAL_FOOD = "special_food", _("Speciallivsmedel")
        DIABETES = "diabetes", _("Diabeteshjälpmedel")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="reserve_orders")
    reference = models.CharField(_("blankettens referens"), max_length=60)
    product_area = models.CharField(_("produktområde"), max_length=20, choices=ProductArea.choices)
    prescriber_unit = models.CharField(_("förskrivarens enhet"), max_length=200)
    logged_at = models.DateTimeField(default=timezone.now)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_in_sesam = models.BooleanField(default=False)
    entered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["logged_at", "id"]


class Contact(models.Model):
    """Kontakt: the people and functions outside the app that the routine contacts.

    Editable in the admin; shown on the incident page with phone numbers; e-mail is used by
    the notifications app.
    """

    class Kind(models.TextChoices):
        SYSTEMANSVARIG = "systemansvarig", _("Systemansvarig (SA)")
        SA_MANAGER = "sa_manager", _("Enhetschef för SA")
        SERVICEDESK = "servicedesk", _("Servicedesk")
        VENDOR = "vendor", _("Systemleverantör")
        REGIONAL_IT = "regional_it", _("Regionala IT-funktionen (driftinfo)")

    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("namn"), max_length=200)
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    email = models.EmailField(_("e-post"), blank=True)
    note = models.CharField(_("anmärkning"), max_length=200, blank=True)
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("kontakt")
        verbose_name_plural = _("kontakter")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"


class TimerQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=Timer.State.PENDING)

    def due(self, now):
        return self.pending().filter(due_at__lte=now)


class Timer(models.Model):
    """Tidsfrist: a durable deadline of an incident, fired once by the beat-driven sweep.

    The deadline is a row, not a Celery ETA: a broker flush or a dead worker loses nothing,
    and the sweep fires what is due under a row lock (DESIGN sections 4 and 7).
    """

    class Kind(models.TextChoices):
        RESERVE_ROUTINE = "reserve_routine", _("Reservrutin efter 4 timmar utan prognos")
        ACK_TIMEOUT = "ack_timeout", _("Eskalering inte kvitterad")
        PROGNOSIS_PASSED = "prognosis_passed", _("Prognosen passerar")

    class State(models.TextChoices):
        PENDING = "pending", _("Väntar")
        FIRED = "fired", _("Utlöst")
        CANCELLED = "cancelled", _("Avbruten")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # What firing did ("activated", "held_by_prognosis", "not_applicable", ...) or why it was cancelled.
    outcome = models.CharField(max_length=40, blank=True)
    # Sweeps whose firing raised; from TIMER_ALERT_AFTER_ATTEMPTS on a person is told.
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    objects = TimerQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("tidsfrist")
        verbose_name_plural = _("tidsfrister")
        indexes = [
            # The sweep reads only pending deadlines: its cost follows what is pending, not history.
            models.Index(fields=["due_at"], condition=models.Q(state="pending"), name="timer_pending_due"),
            models.Index(fields=["incident", "kind"], name="timer_incident_kind"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind"],
                condition=models.Q(state="pending"),
                name="one_pending_timer_per_kind",
            ),
            times_in_bounds("timer_due_in_bounds", "due_at"),
        ]

    def __str__(self):
        return f"#{self.incident_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M:%S} {self.state}"

    @property
    def is_pending(self):
        return self.state == self.State.PENDING

    @property
    def is_failing(self):
        """Pending, and firing it has raised often enough that a person has been told."""
        return self.is_pending and self.attempts >= settings.TIMER_ALERT_AFTER_ATTEMPTS

    def clock_text(self):
        """What happens at the deadline, in words for the incident page and the live list."""
        at = formatting.clock_time(self.due_at)
        if self.kind == self.Kind.RESERVE_ROUTINE:
            return _("Reservrutin aktiveras %(at)s om prognos saknas") % {"at": at}
        if self.kind == self.Kind.ACK_TIMEOUT:
            return _("Enhetschef för SA kontaktas %(at)s om eskaleringen inte kvitteras") % {"at": at}
        return _("Prognosen passerar %(at)s – påminnelse om ny prognos") % {"at": at}


class DutyHours(models.Model):
    """Systemansvarigs arbetstid: one weekly interval in Europe/Stockholm time.

    SA is on duty when the local time falls in an interval of that weekday and the day is
    not a Swedish public holiday. Editable in the admin.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("måndag")
        TUESDAY = 1, _("tisdag")
        WEDNESDAY = 2, _("onsdag")
        THURSDAY = 3, _("torsdag")
        FRIDAY = 4, _("fredag")
        SATURDAY = 5, _("lördag")
        SUNDAY = 6, _("söndag")

    weekday = models.PositiveSmallIntegerField(_("veckodag"), choices=Weekday.choices)
    start = models.TimeField(_("från"))
    end = models.TimeField(_("till"))

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name = _("arbetstid för SA")
        verbose_name_plural = _("arbetstider för SA")
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="duty_end_after_start")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class EmergencyPack(models.Model):
    """Nödpärm: the routine in force on paper (PDF), made once per edition.

    An edition is the routine version, the contacts (and the settings printed with them) and
    the language, as one key (``incidents.pack``): a new version or a changed contact makes
    a new pack, and its first page says when it was made.
    """

    key = models.CharField(max_length=120, unique=True)
    routine_version = models.CharField(max_length=40)
    language = models.CharField(max_length=10)
    made_at = models.DateTimeField(default=timezone.now)
    pdf = models.BinaryField()

    class Meta:
        ordering = ["-made_at", "-id"]
        verbose_name = _("nödpärm")
        verbose_name_plural = _("nödpärmar")

    def __str__(self):
        return f"{self.routine_version} {self.made_at:%Y-%m-%d %H:%M}"
