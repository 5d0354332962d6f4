"""Who an e-mail rule reaches: SA, the enhetschef för SA, role members and subscribers."""

from django.contrib.auth import get_user_model

from incidents.models import Contact
from runbook.scenarios import Role

from . import rules
from .models import Subscription


class Recipient:
    def __init__(self, email, name="", user=None):
        self.email = email.strip()
        self.name = name
        self.user = user


def _users_in(role):
    return (
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


def _contacts(kind):
    return Contact.objects.filter(kind=kind, active=True).exclude(email="").order_by("pk")


def resolve(groups):
    """Recipients for the rule's groups, one per e-mail address, users before contacts."""
    found = {}

    def add(email, name="", user=None):
        key = email.strip().lower()
        if key and key not in found:
            found[key] = Recipient(email, name, user)

    for group in groups:
        if group == rules.SA:
            for user in _users_in(Role.SYSTEMANSVARIG):
                add(user.email, user.get_full_name() or user.get_username(), user)
            for contact in _contacts(Contact.Kind.SYSTEMANSVARIG):
                add(contact.email, contact.name)
        elif group == rules.SA_MANAGER:
            for contact in _contacts(Contact.Kind.SA_MANAGER):
                add(contact.email, contact.name)
        elif group == rules.SUBSCRIBERS:
            for sub in Subscription.objects.filter(active=True).order_by("pk"):
                add(sub.email, sub.name)
        else:
            for user in _users_in(group):
                add(user.email, user.get_full_name() or user.get_username(), user)
    return list(found.values())


# --- SMS: phone numbers from the contacts ------------------------------------------------

class PhoneRecipient:
    def __init__(self, phone, label, contact=None):
        self.phone = phone
        self.label = label  # for the record only, never in the SMS
        self.contact = contact


def sms_number(phone):
    """A contact's phone number as the gateway wants it (+46701234567), or "" when it cannot
    take an SMS (a Swedish landline, a short internal number such as 30 000, letters)."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+46" + digits[1:]
    if not digits.startswith("+") or "+" in digits[1:] or not 9 <= len(digits) - 1 <= 15:
        return ""
    if digits.startswith("+46") and not digits.startswith("+467"):
        return ""  # a Swedish landline (040-..., 08-...) takes no SMS; mobiles are 07x
    return digits


SMS_CONTACT_KINDS = {rules.SA: Contact.Kind.SYSTEMANSVARIG, rules.SA_MANAGER: Contact.Kind.SA_MANAGER}


def resolve_phones(groups):
    """Recipients with an SMS-able number for the rule's groups (contacts only: SA and the
    enhetschef), one per number; and the contacts skipped for want of one."""
    found, skipped = {}, []
    for group in groups:
        kind = SMS_CONTACT_KINDS.get(group)
        if kind is None:
            continue
        for contact in Contact.objects.filter(kind=kind, active=True).order_by("pk"):
            number = sms_number(contact.phone)
            if not number:
                skipped.append(contact)
            elif number not in found:
                found[number] = PhoneRecipient(number, f"{contact.get_kind_display()}: {contact.name}", contact)
    return list(found.values()), skipped
