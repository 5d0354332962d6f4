"""A second routine needs no code: "Driftstörningsrutin Journalia", for a made-up system, is
read in from a file (tests/routines/journalia-v1.yaml) by Verksamhetsansvarig, published, and an
incident of it runs end to end (reported, escalated, acknowledged, resolved, closed) with its
own steps, its own durations and its own notices arriving at the stub receivers, while the
Sesam LMN routine goes on as before."""

from datetime import time
from pathlib import Path

import pytest

from incidents import services
from incidents.models import DutyHours, Task, Timer
from notifications import services as notification_services
from notifications.models import StubMessage
from notify_helpers import point_at_stubs
from routines import loader, portable
from routines import services as routine_services
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db(transaction=True)

JOURNALIA = Path(__file__).resolve().parent / "routines" / "journalia-v1.yaml"


@pytest.fixture
def stubs(settings, live_server, monkeypatch):
    point_at_stubs(settings, live_server.url)
    monkeypatch.setattr(notification_services, "enqueue", lambda ids: None)  # delivered by sweep() here
    return live_server.url


@pytest.fixture
def journalia(va):
    draft = portable.import_file(va, JOURNALIA.read_text(encoding="utf-8"))
    return routine_services.publish(va, draft.pk, "Journalia får en egen rutin", revision=draft.revision)


def mails():
    return [(m.payload.get("subject", ""), m.payload) for m in StubMessage.objects.filter(channel="email")]


def test_a_second_routine_read_from_a_file_runs_an_incident_end_to_end(stubs, journalia, ks, vs, make_user, va):
    sa = make_user("systemansvarig")
    sa.email = "sa@example.org"
    sa.save()
    va.email, vs.email = "va@example.org", "vs@example.org"
    va.save()
    vs.save()
    for weekday in range(7):  # SA is on duty: the escalation waits for the acknowledgement
        DutyHours.objects.create(weekday=weekday, start=time(0, 0), end=time(23, 59))
    version = loader.in_force("journalia")
    assert version.routine_name == "Driftstörningsrutin Journalia" and version.number == 1
    assert loader.in_force().routine_key == "sesam-lmn"  # the app's own routine is untouched

    incident = services.open_incident(
        ks, routine="journalia", scenario="journalia_unreachable", summary="Journalia svarar inte"
    )
    assert incident.pinned_version_id == journalia.pk
    assert incident.scenario_def.title == "Journalia går inte att nå"
    assert sorted(t.step_key for t in incident.tasks.all()) == ["inform_callers", "report_to_sa"]
    # No reserve routine in this scenario: no such clock.
    assert not Timer.objects.filter(incident=incident, kind=Timer.Kind.RESERVE_ROUTINE).exists()

    services.escalate(vs, incident.pk)
    ack = Timer.objects.get(incident=incident, kind=Timer.Kind.ACK_TIMEOUT)
    escalated_at = incident.events.get(kind="transition", data__name="escalate").at
    assert round((ack.due_at - escalated_at).total_seconds()) == 600  # this routine's 10 minutes, not 15
    services.acknowledge(sa, incident.pk)
    services.resolve(sa, incident.pk)
    incident.refresh_from_db()
    task = incident.tasks.get(step_key="enter_paper_notes")
    assert task.role == "verksamhetsspecialist"
    services.complete_task(vs, task.pk, incident.pk)
    services.close(va, incident.pk, review="Journalia var nere en kvart.")
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert not Task.objects.filter(incident=incident, done_at__isnull=True).exists()

    for _sweep in range(3):  # one message per recipient at a time, in the order decided
        notification_services.sweep()
    sent = {(n.rule, n.recipient, n.status) for n in incident.notifications.all()}
    assert {rule for rule, _r, _s in sent} == {"journalia_reported", "journalia_escalate_sa", "journalia_resolved"}
    assert all(status == "sent" for _rule, _r, status in sent), sent
    arrived = StubMessage.objects.filter(channel="email")
    texts = " ".join(f"{m.payload}" for m in arrived)
    assert "Journalia" in texts and "Sesam" not in texts
    assert f"HJM-JOURNALIA-{incident.pk}" in texts
    # Its own words, from its file (messages), as they arrived at the stub.
    by_subject = {payload["subject"]: payload["body"] for _subject, payload in mails()}
    escalation_mail = by_subject[f"Journalia går inte att nå (HJM-JOURNALIA-{incident.pk})"]
    assert escalation_mail.startswith("Hej")
    assert (
        "Hjälpmedel anmäler att Journalia inte går att nå för någon användare. Anteckningar görs på papper "
        "tills vidare. Kvittera att du tagit emot anmälan och ange prognos." in escalation_mail
    )
    assert "Kvittera att du tagit emot anmälan (länken gäller en gång, bara för dig):" in escalation_mail
    assert escalation_mail.endswith("Hjälpmedel Region Skåne – Driftstörningsrutin Journalia")
    reported_mail = by_subject["Störning i Journalia: Journalia går inte att nå"]
    assert "Påverkan: Journalia går inte att nå för någon användare: journalanteckningar görs på papper." in (
        reported_mail
    )
    resolved_mail = by_subject[f"Journalia fungerar igen (HJM-JOURNALIA-{incident.pk})"]
    assert "Journalia fungerar igen. Det som dokumenterats på papper förs in i Journalia." in resolved_mail
    escalation = incident.notifications.get(rule="journalia_escalate_sa")
    assert escalation.recipient == "sa@example.org" and "/kvittera/" in escalation.body
    assert not StubMessage.objects.exclude(channel="email").exists()  # this routine has no other notices


def test_a_scenario_without_escalation_in_its_data_cannot_be_escalated(journalia, ks, vs):
    incident = services.open_incident(ks, routine="journalia", scenario="journalia_slow", summary="Långsamt")
    with pytest.raises(ActionRefused):
        services.escalate(vs, incident.pk)
    with pytest.raises(ActionRefused):
        services.open_incident(ks, routine="journalia", scenario="sesam_unreachable", summary="Fel rutin")
    with pytest.raises(ActionRefused):
        services.open_incident(ks, routine="finns-inte", scenario="journalia_slow", summary="Ingen rutin")


def test_a_second_routines_report_and_drill_scorecard_name_its_own_system(journalia, ks, va, client):
    from incidents import drills

    incident = services.open_incident(
        ks, routine="journalia", scenario="journalia_unreachable", summary="Journalia svarar inte"
    )
    drill = drills.start_drill(va, routine="journalia", scenario="journalia_unreachable", participants=[ks.pk])
    client.force_login(va)
    report = client.get(f"/storning/{incident.pk}/rapport/").content.decode()
    assert "Rapport enligt rutin för driftstörning i Journalia" in report
    card = client.get(f"/ovningar/{drill.pk}/resultat/").content.decode()
    assert "Resultat av övning enligt rutin för driftstörning i Journalia" in card
