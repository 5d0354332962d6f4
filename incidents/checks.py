"""System checks of the incidents app (``check --deploy``)."""

from django.core.checks import Error, Warning, register
from django.db import DatabaseError

# Its own tag: the stack's start-up runs the security checks (`--tag security`), and a new
# installation has no contacts until someone adds them in the admin.
CONTACTS = "contacts"


@register(CONTACTS, deploy=True)
def escalation_contacts_exist(app_configs=None, **kwargs):
    """The routine escalates to SA and falls back to SA's enhetschef: both must be reachable."""
    from .models import Contact

    try:
        kinds = set(Contact.objects.filter(active=True).values_list("kind", flat=True))
    except DatabaseError as exc:
        return [
            Warning(
                f"Could not read the contacts ({exc.__class__.__name__}); run the check again after `migrate`.",
                id="runbook.W012",
            )
        ]
    missing = [
        str(label)
        for kind, label in (
            (Contact.Kind.SYSTEMANSVARIG, "Systemansvarig (SA)"),
            (Contact.Kind.SA_MANAGER, "Enhetschef för SA"),
        )
        if kind not in kinds
    ]
    if missing:
        return [
            Error(
                f"No active contact for: {', '.join(missing)}. Escalation and SA's fallback would "
                "have nobody to call or e-mail.",
                hint="Add them in the admin under Kontakter (with phone and e-mail).",
                id="runbook.E012",
            )
        ]
    return []
