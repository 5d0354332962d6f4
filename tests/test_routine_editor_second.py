"""A second routine needs no code and no file: Verksamhetsansvarig adds "Driftstörningsrutin
Journalia" on the pages, Verksamhetsspecialist fills in its scenario, steps, caller script,
triage guide, its notice rules (an e-mail when it is reported, a driftinfo request when it is
escalated) and the words they send there, Verksamhetsansvarig publishes it with a reason, and an
incident of it runs reported → escalated → acknowledged → resolved → closed, its notices
arriving at the stub receivers, while Sesam LMN's routine is untouched."""

import pytest
from django.test import Client
from django.urls import reverse

from incidents import services as incident_services
from incidents.models import Task
from notifications import services as notification_services
from notifications.models import StubMessage
from notify_helpers import point_at_stubs
from routines import loader
from routines.models import RoutineVersion
from tests.test_routine_pages import form_of

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Journalia går inte att nå"


def logged_in(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


@pytest.fixture
def stubs(settings, live_server, monkeypatch):
    point_at_stubs(settings, live_server.url)
    monkeypatch.setattr(notification_services, "enqueue", lambda ids: None)  # delivered by sweep() here
    return live_server.url


def test_a_second_routine_made_on_the_pages_runs_an_incident_end_to_end(stubs, make_user, ks, va, vs):
    chief, specialist = logged_in(make_user, "verksamhetsansvarig"), logged_in(make_user, "verksamhetsspecialist")

    # Ny rutin, by Verksamhetsansvarig.
    response = chief.post(
        reverse("routines:new_routine"),
        {"key": "journalia", "name": "Driftstörningsrutin Journalia", "system": "Journalia"},
    )
    assert response.status_code == 302
    draft = RoutineVersion.objects.get(routine__key="journalia")
    draft_url = reverse("routines:draft", args=[draft.pk])

    # The scenario and its first step, by Verksamhetsspecialist.
    add_url = reverse("routines:new_scenario", args=[draft.pk])
    fields = form_of(specialist.get(draft_url), add_url)
    response = specialist.post(
        add_url,
        {
            **fields,
            "title": TITLE,
            "key": "journalia_unreachable",
            "routine_text": "Journalia kan inte nås av någon användare.",
            "role": "verksamhetsspecialist",
            "instruction": "Rapportera omgående till SA.",
        },
    )
    assert response.status_code == 302
    url = reverse("routines:scenario", args=[draft.pk, "journalia_unreachable"])

    # It uses escalation; its first step is done by escalating; two more steps and a script.
    fields = form_of(specialist.get(url), url)
    fields.update(
        {
            "transitions": ["escalate"],
            "steg-0-done_by": "escalate",
            "steg-0-within": "5",
            "during": "Journalia har en driftstörning.\nVi återkommer när den är över.",
            "nytt-role": "kundservice",
            "nytt-instruction": "Informera förskrivare som ringer.",
            "nytt-ongoing": "on",
        }
    )
    assert specialist.post(url, {**fields, "do": "add"}).status_code == 302
    fields = form_of(specialist.get(url), url)
    fields.update(
        {
            "nytt-role": "verksamhetsspecialist",
            "nytt-instruction": "För in det som antecknats på papper.",
            "nytt-due_on": "resolved",
        }
    )
    assert specialist.post(url, {**fields, "do": "add"}).status_code == 302

    # The triage guide: one question, whose "Nej" proposes the scenario.
    triage_url = reverse("routines:triage", args=[draft.pk])
    fields = form_of(specialist.get(triage_url), triage_url)
    fields["ny-fraga-text"] = "Kan förskrivarna nå Journalia?"
    assert specialist.post(triage_url, {**fields, "do": "q-add"}).status_code == 302
    fields = form_of(specialist.get(triage_url), triage_url)
    fields.update(
        {
            "nytt-forslag-question": "kan_forskrivarna_na_journalia",
            "nytt-forslag-answer": "nej",
            "nytt-forslag-scenario": "journalia_unreachable",
        }
    )
    assert specialist.post(triage_url, {**fields, "do": "p-add"}).status_code == 302

    # Its own clock: ten minutes for SA to acknowledge.
    fields = form_of(specialist.get(draft_url), draft_url)
    assert specialist.post(draft_url, {**fields, "ack_timeout": "10"}).status_code == 302

    # The words its notices send, on the notices page: the e-mail's frame, the e-mail that
    # it is reported and the driftinfo request (a rule needs its words before it is added).
    notices_url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(specialist.get(notices_url), notices_url + "?texter")
    assert fields["system"] == "Journalia" and fields["reference"] == "HJM-JOURNALIA"
    fields.update(
        {
            "email-greeting": "Hej {recipient},",
            "email-greeting_without_name": "Hej,",
            "email-facts": "Störning i {system} sedan {began}.",
            "email-signature": "Hälsningar\nHjälpmedel, rutinen för Journalia",
            "c-email-new_incident-subject": "Störning i {system}: {scenario}",
            "c-email-new_incident-body": "Kundservice har anmält en störning i {system} ({reference}).",
            "c-driftinfo-publish-subject": "Driftinfo om {system} ({reference})",
            "c-driftinfo-publish-body": "{system} går inte att nå sedan {began}. {prognosis}.",
        }
    )
    assert specialist.post(notices_url, fields).status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document["messages"]["email"]["signature"] == (
        "Hälsningar\nHjälpmedel, rutinen för Journalia"
    )

    # Its rules, added one at a time: who is told when it is reported, and driftinfo asked
    # for when it is escalated.
    for rule in (
        {
            "ny-regel-event": "reported",
            "ny-regel-sends": "email:new_incident",
            "ny-regel-recipients": ["verksamhetsansvarig", "verksamhetsspecialist"],
            "ny-regel-when": "Störning i Journalia anmäld",
            "ny-regel-why": "Störningar i Journalia meddelas verksamheten.",
        },
        {
            "ny-regel-event": "escalate",
            "ny-regel-sends": "driftinfo:publish",
            "ny-regel-unless_out": "on",
            "ny-regel-when": "Eskalerad till SA",
            "ny-regel-why": "IT ombeds lägga ut driftinfo om Journalia.",
        },
    ):
        fields = form_of(specialist.get(notices_url), notices_url)
        fields = {k: v for k, v in fields.items() if not k.startswith("ny-regel-")}
        rule["ny-regel-scenarios"] = ["journalia_unreachable"]
        assert specialist.post(notices_url, {**fields, **rule, "do": "add"}).status_code == 302
    notices = RoutineVersion.objects.get(pk=draft.pk).document["notices"]
    assert [(n["key"], n["event_kind"], n["match"]) for n in notices] == [
        ("reported_email_new_incident", "reported", {}),
        ("escalate_driftinfo_publish", "transition", {"name": "escalate"}),
    ]

    page = specialist.get(draft_url).content.decode()
    for line in (
        f"Nytt scenario ”{TITLE}”",
        "Triage: fråga ”Kan förskrivarna nå Journalia?” tillagd",
        f"Triage: svaret nej på ”Kan förskrivarna nå Journalia?” föreslår ”{TITLE}”",
        "Tid att kvittera eskaleringen: ingen → 10 min",
        "Ny meddelanderegel: Störning i Journalia anmäld, E-post",
        "Ny meddelanderegel: Eskalerad till SA, Driftinfo (regionala IT-funktionen)",
    ):
        assert line in page, line

    # Published by Verksamhetsansvarig, with a reason.
    publish_url = reverse("routines:publish", args=[draft.pk])
    fields = form_of(chief.get(publish_url), publish_url)
    response = chief.post(publish_url, {**fields, "reason": "Journalia får en egen rutin"})
    assert response.status_code == 302
    version = loader.in_force("journalia")
    assert version.number == 1 and version.routine_name == "Driftstörningsrutin Journalia"
    assert version.messages is not None
    assert version.proposal({"kan_forskrivarna_na_journalia": False}) == "journalia_unreachable"
    assert loader.in_force().routine_key == "sesam-lmn" and loader.in_force().number == 1

    # An incident of it, end to end.
    va.email, vs.email = "va@example.org", "vs@example.org"
    va.save()
    vs.save()
    incident = incident_services.open_incident(
        ks, routine="journalia", scenario="journalia_unreachable", summary="Journalia svarar inte"
    )
    assert incident.scenario_def.title == TITLE
    assert sorted(incident.tasks.values_list("role", flat=True)) == ["kundservice", "verksamhetsspecialist"]
    assert list(incident.scenario_def.caller_script) == [
        "Journalia har en driftstörning.",
        "Vi återkommer när den är över.",
    ]
    sa = make_user("systemansvarig")
    incident_services.escalate(vs, incident.pk)
    incident.refresh_from_db()
    assert incident.tasks.get(step_key="steg_1").done_at is not None  # escalating did it
    incident_services.acknowledge(sa, incident.pk)
    incident_services.resolve(sa, incident.pk)
    paper = incident.tasks.get(step_key="steg_3")
    assert paper.role == "verksamhetsspecialist"
    incident_services.complete_task(vs, paper.pk, incident.pk)
    incident_services.close(va, incident.pk, review="Journalia var nere en stund.")
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert not Task.objects.filter(incident=incident, done_at__isnull=True).exists()
    states = [e.data.get("to") for e in incident.events.filter(kind="transition").order_by("at", "id")]
    assert states == ["escalated", "acknowledged", "resolved", "closed"]

    # Its notices, as they arrived at the stub receivers: the e-mail to both at the report,
    # the driftinfo request at the escalation, in its own words.
    for _sweep in range(3):  # one message per recipient at a time, in the order decided
        notification_services.sweep()
    sent = sorted((n.rule, n.recipient, n.status) for n in incident.notifications.all())
    assert [(rule, status) for rule, _r, status in sent] == [
        ("escalate_driftinfo_publish", "sent"),
        ("reported_email_new_incident", "sent"),
        ("reported_email_new_incident", "sent"),
    ]
    mails = StubMessage.objects.filter(channel="email")
    assert sorted(m.payload["recipient"] for m in mails) == ["va@example.org", "vs@example.org"]
    mail = mails.first().payload
    assert mail["subject"] == f"Störning i Journalia: {TITLE}"
    assert f"Kundservice har anmält en störning i Journalia (HJM-JOURNALIA-{incident.pk})." in mail["body"]
    assert mail["body"].endswith("Hälsningar\nHjälpmedel, rutinen för Journalia")
    driftinfo = StubMessage.objects.get(channel="driftinfo").payload
    assert f"Driftinfo om Journalia (HJM-JOURNALIA-{incident.pk})" in str(driftinfo)
    assert not StubMessage.objects.exclude(channel__in=("email", "driftinfo")).exists()
