"""Övningsplan: how often each scenario of each routine is drilled, when it last was and when
it is next due.

Verksamhetsansvarig sets the interval of a scenario (``set_interval``); a scenario without a
plan of its own is drilled yearly (``DRILL_INTERVAL_DEFAULT_DAYS``). ``plan`` reads, for every
scenario of each routine's version in force, the last drill started as that scenario that was
carried through to *Avslutad* (a drill broken off, or not yet closed, is not a drill done), the day the next is
due (the last drill's day plus the interval; never drilled: due now) and whether it is
overdue. An overdue drill is Verksamhetsansvarig's task (``tasks_for``), worked out from the
plan whenever it is read, so it cannot go stale and is gone as soon as a drill is done.

Read on whole pages only (the plan page, the live list's page, not its polls), in a fixed
number of queries whatever the history.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routines import loader
from routines.models import RoutineVersion
from runbook import roles
from runbook.errors import ActionRefused
from runbook.scenarios import Role

from .models import (
    DRILL_INTERVAL_DEFAULT_DAYS,
    DRILL_INTERVAL_MAX_DAYS,
    DRILL_INTERVAL_MIN_DAYS,
    DrillPlan,
    State,
    TimelineEvent,
)

# The intervals offered by name; any other whole number of days within the bounds is kept too.
PRESETS = (
    (30, gettext_lazy("varje månad")),
    (91, gettext_lazy("varje kvartal")),
    (182, gettext_lazy("varje halvår")),
    (365, gettext_lazy("varje år")),
)
# Who sets the plan, and who may read it on its own page.
PLANNERS = {Role.VERKSAMHETSANSVARIG}
READERS = {Role.VERKSAMHETSANSVARIG, Role.VERKSAMHETSSPECIALIST}


def may_set(user: User) -> bool:
    """Verksamhetsansvarig decides how often the routine is drilled."""
    return bool(roles.user_roles(user) & PLANNERS)


def may_view(user: User) -> bool:
    """Verksamhetsansvarig and -specialist read the whole plan (everyone sees its summary)."""
    return bool(roles.user_roles(user) & READERS)


def interval_words(days: int) -> str:
    """ "varje kvartal", or "var 45:e dag"."""
    for preset, label in PRESETS:
        if days == preset:
            return str(label)
    return _("var %(n)d:e dag") % {"n": days}


def clean_interval(value: int | str | None) -> int:
    """A whole number of days within the bounds, or a refusal in words."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        days = 0
    if not DRILL_INTERVAL_MIN_DAYS <= days <= DRILL_INTERVAL_MAX_DAYS:
        raise ActionRefused(
            lambda: (
                _("Intervallet ska vara ett helt antal dagar från %(min)d till %(max)d.")
                % {"min": DRILL_INTERVAL_MIN_DAYS, "max": DRILL_INTERVAL_MAX_DAYS}
            ),
            code="invalid",
        )
    return days


@transaction.atomic
def set_interval(user: User, *, scenario: str, interval_days: int | str, routine: str | None = None) -> DrillPlan:
    """Ändra övningsplan: drill ``scenario`` of ``routine`` (default: the app's own) every
    ``interval_days``; who set it and when are kept with it."""
    if not may_set(user):
        raise ActionRefused(_("Bara verksamhetsansvarig kan ändra hur ofta scenarierna övas."), code="forbidden")
    try:
        version = loader.in_force_version(routine)
    except loader.NoVersionInForce:
        raise ActionRefused(_("Okänd rutin."), code="invalid") from None
    if scenario not in loader.loaded(version.pk).scenarios:
        raise ActionRefused(_("Okänt scenario."), code="invalid")
    days = clean_interval(interval_days)
    plan, _created = DrillPlan.objects.update_or_create(
        routine=version.routine,
        scenario=scenario,
        defaults={"interval_days": days, "set_by": user, "set_at": timezone.now()},
    )
    return plan


