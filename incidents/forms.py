from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from routines import loader
from runbook.forms import LimitsSaidForm

from . import times
from .models import Incident, ReserveOrder

SUMMARY_MAX = Incident._meta.get_field("summary").max_length
YES_NO_UNKNOWN = [("yes", _("Ja")), ("no", _("Nej")), ("unknown", _("Vet inte"))]


def _answer(value):
    return {"yes": True, "no": False}.get(value)


class PageForm(LimitsSaidForm):
    """A form that shares its page with others and refuses what it cannot take.

    Its fields' ids start with ``id_prefix`` (the incident page draws several forms, two of
    them with a field called ``note``). Length limits are said, not cut (``LimitsSaidForm``).
    """

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"id_{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


# Names a triage question's field cannot take: the form's own fields and what the report
# page posts beside them. A question whose key is one of them is posted as ``fraga_<key>``.
RESERVED_NAMES = frozenset({"scenario", "summary", "began_at", "routine", "action", "bekrafta", "csrfmiddlewaretoken"})


def report_field_name(question):
    """The name the report form posts a triage question's answer under."""
    return f"fraga_{question}" if question in RESERVED_NAMES else question


class ReportForm(PageForm):
    """Anmäl störning: the triage guide proposes a scenario, the agent confirms it.

    ``routine`` is the version the incident will start under (default: the app's own routine
    in force): its triage questions are the form's first fields, in its order, and its
    scenarios the choices."""

    scenario = forms.ChoiceField(
        label=_("Scenario"),
        choices=(),  # the scenarios of the routine (__init__)
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj det scenario som stämmer.")},
    )
    summary = forms.CharField(
        label=_("Sammanfattning"),
        max_length=SUMMARY_MAX,
        help_text=format_lazy(
            _("Vad förskrivarna upplever, med egna ord. Inga personuppgifter om patienter. Högst {n} tecken."),
            n=SUMMARY_MAX,
        ),
        # The page counts the characters as they are typed (static/js/app.js).
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "data-limit": SUMMARY_MAX,
                "data-count-text": _("%(n)d av %(l)d tecken"),
                "data-over-text": _("%(n)d av %(l)d tecken: %(o)d för många. Korta texten innan du skickar."),
            }
        ),
        error_messages={"required": _("Skriv en kort sammanfattning.")},
    )
    began_at = forms.DateTimeField(
        label=_("Störningen började"),
        required=False,
        help_text=_("Lämna tomt om den började nu. Fyll i en tidigare tid om störningen anmäls i efterhand."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Ange tiden som ÅÅÅÅ-MM-DD TT:MM.")},
    )

    def __init__(self, *args, routine=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.routine = routine or loader.in_force()
        self.fields["scenario"].choices = self.routine.scenario_choices
        # question key -> the field that asks it
        self.triage_names = {key: report_field_name(key) for key, _text in self.routine.triage_questions}
        questions = {
            self.triage_names[key]: forms.ChoiceField(
                label=text, choices=YES_NO_UNKNOWN, widget=forms.RadioSelect, initial="unknown"
            )
            for key, text in self.routine.triage_questions
        }
        self.fields = {**questions, **self.fields}

    @property
    def triage_fields(self):
        """The triage questions as bound fields, in the routine's order."""
        return [self[name] for name in self.triage_names.values()]

    def proposal(self):
        """The scenario the triage answers point to, or None."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        source = data or self.data
        return self.routine.proposal({key: _answer(source.get(name)) for key, name in self.triage_names.items()})

    def triage_answers(self):
        return {key: self.cleaned_data.get(name) for key, name in self.triage_names.items()}

    def clean_began_at(self):
        return _bounded(times.began_at, self.cleaned_data.get("began_at"))


def _bounded(check, value, *args):
    """A value through its bounds in ``times``; its refusal as the field's error."""
    try:
        return check(value, *args)
    except times.OutOfBounds as exc:
        raise forms.ValidationError(str(exc.message)) from None


class NoteForm(PageForm):
    """The note that goes with an action (``transition``): one such form per action on the page."""

    note = forms.CharField(
        label=_("Anteckning (valfritt)"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, transition="", **kwargs):
        self.transition = transition
        kwargs.setdefault("auto_id", f"%s-{transition}")
        super().__init__(*args, **kwargs)


class CancelForm(PageForm):
    id_prefix = "cancel"
    reason = forms.CharField(
        label=_("Skäl till makulering"),
        max_length=500,
        error_messages={"required": _("Ange varför störningen makuleras.")},
    )


class BreakOffForm(PageForm):
    """Avbryt övningen: one click, with the reason kept on the drill's timeline."""

    id_prefix = "breakoff"
    reason = forms.CharField(
        label=_("Skäl till avbrott"),
        max_length=500,
        error_messages={"required": _("Ange varför övningen avbryts.")},
    )


class PrognosisForm(PageForm):
    id_prefix = "prognosis"
    kind = forms.ChoiceField(
        label=_("Prognos"),
        choices=[("at", _("Åter vid tidpunkt")), ("none", _("Ingen prognos"))],
        widget=forms.RadioSelect,
        initial="at",
    )
    expected_at = forms.DateTimeField(
        label=_("Förväntas åter"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Ange tiden som ÅÅÅÅ-MM-DD TT:MM.")},
    )
    note = forms.CharField(label=_("Anteckning (valfritt)"), required=False, max_length=4000)

    def clean_expected_at(self):
        if self.cleaned_data.get("kind") == "none":
            return None
        return _bounded(times.prognosis, self.cleaned_data.get("expected_at"))

    def clean(self):
        data = super().clean()
        if data.get("kind") == "at" and not data.get("expected_at") and "expected_at" not in self.errors:
            self.add_error("expected_at", _("Ange när Sesam LMN förväntas vara åter, eller välj ”Ingen prognos”."))
        return data


class CommentForm(PageForm):
    id_prefix = "comment"
    text = forms.CharField(
        label=_("Anteckning"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Skriv något i anteckningen.")},
    )


class CallerReportForm(PageForm):
    id_prefix = "caller"
    functions = forms.CharField(
        label=_("Vad fungerar inte?"), max_length=500, error_messages={"required": _("Beskriv vad som inte fungerar.")}
    )
    error_message = forms.CharField(label=_("Felmeddelande (ordagrant)"), max_length=500, required=False)
    prescribers = forms.IntegerField(
        label=_("Antal förskrivare"),
        min_value=1,
        max_value=10000,
        initial=1,
        error_messages={"invalid": _("Ange ett heltal."), "min_value": _("Minst 1."), "max_value": _("Högst 10 000.")},
    )
    since = forms.DateTimeField(
        label=_("Sedan när (valfritt)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": _("Ange tiden som ÅÅÅÅ-MM-DD TT:MM.")},
    )

    def clean_since(self):
        # The earliest allowed depends on the incident: the service checks that.
        return _bounded(times.caller_since, self.cleaned_data.get("since"), timezone.now() - timedelta(days=3650))


class ItContactForm(PageForm):
    id_prefix = "itcontact"
    servicedesk_ref = forms.CharField(label=_("Ärendenummer hos Servicedesk/Ritz"), max_length=60, required=False)
    vendor_contact = forms.CharField(label=_("Kontakt med systemleverantör"), max_length=200, required=False)


class ReclassifyForm(PageForm):
    id_prefix = "reclassify"
    scenario = forms.ChoiceField(label=_("Nytt scenario"), choices=())
    note = forms.CharField(label=_("Varför (valfritt)"), required=False, max_length=4000)

    def __init__(self, *args, routine=None, **kwargs):
        """``routine``: the incident's version, whose scenarios it may take (the service checks
        that again); without one, the routine in force."""
        super().__init__(*args, **kwargs)
        self.fields["scenario"].choices = (routine or loader.in_force()).scenario_choices


class ReserveOrderForm(PageForm):
    id_prefix = "order"
    reference = forms.CharField(
        label=_("Blankettens referens"),
        max_length=60,
        help_text=_("Löpnummer på Beställningsblankett LMN. Inget personnummer."),
    )
    product_area = forms.ChoiceField(label=_("Produktområde"), choices=ReserveOrder.ProductArea.choices)
    prescriber_unit = forms.CharField(label=_("Förskrivarens enhet"), max_length=200)


class ReviewForm(PageForm):
    """Uppföljning före avslut: becomes part of the incident report."""

    id_prefix = "review"

    note = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    what_happened = forms.CharField(
        label=_("Vad hände"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Skriv kort vad som hände innan störningen avslutas.")},
    )
    deviations = forms.CharField(
        label=_("Avvikelser från rutinen"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    actions = forms.CharField(
        label=_("Åtgärder"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def review(self):
        return {k: self.cleaned_data.get(k, "") for k in ("what_happened", "deviations", "actions")}
