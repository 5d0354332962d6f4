"""Who may do what (DESIGN section 3). Checked on the server by every service.

The defaults are group permissions created by a migration and editable in the admin; this
module only says which permission each action needs.
"""

import hashlib

from runbook.auth import load_access
from runbook.roles import has, user_roles  # noqa: F401 - asked here by incidents' callers

from .models import Drill, State

# transition name -> the permission it needs
TRANSITION_PERMISSIONS = {
    "escalate": "escalate_incident",
    "acknowledge": "acknowledge_incident",
    "await_it": "await_it_incident",
    "activate_reserve_routine": "activate_reserve_routine",
    "resolve": "resolve_incident",
    "close": "close_incident",
    "cancel": "cancel_incident",
}

# The order in which buttons are offered on the incident page.
TRANSITION_ORDER = (
    "escalate",
    "acknowledge",
    "await_it",
    "activate_reserve_routine",
    "resolve",
    "close",
    "cancel",
)

# The default group permissions are installed by migration 0002 (DESIGN section 3).


def may_fire(user, incident, name):
    """May this person fire this transition on this incident (permission only, not state)?"""
    if name == "cancel" and not has(user, "cancel_incident"):
        return (
            has(user, "cancel_own_report") and incident.reported_by_id == user.pk and incident.state == State.REPORTED
        )
    return has(user, TRANSITION_PERMISSIONS[name])


def may_complete_task(user, task):
    return has(user, "complete_any_task") or task.role in user_roles(user)


def viewer_variant(user, incident):
    """What tells apart people who see an incident's page differently: their roles and
    permissions, whether they reported it (they may cancel their own report), and on a drill
    whether they lead it (only the leader sees the inject panel) and whether they take part
    (the participants are offered its scorecard)."""
    load_access(user)
    perms = "*" if user.is_superuser else ",".join(sorted(user.get_all_permissions()))
    leads = incident.is_drill and Drill.objects.filter(pk=incident.pk, leader_id=user.pk).exists()
    takes_part = (
        incident.is_drill and Drill.participants.through.objects.filter(drill_id=incident.pk, user_id=user.pk).exists()
    )
    key = f"{','.join(sorted(user_roles(user)))}|{perms}|{incident.reported_by_id == user.pk}|{leads}|{takes_part}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
