"""Reclassification sends what the new scenario prescribes, for every pair of scenarios."""

import itertools

import pytest

from incidents import services

# Version 1's words for callers on the phone queue (routines/migrations/version_1_messages.json).
LAVIN_TEXT = {
    "kundservice_link_loss": "Du har kommit till Kundservice Hjälpmedel. Just nu har vi en lokal störning och når "
    "inte Sesam LMN. Vi arbetar via tjänstemobiler och kan svara långsammare än vanligt. Mer information finns på "
    "regionala driftinfo.",
    "telephony_fault": "Du har kommit till Kundservice Hjälpmedel. Vi har just nu störningar i telefonin och du kan "
    "behöva vänta längre än vanligt. Mer information finns på regionala driftinfo.",
}

pytestmark = pytest.mark.django_db

SCENARIOS = ("full_it_outage", "sesam_unreachable", "kundservice_link_loss", "telephony_fault")
# The scenarios whose routine puts the lavinmeddelande on and asks IT for driftinfo.
LAVIN = {"kundservice_link_loss", "telephony_fault"}


def _actions(incident, channel):
    return list(incident.notifications.filter(channel=channel).order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize("old,new", list(itertools.permutations(SCENARIOS, 2)))
def test_reclassifying_sends_what_the_new_scenario_prescribes(old, new, open_incident, vs):
    incident = open_incident(old)
    services.reclassify(vs, incident.pk, new)

    lavin = _actions(incident, "telephony")
    driftinfo = _actions(incident, "driftinfo")
    if new in LAVIN:
        # On, with the new scenario's words for callers.
        assert lavin[-1] == "on"
        last = incident.notifications.filter(channel="telephony").latest("id")
        assert last.payload["text"] == LAVIN_TEXT[new]
        assert driftinfo.count("publish") == 1
    elif old in LAVIN:
        assert lavin == ["on", "off"]  # what no longer applies is taken off
        # The disruption goes on: driftinfo is told what it now is, not that it ended.
        assert driftinfo == ["publish", "update"]
    else:
        assert lavin == [] and driftinfo == []

    services.resolve(vs, incident.pk)
    lavin = _actions(incident, "telephony")
    driftinfo = _actions(incident, "driftinfo")
    # Never published twice; each reference taken back once, and last.
    assert driftinfo.count("publish") <= 1
    if lavin:
        assert lavin[-1] == "off" and lavin.count("off") == 1
    if driftinfo:
        assert driftinfo[-1] == "end" and driftinfo.count("end") == 1


def test_escalating_after_a_reclassification_does_not_ask_for_driftinfo_twice(open_incident, vs):
    incident = open_incident("kundservice_link_loss")
    services.reclassify(vs, incident.pk, "sesam_unreachable")
    services.escalate(vs, incident.pk)
    assert _actions(incident, "driftinfo") == ["publish", "update"]
    assert _actions(incident, "telephony") == ["on", "off"]
