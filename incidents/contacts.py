"""Kontakter och SA:s arbetstider: kept in the app by Verksamhetsspecialist and -ansvarig.

The rules for what a contact or a duty interval may hold live here, once; the pages call
these, and the database's own constraints refuse what slips past.
"""

import re
from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from . import permissions
from .models import Contact, DutyHours
from .services import ActionRefused

PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]*$")
NAME_MAX = Contact._meta.get_field("name").max_length
PHONE_MAX = Contact._meta.get_field("phone").max_length
EMAIL_MAX = Contact._meta.get_field("email").max_length
NOTE_MAX = Contact._meta.get_field("note").max_length


class InvalidInput(ActionRefused):
    """Bad input for one field: the page shows the message at that field."""

    def __init__(self, message, field):
        super().__init__(message, code="invalid")
        self.field = field


def may_manage(user):
    return permissions.has(user, "change_contact") and permissions.has(user, "change_dutyhours")


def _require(user):
    if not may_manage(user):
        raise ActionRefused(_("Du har inte behörighet att ändra kontakter och arbetstider."), code="forbidden")


def _text(value, field, label, max_length, required=False):
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidInput(_("%(field)s innehåller otillåtna tecken.") % {"field": label}, field)
    if required and not value:
        raise InvalidInput(_("%(field)s måste fyllas i.") % {"field": label}, field)
    if len(value) > max_length:
        raise InvalidInput(_("%(field)s får vara högst %(n)d tecken.") % {"field": label, "n": max_length}, field)
    return value


def clean_contact(*, kind, name, phone="", email="", note=""):
    """The contact's fields, cleaned; the first bad one raises ``InvalidInput``."""
    if kind not in Contact.Kind.values:
        raise InvalidInput(_("Välj vilken sorts kontakt det är."), "kind")
    name = _text(name, "name", _("Namn"), NAME_MAX, required=True)
    phone = _text(phone, "phone", _("Telefon"), PHONE_MAX)
    if phone and not PHONE.match(phone):
        raise InvalidInput(
            _("Telefonnumret får bara innehålla siffror, mellanslag, bindestreck, parenteser och ett inledande +."),
            "phone",
        )
    email = _text(email, "email", _("E-post"), EMAIL_MAX)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(_("Ange en giltig e-postadress, t.ex. namn@skane.se."), "email") from None
    note = _text(note, "note", _("Anmärkning"), NOTE_MAX)
    return {"kind": kind, "name": name, "phone": phone, "email": email, "note": note}


@transaction.atomic
def save_contact(user, contact_id=None, **fields):
    """Add a contact, or change one (``contact_id``)."""
    _require(user)
    cleaned = clean_contact(**fields)
    if contact_id is None:
        return Contact.objects.create(**cleaned)
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        raise ActionRefused(_("Kontakten finns inte."), code="not_found")
    for key, value in cleaned.items():
        setattr(contact, key, value)
    contact.active = True
    contact.save()
    return contact


@transaction.atomic
def deactivate_contact(user, contact_id):
    """Take a contact out of use (kept, since past incidents named them)."""
    _require(user)
    updated = Contact.objects.filter(pk=contact_id).update(active=False)
    if not updated:
        raise ActionRefused(_("Kontakten finns inte."), code="not_found")


def clean_duty_hours(*, weekday, start, end):
    try:
        weekday = int(weekday)
    except (TypeError, ValueError):
        weekday = -1
    if weekday not in DutyHours.Weekday.values:
        raise InvalidInput(_("Välj en veckodag."), "weekday")
    if not isinstance(start, time):
        raise InvalidInput(_("Ange starttiden som TT:MM."), "start")
    if not isinstance(end, time):
        raise InvalidInput(_("Ange sluttiden som TT:MM."), "end")
    if end <= start:
        raise InvalidInput(_("Sluttiden måste vara efter starttiden."), "end")
    return weekday, start, end


@transaction.atomic
def add_duty_hours(user, *, weekday, start, end):
    """One more interval when SA is on duty (Swedish time; public holidays are off anyway)."""
    _require(user)
    weekday, start, end = clean_duty_hours(weekday=weekday, start=start, end=end)
    overlapping = DutyHours.objects.select_for_update().filter(weekday=weekday, start__lt=end, end__gt=start).first()
    if overlapping is not None:
        raise InvalidInput(
            _("Tiden överlappar %(other)s. Ändra eller ta bort den först.") % {"other": overlapping}, "start"
        )
    return DutyHours.objects.create(weekday=weekday, start=start, end=end)


@transaction.atomic
def remove_duty_hours(user, duty_id):
    _require(user)
    deleted, _rows = DutyHours.objects.filter(pk=duty_id).delete()
    if not deleted:
        raise ActionRefused(_("Arbetstiden finns inte."), code="not_found")
