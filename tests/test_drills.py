"""Övningar: a drill runs through the same machine as a real incident, with its clocks
sped up, led by Verksamhetsansvarig or -specialist, and can be broken off with a reason."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from incidents import drills, services
from incidents.models import Drill, Incident, State, Timer
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db


def test_a_drill_runs_its_clocks_faster_and_its_tasks_sooner(va, ks, sa):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, sa.pk], time_scale=30)
    real = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")

    assert drill.is_drill and not real.is_drill
    reserve = Timer.objects.get(incident=drill, kind=Timer.Kind.RESERVE_ROUTINE)
    real_reserve = Timer.objects.get(incident=real, kind=Timer.Kind.RESERVE_ROUTINE)
    # The 4 hours in 8 minutes; the real incident keeps its 4 hours.
    assert reserve.due_at - drill.began_at == timedelta(minutes=8)
    assert real_reserve.due_at - real.began_at == timedelta(hours=4)
    task = drill.tasks.exclude(due_at=None).first()
    real_task = real.tasks.get(step_key=task.step_key)
    assert (task.due_at - task.created_at) * 30 == real_task.due_at - real_task.created_at

    d = Drill.objects.get(incident=drill)
    assert d.leader == va and set(d.participants.all()) == {ks, sa}
    assert drill.events.first().message.startswith("Övning startad")


def test_only_the_business_side_starts_a_drill_and_bad_input_changes_nothing(va, vs, ks, sa):
    drills.start_drill(vs, scenario="telephony_fault", participants=[ks.pk])
    before = Incident.objects.count()
    refusals = [
        (ks, {"scenario": "sesam_unreachable", "participants": [ks.pk]}),
        (sa, {"scenario": "sesam_unreachable", "participants": [ks.pk]}),
        (va, {"scenario": "no_such_scenario", "participants": [ks.pk]}),
        (va, {"scenario": "sesam_unreachable", "participants": []}),
        (va, {"scenario": "sesam_unreachable", "participants": [987654]}),
        (va, {"scenario": "sesam_unreachable", "participants": ["x"]}),
        (va, {"scenario": "sesam_unreachable", "participants": [ks.pk], "time_scale": 0}),
        (va, {"scenario": "sesam_unreachable", "participants": [ks.pk], "time_scale": 121}),
        (va, {"scenario": "sesam_unreachable", "participants": [ks.pk], "time_scale": "fort"}),
        (va, {"scenario": "sesam_unreachable", "participants": [ks.pk], "routine": "nope"}),
    ]
    for user, kwargs in refusals:
        with pytest.raises(ActionRefused):
            drills.start_drill(user, **kwargs)
    assert Incident.objects.count() == before


def test_breaking_off_ends_the_drill_with_its_reason_and_stops_its_clocks(va, ks, sa):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    services.escalate(va, drill.pk)
    services.acknowledge(sa, drill.pk)
    with pytest.raises(ActionRefused):
        drills.break_off(ks, drill.pk, "Slut")
    with pytest.raises(ActionRefused):
        drills.break_off(va, drill.pk, "   ")

    drills.break_off(va, drill.pk, "Verklig störning pågår")

    drill.refresh_from_db()
    assert drill.state == State.CANCELLED and drill.ended_at is not None
    d = Drill.objects.get(incident=drill)
    assert d.broken_off_reason == "Verklig störning pågår" and d.broken_off_by == va
    assert not Timer.objects.pending().filter(incident=drill).exists()
    assert drill.events.filter(note="Verklig störning pågår").exists()
    with pytest.raises(ActionRefused):
        drills.break_off(va, drill.pk, "igen")


def test_a_real_incident_cannot_be_broken_off_nor_sped_up(va, ks):
    real = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    with pytest.raises(ActionRefused):
        drills.break_off(va, real.pk, "Fel")
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=real.pk).update(time_scale=30)


def test_a_drill_is_broken_off_not_cancelled_and_the_page_offers_only_that(va, ks, client):
    from incidents import offers

    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    assert "cancel" not in offers.available_transitions(va, drill)
    with pytest.raises(ActionRefused, match="Avbryt övningen"):
        services.fire(va, drill.pk, "cancel", reason="Fel")
    drill.refresh_from_db()
    assert drill.state == State.REPORTED

    client.force_login(va)
    page = client.get(f"/storning/{drill.pk}/").content.decode()
    assert "Avbryt övningen" in page and ">Makulera<" not in page


def test_kundservice_is_told_not_to_read_a_drills_caller_script_to_real_callers(va, ks, client):
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    real = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    client.force_login(ks)
    warning = "säg inte detta till förskrivare som ringer på riktigt"
    assert warning in client.get(f"/storning/{drill.pk}/").content.decode()
    assert warning not in client.get(f"/storning/{real.pk}/").content.decode()
