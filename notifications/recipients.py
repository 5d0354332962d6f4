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