def scenario_title(row: DrillPlan) -> str:
    """The scenario's title in the routine's version in force."""
    return str(loader.in_force(row.routine.key).scenario(row.scenario).title)


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario's line of the plan."""

    routine_key: str
    routine_name: str
    scenario: str
    title: str
    interval_days: int
    # Set by a person (else the yearly default), by whom and when.
    set_by: str | None
    set_at: datetime | None
    # The local day the last drill carried through to the end began, or None: never drilled.
    last_drill: date | None
    # The local day the next drill is due; None when never drilled (due now).
    next_due: date | None
    overdue: bool

    @property
    def interval_text(self) -> str:
        return interval_words(self.interval_days)

    @property
    def is_default(self) -> bool:
        return self.set_by is None

    @property
    def task_text(self) -> str:
        """Verksamhetsansvarig's task while the drill is overdue."""
        if self.last_drill is None:
            return _("Planera och genomför övning: %(scenario)s (aldrig övad)") % {"scenario": self.title}
        return _("Planera och genomför övning: %(scenario)s (senast övad %(date)s)") % {
            "scenario": self.title,
            "date": self.last_drill.isoformat(),
        }


def _versions_in_force():
    newer = RoutineVersion.objects.filter(
        routine=OuterRef("routine"), status=RoutineVersion.Status.PUBLISHED, number__gt=OuterRef("number")
    )
    return (
        RoutineVersion.objects.filter(status=RoutineVersion.Status.PUBLISHED)
        .exclude(Exists(newer))
        .select_related("routine")
        .defer("document")
        .order_by("routine__name", "routine__key")
    )


def _last_drills():
    """(routine id, scenario) -> when the latest drill of the scenario that ran through to
    *Avslutad* began. A drill counts for the scenario it was started as (its first timeline
    entry says which): one reclassified on the way ("telefonin går ner") still drilled that
    scenario. A drill broken off ends *Makulerad* and does not count."""
    rows = (
        TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.REPORTED, incident__is_drill=True, incident__state=State.CLOSED
        )
        .order_by()
        .values_list("incident__pinned_version__routine_id", "data__scenario")
        .annotate(last=Max("incident__began_at"))
    )
    return {(routine_id, scenario): last for routine_id, scenario, last in rows}


def plan(now: datetime | None = None) -> list[ScenarioPlan]:
    """Every scenario of each routine's version in force, with its interval, last drill and
    next due day (three queries, whatever the history)."""
    today = timezone.localdate(now or timezone.now())
    versions = list(_versions_in_force())
    plans = {(p.routine_id, p.scenario): p for p in DrillPlan.objects.select_related("set_by")}
    last = _last_drills()
    lines = []
    for version in versions:
        routine = version.routine
        for key, scenario in loader.loaded(version.pk).scenarios.items():
            row = plans.get((routine.pk, key))
            days = row.interval_days if row else DRILL_INTERVAL_DEFAULT_DAYS
            began = last.get((routine.pk, key))
            last_day = timezone.localdate(began) if began else None
            next_due = last_day + timedelta(days=days) if last_day else None
            lines.append(
                ScenarioPlan(
                    routine_key=routine.key,
                    routine_name=routine.name,
                    scenario=key,
                    title=str(scenario.title),
                    interval_days=days,
                    set_by=(row.set_by.get_full_name() or row.set_by.get_username()) if row else None,
                    set_at=row.set_at if row else None,
                    last_drill=last_day,
                    next_due=next_due,
                    overdue=next_due is None or next_due < today,
                )
            )
    return lines


def tasks_for(user: User, lines: list[ScenarioPlan]) -> list[ScenarioPlan]:
    """The overdue drills, which are Verksamhetsansvarig's tasks (nobody else's)."""
    if not may_set(user):
        return []
    return [line for line in lines if line.overdue]


def many_routines(lines: list[ScenarioPlan]) -> bool:
    return len({line.routine_key for line in lines}) > 1
