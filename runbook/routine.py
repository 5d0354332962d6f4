"""The routine in force, read through one door.

Today the routine is one version, written as data in ``scenarios.py``. Everything that shows
or prints the routine as a whole (the emergency pack, the copy kept on a device) reads it
through ``in_force()``, and the caller script through ``caller_script()``, so that when the
routine becomes versioned data kept in the app only these functions change.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Routine:
    """One version of the routine: its scenarios (section 3) and the triage questions."""

    version: str
    scenarios: tuple[scenarios.Scenario, ...]
    triage_questions: tuple[tuple[str, str], ...]
    # (question name, scenario key): the first question answered "Nej" names the scenario.
    triage_rules: tuple[tuple[str, str], ...] = ()


def in_force():
    """The version of the routine that new incidents start under now."""
    return Routine(
        version=scenarios.ROUTINE_VERSION,
        scenarios=tuple(scenarios.SCENARIOS.values()),
        triage_questions=tuple(scenarios.Triage.QUESTIONS),
        triage_rules=tuple(scenarios.Triage.RULES),
    )


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
