"""Helpers for the timer tests that commit (transaction=True) and so are flushed afterwards.

A flush empties what the data migrations made (role groups, default duty hours, the
Servicedesk contact); these put it back without relying on serialized_rollback.
"""

import importlib
from datetime import time

from django.contrib.auth.models import Group, Permission

from incidents.models import Contact, DutyHours

ROLES = importlib.import_module("incidents.migrations.0002_roles_and_timeline_guard").DEFAULTS


def restore_seed_data():
    for role, codenames in ROLES.items():
        group, created = Group.objects.get_or_create(name=role)
        if created or not group.permissions.exists():
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames)
            )
    if not DutyHours.objects.exists():
        DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(8), end=time(16, 30)) for d in range(5))
    Contact.objects.get_or_create(
        kind=Contact.Kind.SERVICEDESK,
        name="Servicedesk Region Skåne",
        defaults={"phone": "30 000", "note": "Telefon 30 000 eller ärende i Ritz"},
    )
