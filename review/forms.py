"""Historik's filters and Nyckeltal's period: GET forms, so a view can be shared as a link."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from incidents import times
from runbook.forms import LimitsSaidForm

from .selectors import scenario_series


def _filter_date(value):
    """A date in a filter through its bounds in ``incidents.times``; the refusal as the field's error."""
    try:
        return times.filter_date(value)
    except times.OutOfBounds as exc:
        raise forms.ValidationError(str(exc.message)) from None


def stockholm_day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class RenderedOnceMixin:
    """A widget whose HTML is kept once rendered, for the filter forms drawn on every visit.

    Rendering a select goes through a template per option; the filter forms render the same
    widgets with the same values on most requests. The HTML depends only on the widget's
    class, its name, value, attributes and the language (the choices are fixed in the form
    class: never give a widget using this per-instance choices). Values come from the URL, so
    the store is bounded: it starts over when full.
    """

    _rendered = {}
    _RENDERED_MAX = 2000

    def render(self, name, value, attrs=None, renderer=None):
        key = (
            type(self),
            type(renderer),
            get_language(),
            name,
            repr(value),
            self.is_required,
            tuple(sorted((k, repr(v)) for k, v in (attrs or {}).items())),
            tuple(sorted((k, repr(v)) for k, v in self.attrs.items())),
        )
        html = self._rendered.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._rendered) >= self._RENDERED_MAX:
                self._rendered.clear()
            self._rendered[key] = html
        return html


class FilterSelect(RenderedOnceMixin, forms.Select):
    pass


class FilterDateInput(RenderedOnceMixin, forms.DateInput):
    pass


class FilterTextInput(RenderedOnceMixin, forms.TextInput):
    pass


class PeriodMixin:
    def clean_fran(self):
        return _filter_date(self.cleaned_data.get("fran"))

    def clean_till(self):
        return _filter_date(self.cleaned_data.get("till"))

    def period(self):
        """The chosen dates as [start, end) in local time (end date inclusive for the user)."""
        data = getattr(self, "cleaned_data", {}) or {}
        start = data.get("fran")
        end = data.get("till")
        return (
            stockholm_day_start(start) if start else None,
            stockholm_day_start(end + timedelta(days=1)) if end else None,
        )


SORT_CHOICES = [
    ("nyast", _("Nyast först")),
    ("aldst", _("Äldst först")),
    ("atgard-langst", _("Längst tid till återställd")),
    ("atgard-kortast", _("Kortast tid till återställd")),
    ("kvittens-langst", _("Längst tid till kvittens")),
    ("scenario", _("Scenario")),
]


class HistoryFilterForm(PeriodMixin, LimitsSaidForm):
    """Historik's filters; every field is a GET parameter so a view can be shared as a link."""

    scenario = forms.ChoiceField(
        label=_("Scenario"),
        required=False,
        choices=(),  # the scenarios of the routines in force (__init__)
        # Not FilterSelect: its rendering is kept per class, and these choices are data.
        widget=forms.Select,
    )
    fran = forms.DateField(label=_("Från och med"), required=False, widget=FilterDateInput(attrs={"type": "date"}))
    till = forms.DateField(label=_("Till och med"), required=False, widget=FilterDateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Slutstatus"),
        required=False,
        choices=[("", _("Alla")), ("closed", _("Avslutad")), ("cancelled", _("Makulerad"))],
        widget=FilterSelect,
    )
    reservrutin = forms.ChoiceField(
        label=_("Reservrutin"),
        required=False,
        choices=[("", _("Alla")), ("ja", _("Ja")), ("nej", _("Nej"))],
        widget=FilterSelect,
    )
    q = forms.CharField(
        label=_("Fritext"),
        required=False,
        max_length=200,
        widget=FilterTextInput,
        help_text=_("Söker i sammanfattning, anteckningar och uppföljning. #123 söker på nummer."),
    )
    sortering = forms.ChoiceField(label=_("Sortering"), required=False, choices=SORT_CHOICES, widget=FilterSelect)
    ovningar = forms.BooleanField(
        label=_("Visa övningar"),
        required=False,
        help_text=_("Visar bara övningar i stället för verkliga störningar."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scenario"].choices = [("", _("Alla")), *scenario_series()]

    def filters(self):
        data = self.cleaned_data if self.is_valid() else {}
        start, end = self.period() if data else (None, None)
        return {
            "scenario": data.get("scenario", ""),
            "start": start,
            "end": end,
            "state": data.get("status", ""),
            "reserve": data.get("reservrutin", ""),
            "q": data.get("q", ""),
            "sort": data.get("sortering") or "nyast",
            "drills": bool(data.get("ovningar")),
        }


class FiguresPeriodForm(PeriodMixin, forms.Form):
    fran = forms.DateField(label=_("Från och med"), required=False, widget=FilterDateInput(attrs={"type": "date"}))
    till = forms.DateField(label=_("Till och med"), required=False, widget=FilterDateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("fran") and data.get("till") and data["fran"] > data["till"]:
            raise forms.ValidationError(_("Periodens början ligger efter dess slut."))
        return data

    def chosen_period(self, today=None):
        """The period asked for, else the last twelve whole months up to today."""
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("till") or today
        start = data.get("fran")
        if start is None:
            year, month = end.year, end.month - 11
            if month <= 0:
                year, month = year - 1, month + 12
            start = end.replace(year=year, month=month, day=1)
        return start, end
