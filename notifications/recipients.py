"""Who an e-mail rule reaches: SA, the enhetschef för SA, role members and subscribers."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    return get_user_model().objects.filter(groups__name=role, is_active=True).exclude(email="").order_by("pk")


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


def without_email(groups):
    """Contacts a rule's groups should reach by e-mail but cannot, as (kind, contact) pairs;
    (kind, None) when no one of that kind is registered at all. SA's contacts count only when
    no one in SA's group can be mailed (then SA is rung instead)."""
    missing = []
    if rules.SA_MANAGER in groups:
        contacts = list(Contact.objects.filter(kind=Contact.Kind.SA_MANAGER, active=True).order_by("pk"))
        missing += [(Contact.Kind.SA_MANAGER, c) for c in contacts if not c.email.strip()]
        if not contacts:
            missing.append((Contact.Kind.SA_MANAGER, None))
    if rules.SA in groups and not resolve((rules.SA,)):
        contacts = Contact.objects.filter(kind=Contact.Kind.SYSTEMANSVARIG, active=True).order_by("pk")
        missing += [(Contact.Kind.SYSTEMANSVARIG, c) for c in contacts if not c.email.strip()]
    return missing


def contact_for(email):
    """The active contact mailed at this address, if the recipient is one."""
    return Contact.objects.filter(email__iexact=email.strip(), active=True).order_by("pk").first()


CALL_LABELS = {
    Contact.Kind.SA_MANAGER: gettext_lazy("Ring enhetschefen för SA"),
    Contact.Kind.SYSTEMANSVARIG: gettext_lazy("Ring systemansvarig"),
}


def call_text(kind, contact):
    """The task of ringing a contact instead: "Ring enhetschefen för SA: NAME, PHONE"."""
    label = CALL_LABELS.get(kind) or _("Ring %(kind)s") % {"kind": Contact.Kind(kind).label}
    if contact is None:
        return f"{label}: " + _("ingen kontakt är registrerad – lägg in den under Kontakter")
    return f"{label}: {contact.name}, {contact.phone or _('telefonnummer saknas')}"


# --- a drill: only its participants ------------------------------------------------------


def drill_participants(incident):
    """The ids and (lower-cased) e-mail addresses of the people taking part in a drill."""
    from incidents.models import Drill

    drill = Drill.objects.filter(pk=incident.pk).first()
    if drill is None:
        return set(), set()
    people = list(drill.participants.filter(is_active=True).values_list("pk", "email"))
    return {pk for pk, _email in people}, {email.strip().lower() for _pk, email in people if email.strip()}


def only_participants(incident, found):
    """Of ``found`` (e-mail recipients), those who take part in the drill ``incident``: a
    participating user, or a contact or subscriber at a participant's own address; and the rest."""
    ids, emails = drill_participants(incident)
    kept, left_out = [], []
    for r in found:
        taking_part = (r.user is not None and r.user.pk in ids) or r.email.strip().lower() in emails
        (kept if taking_part else left_out).append(r)
    return kept, left_out


def only_participating_phones(incident, found):
    """Of ``found`` (phone recipients: contacts), those whose contact has a participant's
    e-mail address (the participant's own phone); and the rest."""
    _ids, emails = drill_participants(incident)
    kept, left_out = [], []
    for r in found:
        taking_part = r.contact is not None and r.contact.email.strip().lower() in emails
        (kept if taking_part else left_out).append(r)
    return kept, left_out
