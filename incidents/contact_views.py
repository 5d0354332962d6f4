"""Kontakter och arbetstider: the pages. Parse, call ``contacts``, render."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import contacts
from .models import Contact, DutyHours


class ContactForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Typ"), choices=Contact.Kind.choices)
    name = forms.CharField(label=gettext_lazy("Namn"), required=False)
    phone = forms.CharField(label=gettext_lazy("Telefon"), required=False)
    email = forms.CharField(
        label=gettext_lazy("E-post"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    note = forms.CharField(label=gettext_lazy("Anmärkning"), required=False)


class DutyHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Veckodag"),
        choices=DutyHours.Weekday.choices,
        coerce=int,
        error_messages={"invalid_choice": gettext_lazy("Välj en veckodag.")},
    )
    start = forms.TimeField(
        label=gettext_lazy("Från"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": gettext_lazy("Ange starttiden som TT:MM."),
            "invalid": gettext_lazy("Ange starttiden som TT:MM."),
        },
    )
    end = forms.TimeField(
        label=gettext_lazy("Till"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": gettext_lazy("Ange sluttiden som TT:MM."),
            "invalid": gettext_lazy("Ange sluttiden som TT:MM."),
        },
    )


def _page(request, *, contact_form=None, duty_form=None, editing=None, status=200):
    return render(
        request,
        "incidents/contacts.html",
        {
            "contacts": Contact.objects.filter(active=True).order_by("kind", "name"),
            "contact_form": contact_form or ContactForm(),
            "duty_hours": DutyHours.objects.order_by("weekday", "start"),
            "duty_form": duty_form or DutyHoursForm(),
            "editing": editing,
        },
        status=status,
    )


def _forbidden(request):
    return render(request, "403.html", status=403)


def _call(request, form, call, success, **page):
    """Call the service; a refusal goes back to the form, at its field, and changes nothing."""
    try:
        call()
    except contacts.InvalidInput as refused:
        form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        return _page(request, status=400, **page)
    except contacts.ActionRefused as refused:
        if refused.code == "not_found":
            raise Http404 from None
        if refused.code == "forbidden":
            return _forbidden(request)
        messages.error(request, refused.message)
        return _page(request, status=409, **page)
    messages.success(request, success)
    return redirect("incidents:contacts")


@require_http_methods(["GET", "POST"])
def contact_list(request):
    """Kontakter: add one (POST), or list them with SA's duty hours."""
    if not contacts.may_manage(request.user):
        return _forbidden(request)
    editing = None
    if request.GET.get("andra", "").isdigit():
        editing = Contact.objects.filter(pk=int(request.GET["andra"]), active=True).first()
    if request.method == "GET":
        initial = None
        if editing is not None:
            initial = {f: getattr(editing, f) for f in ("kind", "name", "phone", "email", "note")}
        return _page(request, contact_form=ContactForm(initial=initial), editing=editing)
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _page(request, contact_form=form, editing=editing, status=400)
    return _call(
        request,
        form,
        lambda: contacts.save_contact(request.user, editing.pk if editing else None, **form.cleaned_data),
        _("Kontakten är sparad."),
        contact_form=form,
        editing=editing,
    )


@require_POST
def contact_remove(request, contact_id):
    if not contacts.may_manage(request.user):
        return _forbidden(request)
    return _call(
        request,
        ContactForm(),
        lambda: contacts.deactivate_contact(request.user, contact_id),
        _("Kontakten används inte längre."),
    )


@require_POST
def duty_add(request):
    if not contacts.may_manage(request.user):
        return _forbidden(request)
    form = DutyHoursForm(request.POST)
    if not form.is_valid():
        return _page(request, duty_form=form, status=400)
    return _call(
        request,
        form,
        lambda: contacts.add_duty_hours(request.user, **form.cleaned_data),
        _("Arbetstiden är sparad."),
        duty_form=form,
    )


@require_POST
def duty_remove(request, duty_id):
    if not contacts.may_manage(request.user):
        return _forbidden(request)
    return _call(
        request,
        DutyHoursForm(),
        lambda: contacts.remove_duty_hours(request.user, duty_id),
        _("Arbetstiden är borttagen."),
    )
