"""How the routine is told: the caller script of a scenario and when a step is due, in words.

The routine itself is versioned data (``routines``): ``routines.loader.in_force()`` is the
version new incidents start under, ``version_for(incident)`` the one an incident runs under.
"""

from django.utils.translation import gettext_lazy as _

from . import scenarios

# When a step becomes due, in words, for the printed routine.
DUE_ON_WORDS = {
    scenarios.ON_REPORT: _("När störningen anmäls"),
    scenarios.ON_ESCALATED: _("När störningen eskalerats till SA"),
    scenarios.ON_ACKNOWLEDGED: _("När SA har kvitterat"),
    scenarios.ON_AWAITING_IT: _("När Hjälpmedel avvaktar IT"),
    scenarios.ON_RESERVE_ROUTINE: _("När reservrutinen aktiveras"),
    scenarios.ON_RESOLVED: _("När driften är återställd"),
    scenarios.ON_SA_FALLBACK: _("Om SA inte är i tjänst eller inte kvitterar i tid"),
    scenarios.ON_PROGNOSIS_PASSED: _("När prognosen har passerat"),
}


# The phases of an incident that a scenario's caller script has lines for.
DISRUPTION, RESERVE, RESTORED = "disruption", "reserve", "restored"


def caller_script(scenario, phase=DISRUPTION):
    """What Kundservice says to prescribers who call in ``phase``: the lines the incident
    page shows and the emergency pack prints; empty when the scenario has none for it."""
    lines = {
        DISRUPTION: scenario.caller_script,
        RESERVE: scenario.caller_script_reserve,
        RESTORED: scenario.caller_script_restored,
    }[phase]
    return tuple(lines)


def due_words(step):
    return DUE_ON_WORDS.get(step.due_on, step.due_on)
