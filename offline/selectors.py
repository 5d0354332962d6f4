"""What the device keeps: the routine in force, its caller scripts, the triage guide, contacts."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from incidents import selectors as incident_selectors
from runbook import scenarios
from runbook.scenarios import Role


@dataclass(frozen=True)
class RoleSteps:
    role: str
    label: str
    steps: tuple


def device_pack():
    """The routine pack as the pages kept on the device show it, read now."""
    return {
        "routine_version": scenarios.ROUTINE_VERSION,
        "scenarios": [
            {
                "scenario": scenario,
                "by_role": [
                    RoleSteps(role, Role.label(role), tuple(s for s in scenario.steps if s.role == role))
                    for role in Role.ALL
                    if any(s.role == role for s in scenario.steps)
                ],
            }
            for scenario in scenarios.SCENARIOS.values()
        ],
        "triage_questions": [label for _name, label in scenarios.Triage.QUESTIONS],
        # Read as "Nej" to the question -> this scenario, in the order the guide asks.
        "triage_rules": [
            (dict(scenarios.Triage.QUESTIONS)[name], scenarios.SCENARIOS[key].title)
            for name, key in scenarios.Triage.RULES
        ],
        "contacts": incident_selectors.contacts_for_page(),
        "driftinfo_url": settings.DRIFTINFO_PUBLIC_URL,
        "servicedesk_phone": settings.SERVICEDESK_PHONE,
        "made_at": timezone.now(),
    }
