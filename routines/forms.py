"""The editor's forms: they parse what was typed (minutes, lines, choices) into the document's
terms and nothing more; what a routine may hold is decided by ``document.load`` through
``routines.services``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from runbook.forms import LimitsSaidForm
from runbook.scenarios import Role

from . import document, words

MINUTES_ERRORS = {"invalid": _("Ange tiden i hela minuter.")}
# A bound that keeps a typed number from overflowing the document (a year, in minutes).
MINUTES_MAX = 366 * 24 * 60


def _minutes(label, *, required):
    return forms.IntegerField(
        label=label,
        required=required,
        max_value=MINUTES_MAX,
        error_messages={**MINUTES_ERRORS, "required": _("Ange tiden i hela minuter."), "max_value": _("Högst ett år.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def seconds(minutes):
    return None if minutes is None else minutes * 60


def minutes(seconds_):
    return None if seconds_ is None else seconds_ // 60 if seconds_ % 60 == 0 else round(seconds_ / 60, 1)


ROLE_CHOICES = [("", _("Välj roll"))] + [(r, Role.label(r)) for r in Role.ALL]
DUE_ON_CHOICES = list(words.DUE_ON_LABELS.items())
DONE_BY_CHOICES = [("" if k is None else k, v) for k, v in words.DONE_BY_LABELS.items()]
CHANNEL_CHOICES = [(c, words.CHANNEL_LABELS[c]) for c in document.CHANNELS]
RECIPIENT_CHOICES = list(words.RECIPIENT_LABELS.items())


class DurationsForm(LimitsSaidForm):
    label = forms.CharField(
        label=_("Versionens namn"),
        help_text=_("Som rutindokumentet skriver det, t.ex. 2025-1. Tomt: versionens nummer."),
        required=False,
        max_length=document.LABEL_MAX,
    )
    reserve_routine_after = _minutes(_("Reservrutin utan prognos efter (minuter)"), required=True)
    ack_timeout = _minutes(_("Tid att kvittera eskaleringen (minuter)"), required=True)


class StepForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False)
    instruction = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    role = forms.ChoiceField(label=_("Roll"), choices=ROLE_CHOICES, required=False)
    due_on = forms.ChoiceField(label=_("Blir en uppgift"), choices=DUE_ON_CHOICES)
    within = _minutes(_("Ska vara gjort inom (minuter, tomt: ingen gräns)"), required=False)
    done_by = forms.ChoiceField(label=_("Görs av"), choices=DONE_BY_CHOICES, required=False)


class ScenarioForm(forms.Form):
    title = forms.CharField(label=_("Rubrik"), required=False)
    routine_text = forms.CharField(label=_("Rutinens text"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    during = forms.CharField(
        label=words.SCRIPT_LABELS["during"],
        help_text=_("En replik per rad."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reserve = forms.CharField(
        label=words.SCRIPT_LABELS["reserve"],
        help_text=_("En replik per rad. Tomt: inga."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    restored = forms.CharField(
        label=words.SCRIPT_LABELS["restored"],
        help_text=_("En replik per rad. Tomt: inga."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoticeForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False)
    channel = forms.ChoiceField(label=_("Kanal"), choices=CHANNEL_CHOICES)
    action = forms.CharField(label=_("Åtgärd"), required=False)
    recipients = forms.MultipleChoiceField(
        label=_("Mottagare (e-post och SMS)"),
        choices=RECIPIENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    when = forms.CharField(label=_("När (text på regelsidan)"), required=False)
    why = forms.CharField(label=_("Varför (rutinens ord)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(forms.Form):
    reason = forms.CharField(
        label=_("Varför ändras rutinen?"),
        help_text=_("Kort, högst 500 tecken. Sparas med versionen."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
