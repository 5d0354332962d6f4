"""A second routine needs no code and no file: Verksamhetsansvarig adds "Driftstörningsrutin
Journalia" on the pages, Verksamhetsspecialist fills in its scenario, steps, caller script,
triage guide and the words of its e-mails there, Verksamhetsansvarig publishes it with a reason, and an incident of it runs
reported → escalated → acknowledged → resolved → closed, while Sesam LMN's routine is untouched."""

import pytest
from django.test import Client
from django.urls import reverse

from incidents import services as incident_services
from incidents.models import Task
from routines import loader
from routines.models import RoutineVersion
from tests.test_routine_pages import form_of

pytestmark = pytest.mark.django_db

TITLE = "Journalia går inte att nå"


def logged_in(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_a_second_routine_made_on_the_pages_runs_an_incident_end_to_end(make_user, ks, va, vs):
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

    # The words its e-mails carry, on the notices page (which keeps the rules' texts; the
    # routine has no notice rule yet, and the page adds none).
    notices_url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(specialist.get(notices_url), notices_url + "?texter")
    assert fields["system"] == "Journalia" and fields["reference"] == "HJM-JOURNALIA"
    fields.update(
        {
            "email-greeting": "Hej {recipient},",
            "email-greeting_without_name": "Hej,",
            "email-facts": "Störning i {system} sedan {began}.",
            "email-ack": "Kvittera i appen: {incident_url}",
            "email-signature": "Hälsningar\nHjälpmedel, rutinen för Journalia",
        }
    )
    assert specialist.post(notices_url, fields).status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document["messages"]["email"]["signature"] == (
        "Hälsningar\nHjälpmedel, rutinen för Journalia"
    )

    page = specialist.get(draft_url).content.decode()
    for line in (
        f"Nytt scenario ”{TITLE}”",
        "Triage: fråga ”Kan förskrivarna nå Journalia?” tillagd",
        f"Triage: svaret nej på ”Kan förskrivarna nå Journalia?” föreslår ”{TITLE}”",
        "Tid att kvittera eskaleringen: ingen → 10 min",
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
