"""Role checks every layer asks: which routine roles a person holds, and whether they hold a
permission of the routine (the incident permissions, DESIGN section 3)."""

from runbook.auth import load_access
from runbook.scenarios import Role

# The app whose model permissions are the routine's (``incidents.escalate_incident``, ...).
APP = "incidents"


def has(user, codename, *, app=APP):
    """Does the person hold this permission of the routine (``app``: the model's app)?"""
    return user.is_authenticated and user.is_active and user.has_perm(f"{app}.{codename}")


def user_roles(user):
    """The routine roles a person holds (their groups among the five)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    load_access(user)
    return user._group_names & set(Role.ALL)
