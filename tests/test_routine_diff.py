"""The difference between two versions of a routine, in words: one line per change, read from
two documents and nothing else."""

import copy
import json
from pathlib import Path

import pytest
from django.utils import translation

from routines import diff

V1 = json.loads((Path(__file__).resolve().parent.parent / "routines/migrations/version_1.json").read_text())


@pytest.fixture(autouse=True)
def swedish():
    with translation.override("sv"):
        yield


def scenario(document, key):
    return next(s for s in document["scenarios"] if s["key"] == key)


def edited(change):
    document = copy.deepcopy(V1)
    change(document)
    return document


def test_the_same_document_has_no_changes():
    assert diff.changes(V1, copy.deepcopy(V1)) == []


def test_a_time_limit_changed_names_the_step_and_the_scenario():
    def longer(d):
        scenario(d, "sesam_unreachable")["steps"][0]["within"] = 600

    assert diff.changes(V1, edited(longer)) == [
        "Steg 1 i Sesam LMN-server oåtkomlig för samtliga användare: tidsgräns 5 min → 10 min"
    ]


def test_the_routine_durations_in_hours_and_minutes():
    def shorter(d):
        d["durations"] = {"reserve_routine_after": 3 * 3600, "ack_timeout": 1800}

    assert diff.changes(V1, edited(shorter)) == [
        "Reservrutin utan prognos efter: 4 tim → 3 tim",
        "Tid att kvittera eskaleringen: 15 min → 30 min",
    ]


def test_a_new_step_a_removed_step_and_a_changed_text():
    def rewrite(d):
        steps = scenario(d, "full_it_outage")["steps"]
        steps[0]["instruction"] = "Avvakta IT."
        steps[0]["role"] = "verksamhetsansvarig"
        del steps[1]
        steps.append(dict(steps[0], key="call_vendor", instruction="Ring leverantören.", done_by=None))

    lines = diff.changes(V1, edited(rewrite))
    title = "Fullskaligt IT-haveri i Region Skåne"
    assert lines[0].startswith(f"Steg 1 i {title}: text ändrad: ”Hjälpmedel avvaktar instruktioner")
    assert lines[0].endswith("→ ”Avvakta IT.”")
    assert lines[1] == f"Steg 1 i {title}: roll Verksamhetsspecialist → Verksamhetsansvarig"
    assert lines[2] == f"Nytt steg 2 i {title}: Verksamhetsansvarig, ”Ring leverantören.”"
    assert lines[3].startswith(f"Steg borttaget i {title} (var steg 2): ”För in de instruktioner")
    assert len(lines) == 4


def test_a_moved_step_is_said_to_be_moved_not_removed_and_added():
    def move(d):
        steps = scenario(d, "sesam_unreachable")["steps"]
        steps[0], steps[1] = steps[1], steps[0]

    assert diff.changes(V1, edited(move)) == [
        "Stegen i Sesam LMN-server oåtkomlig för samtliga användare har ny ordning"
    ]


def test_caller_script_lines_and_notices():
    def rewrite(d):
        scenario(d, "telephony_fault")["caller_script"]["restored"] = ["Telefonerna fungerar igen."]
        notice = next(n for n in d["notices"] if n["key"] == "reported_alert_roles")
        notice["recipients"] = ["verksamhetsansvarig"]
        notice["why"] = "Internt larm."

    lines = diff.changes(V1, edited(rewrite))
    assert (
        "Ny replik i Störningar i telefonin (repliker när driften är återställd): ”Telefonerna fungerar igen.”" in lines
    )
    assert any(line.startswith("Replik borttagen i ") for line in lines)
    assert (
        "Meddelanderegel Störning anmäld, E-post: mottagare Verksamhetsspecialist, Verksamhetsansvarig → "
        "Verksamhetsansvarig" in lines
    )
    assert any(line.startswith("Meddelanderegel Störning anmäld, E-post: varför ändrad:") for line in lines)


def test_in_english_the_lines_are_english():
    def longer(d):
        scenario(d, "sesam_unreachable")["steps"][0]["within"] = 600

    with translation.override("en"):
        assert diff.changes(V1, edited(longer)) == [
            "Step 1 in Sesam LMN server unreachable for all users: time limit 5 min → 10 min"
        ]
