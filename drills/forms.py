"""The form that starts a drill. It reads what was asked; ``incidents.drills.start_drill``
decides whether it may be done (the leader, the scenario, the people, the time scale)."""

from dataclasses import dataclass

from django import forms
from django.contrib.auth.models import User
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from incidents.drills import MAX_PARTICIPANTS
from incidents.models import DRILL_MAX_TIME_SCALE
from incidents.services import SUMMARY_MAX
from routines import loader
from routines.models import Routine, RoutineVersion
from runbook.forms import LimitsSaidForm
from runbook.scenarios import Role

# The time scales offered first: the routine's 4 hours as they pass in the drill.
CUSTOM = "egen"
PRESETS = (
    ("1", _("Realtid")),
    ("30", _("4 timmar på 8 minuter")),
    ("120", _("4 timmar på 2 minuter")),
    (CUSTOM, _("Egen tidsskala")),
)
# Between a routine's key and a scenario's key in the scenario field's value (keys are slugs).
SEPARATOR = ":"


@dataclass(frozen=True)
class RoutineChoice:
    """A routine with a published version, and that version's scenarios as ``(value, title)``."""

    key: str
    name: str
    version: int
    scenarios: list[tuple[str, str]]


def routines_in_force() -> list[RoutineChoice]:
    """Every routine that has a published version, with the scenarios of the version in force."""
    keys = (
        Routine.objects.filter(versions__status=RoutineVersion.Status.PUBLISHED)
        .distinct()
        .order_by("name")
        .values_list("key", flat=True)
    )
    found = []
    for key in keys:
        version = loader.in_force(key)
        found.append(
            RoutineChoice(
                key=key,
                name=version.routine_name,
                version=version.number,
                scenarios=[(f"{key}{SEPARATOR}{s}", title) for s, title in version.scenario_choices],
            )
        )
    return found


@dataclass(frozen=True)
class PersonChoice:
    pk: int
    name: str
    other_roles: list[str]


def people_by_role() -> list[tuple[str, str, list[PersonChoice]]]:
    """Active people holding a routine role, grouped by role as ``(role, label, people)``:
    each person once, under the first of their roles in the routine's order."""
    people = (
        User.objects.filter(is_active=True, groups__name__in=Role.ALL)
        .distinct()
        .order_by("first_name", "last_name", "username")
        .prefetch_related("groups")
    )
    groups: dict[str, list[PersonChoice]] = {role: [] for role in Role.ALL}
    for person in people:
        held = sorted((g.name for g in person.groups.all() if g.name in Role.ALL), key=Role.ALL.index)
        groups[held[0]].append(
            PersonChoice(
                pk=person.pk,
                name=person.get_full_name() or person.get_username(),
                other_roles=[str(Role.label(r)) for r in held[1:]],
            )
        )
    return [(role, str(Role.label(role)), groups[role]) for role in Role.ALL if groups[role]]


class StartDrillForm(LimitsSaidForm):
    """Starta övning: scenario, who takes part, how fast the clocks run, a summary."""

    scenario = forms.ChoiceField(
        label=_("Scenario"),
        choices=(),  # the scenarios of every routine in force (__init__)
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj vilket scenario som övas.")},
    )
    participants = forms.TypedMultipleChoiceField(
        label=_("Deltagare"),
        coerce=int,
        choices=(),  # the people holding a routine role (__init__)
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Välj minst en deltagare."),
            "invalid_choice": _("Okänd deltagare."),
        },
    )
    tempo = forms.ChoiceField(
        label=_("Tidsskala"),
        choices=PRESETS,
        initial="30",
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj en tidsskala.")},
    )
    custom_scale = forms.IntegerField(
        label=_("Egen tidsskala (gånger fortare)"),
        required=False,
        min_value=1,
        max_value=DRILL_MAX_TIME_SCALE,
        help_text=format_lazy(
            _("Ett heltal från 1 (realtid) till {n}. Gäller när ”Egen tidsskala” är vald."),
            n=DRILL_MAX_TIME_SCALE,
        ),
        error_messages={
            "min_value": format_lazy(_("Ett heltal från 1 till {n}."), n=DRILL_MAX_TIME_SCALE),
            "max_value": format_lazy(_("Ett heltal från 1 till {n}."), n=DRILL_MAX_TIME_SCALE),
            "invalid": format_lazy(_("Ett heltal från 1 till {n}."), n=DRILL_MAX_TIME_SCALE),
        },
    )
    summary = forms.CharField(
        label=_("Sammanfattning"),
        required=False,
        max_length=SUMMARY_MAX,
        help_text=format_lazy(
            _("Frivillig. Utan sammanfattning står ”Övning: <scenario>”. Högst {n} tecken."), n=SUMMARY_MAX
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, routines=None, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.routines = routines if routines is not None else routines_in_force()
        self.people = people if people is not None else people_by_role()
        self.fields["scenario"].choices = [choice for r in self.routines for choice in r.scenarios]
        self.fields["participants"].choices = [(p.pk, p.name) for _role, _label, people in self.people for p in people]

    @property
    def several_routines(self):
        return len(self.routines) > 1

    def clean_participants(self):
        chosen = self.cleaned_data["participants"]
        if len(set(chosen)) > MAX_PARTICIPANTS:
            raise forms.ValidationError(
                _("En övning kan ha högst %(n)d deltagare."), params={"n": MAX_PARTICIPANTS}, code="too_many"
            )
        return chosen

    def clean(self):
        data = super().clean()
        tempo, custom = data.get("tempo"), data.get("custom_scale")
        if tempo == CUSTOM:
            if custom is None and "custom_scale" not in self.errors:
                self.add_error("custom_scale", _("Skriv hur många gånger fortare klockorna ska gå."))
            data["time_scale"] = custom
        elif tempo:
            if custom is not None and custom != int(tempo):
                # Two answers to one question: neither is taken without a word.
                self.add_error(
                    "custom_scale",
                    _("Du har valt en tidsskala och skrivit en annan. Välj ”Egen tidsskala” eller töm fältet."),
                )
            data["time_scale"] = int(tempo)
        return data

    def start_arguments(self):
        """What ``start_drill`` is called with, from the cleaned form."""
        routine, _sep, scenario = self.cleaned_data["scenario"].partition(SEPARATOR)
        return {
            "routine": routine,
            "scenario": scenario,
            "participants": self.cleaned_data["participants"],
            "time_scale": self.cleaned_data["time_scale"],
            "summary": self.cleaned_data.get("summary", ""),
        }

    def _chosen(self, name):
        value = self[name].value()
        if value is None:
            return set()
        values = value if isinstance(value, list | tuple) else [value]
        return {str(v) for v in values}

    @property
    def chosen_participants(self):
        """The people the page shows ticked: as sent, else the initial ones (as text)."""
        return self._chosen("participants")

    @property
    def chosen_scenario(self):
        return next(iter(self._chosen("scenario")), "")
