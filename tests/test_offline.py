"""Offline on a phone or laptop: the installable app, the pages kept on the device, and what
was reported on the device while the network was down, received once, with the device's time."""

import json
import threading
import uuid
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from django.urls import reverse

from incidents.models import Contact, Incident, TimelineEvent
from offline.models import OfflineSubmission
from runbook import scenarios

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The server's clock in these tests: a Thursday morning, 08:40 in Stockholm.
SERVER_NOW = datetime(2026, 12, 3, 8, 40, tzinfo=STOCKHOLM)
MADE_ON_DEVICE = datetime(2026, 12, 3, 8, 2, tzinfo=STOCKHOLM)
REPORT_FIELDS = {
    "kundservice_reaches_sesam": "no",
    "prescribers_reach_sesam": "no",
    "rest_of_it_up": "yes",
    "phones_work": "yes",
    "scenario": "sesam_unreachable",
    "summary": "Sesam LMN svarar inte, nätet är nere",
    "began_at": "",
}


@pytest.fixture
def server_clock(time_machine):
    time_machine.move_to(SERVER_NOW, tick=False)


def send(client, *, client_id=None, made_at=MADE_ON_DEVICE, kind="incident", fields=None, incident=None):
    payload = {
        "client_id": str(client_id or uuid.uuid4()),
        "kind": kind,
        "made_at": made_at.isoformat() if isinstance(made_at, datetime) else made_at,
        "incident": incident,
        "fields": REPORT_FIELDS if fields is None else fields,
    }
    return client.post(reverse("offline:submit"), json.dumps(payload), content_type="application/json")


# --- the installable app ------------------------------------------------------------------


@pytest.mark.django_db  # which routines have a version in force decides the report pages kept
def test_service_worker_is_served_from_the_apps_root_to_anyone_and_keeps_only_the_pack(client):
    response = client.get("/sw.js")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert "Content-Security-Policy" in response
    # It keeps the routine pack and the report form, and the app's own files; nothing else.
    pages = json.loads(body.split("var PAGES = ", 1)[1].split(";", 1)[0])
    assert pages == [reverse("offline:pack"), reverse("incidents:report")]
    kept = json.loads(body.split("var STATIC = ", 1)[1].split(";", 1)[0])
    assert all(url.startswith("/static/") for url in kept)
    assert "http://" not in body and "https://" not in body


def test_manifest_names_the_app_and_its_icons_which_the_app_serves(client):
    response = client.get(reverse("offline:manifest"))
    data = json.loads(response.content)
    assert response["Content-Type"] == "application/manifest+json"
    assert data["name"] == "Driftstörningsrutin Sesam LMN"
    assert data["lang"] == "sv"
    assert data["start_url"] == "/" and data["scope"] == "/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        name = icon["src"].removeprefix("/static/")
        assert staticfiles_storage.exists(name), icon["src"]


def test_every_page_links_the_manifest_and_the_offline_script(ks, client_as):
    html = client_as(ks).get(reverse("incidents:live")).content.decode()
    assert f'<link rel="manifest" href="{reverse("offline:manifest")}">' in html
    assert 'data-sw="/sw.js"' in html
    assert "data-texts=" in html and "Sparad på enheten" in unescape(html)


# --- the pages kept on the device ------------------------------------------------------------


def test_pack_page_holds_the_routine_the_caller_scripts_the_triage_guide_and_the_contacts(ks, client_as):
    Contact.objects.create(kind=Contact.Kind.SYSTEMANSVARIG, name="Sara SA", phone="040-123 45")
    Contact.objects.create(kind=Contact.Kind.SERVICEDESK, name="Servicedesk", phone="30 000")
    html = unescape(client_as(ks).get(reverse("offline:pack")).content.decode())
    assert f"version {scenarios.ROUTINE_VERSION}" in html
    assert 'class="copy-age" data-saved-at="' in html
    for scenario in scenarios.SCENARIOS.values():
        assert str(scenario.title) in html
        for line in scenario.caller_script:
            assert str(line) in html
        for step in scenario.steps:
            assert str(step.instruction) in html
    for _name, question in scenarios.Triage.QUESTIONS:
        assert str(question) in html
    assert 'href="tel:040-12345"' in html and "Sara SA" in html
    assert "30 000" in html


def test_pack_page_needs_a_signed_in_person(client):
    response = client.get(reverse("offline:pack"))
    assert response.status_code == 302 and "/logga-in/" in response["Location"]


# --- a disruption reported offline ---------------------------------------------------------


def test_disruption_reported_offline_gets_the_devices_time_and_says_it_came_offline(ks, client_as, server_clock):
    response = send(client_as(ks))
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert response.json()["url"] == reverse("incidents:detail", args=[incident.pk])
    assert incident.reported_at == MADE_ON_DEVICE
    assert incident.began_at == MADE_ON_DEVICE
    assert incident.reported_by == ks
    reported = incident.events.get(kind=TimelineEvent.Kind.REPORTED)
    assert reported.at == MADE_ON_DEVICE
    offline = incident.events.get(message__startswith="Registrerad offline")
    assert offline.message == "Registrerad offline på enhet kl. 08:02, skickad 08:40"
    assert offline.at == SERVER_NOW
    assert offline.actor == ks
    # The 4-hour clock runs from when it began on the device, not from when it arrived.
    timer = incident.timers.get(kind="reserve_routine")
    assert timer.due_at == MADE_ON_DEVICE + timedelta(hours=4)


def test_the_same_report_sent_again_makes_no_second_incident(ks, client_as, server_clock):
    client = client_as(ks)
    client_id = uuid.uuid4()
    first = send(client, client_id=client_id)
    again = send(client, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "already_received"
    assert first.json()["incident"] == again.json()["incident"]
    assert Incident.objects.count() == 1
    assert TimelineEvent.objects.filter(message__startswith="Registrerad offline").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_report_sent_from_two_tabs_at_once_makes_one_incident(make_user, require_postgres):
    from offline import services

    user = make_user("kundservice")
    client_id = uuid.uuid4()
    barrier = threading.Barrier(4)
    results = []

    def submit():
        from django.db import connection

        barrier.wait(timeout=10)
        try:
            submission, created = services.submit_report(
                user,
                client_id=client_id,
                made_at=datetime.now(tz=STOCKHOLM) - timedelta(minutes=5),
                scenario="sesam_unreachable",
                summary="Samma anmälan från två flikar",
            )
            results.append((submission.incident_id, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert len({incident for incident, _created in results}) == 1
    assert sorted(created for _incident, created in results) == [False, False, False, True]
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    "made_at, message",
    [
        (SERVER_NOW + timedelta(minutes=30), "Tidpunkten kan inte ligga i framtiden."),
        (SERVER_NOW - timedelta(days=31), "Tidpunkten kan ligga högst 30 dagar bakåt i tiden."),
        ("2026-12-03T08:02:00", "saknar tidszon"),
        ("0001-01-01T00:00:00+00:00", "Ange en tidpunkt mellan år 2000 och 2199."),
        ("i morgon", "saknar tidszon"),
    ],
)
def test_a_device_time_out_of_bounds_is_refused_with_a_reason_and_changes_nothing(
    ks, client_as, server_clock, made_at, message
):
    response = send(client_as(ks), made_at=made_at)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert response.json()["code"] == "invalid"
    assert not Incident.objects.exists() and not OfflineSubmission.objects.exists()


def test_a_clock_a_little_ahead_is_taken_as_now(ks, client_as, server_clock):
    response = send(client_as(ks), made_at=SERVER_NOW + timedelta(seconds=40))
    assert response.status_code == 201
    assert Incident.objects.get().reported_at == SERVER_NOW


def test_began_at_typed_offline_may_not_be_after_the_report(ks, client_as, server_clock):
    fields = {**REPORT_FIELDS, "began_at": "2026-12-03T08:30"}
    response = send(client_as(ks), fields=fields)
    assert response.status_code == 400
    assert "framtiden" in response.json()["message"]
    assert not Incident.objects.exists()


def test_a_form_error_is_named_by_field(ks, client_as, server_clock):
    response = send(client_as(ks), fields={**REPORT_FIELDS, "summary": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "summary", "message": "Skriv en kort sammanfattning."}]


@pytest.mark.parametrize(
    "body",
    [
        "inte json",
        "[]",
        json.dumps({"client_id": "x", "kind": "incident", "made_at": "", "fields": {}}),
        json.dumps(
            {
                "client_id": str(uuid.uuid4()),
                "kind": "incident",
                "made_at": "2026-12-03T08:02:00+01:00",
                "fields": {"a": 1},
            }
        ),
        json.dumps(
            {"client_id": str(uuid.uuid4()), "kind": "annat", "made_at": "2026-12-03T08:02:00+01:00", "fields": {}}
        ),
    ],
)
def test_unreadable_submissions_get_a_message_and_change_nothing(ks, client_as, server_clock, body):
    response = client_as(ks).post(reverse("offline:submit"), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"]
    assert not Incident.objects.exists()


def test_signed_out_device_is_told_to_sign_in_and_keeps_its_report(client, db):
    response = send(client)
    assert response.status_code == 401
    assert response.json()["message"] == "Logga in igen för att skicka det som sparats på enheten."


def test_without_permission_to_report_nothing_is_made(make_user, client_as, server_clock):
    response = send(client_as(make_user()))
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_the_submit_endpoint_checks_csrf(ks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    response = send(client)
    assert response.status_code == 403
    assert not Incident.objects.exists()


# --- a caller report registered offline ---------------------------------------------------------


def test_call_registered_offline_lands_on_the_incident_once_with_the_devices_time(
    ks, client_as, open_incident, time_machine
):
    time_machine.move_to(MADE_ON_DEVICE - timedelta(minutes=30), tick=False)
    incident = open_incident()
    time_machine.move_to(SERVER_NOW, tick=False)
    client = client_as(ks)
    client_id = uuid.uuid4()
    fields = {"functions": "Kan inte förskriva", "error_message": "Timeout", "prescribers": "3", "since": ""}
    first = send(client, client_id=client_id, kind="caller_report", fields=fields, incident=incident.pk)
    again = send(client, client_id=client_id, kind="caller_report", fields=fields, incident=incident.pk)
    assert (first.status_code, again.status_code) == (201, 200)
    call = incident.events.get(kind=TimelineEvent.Kind.CALLER_REPORT)
    assert call.at == MADE_ON_DEVICE
    assert call.data["prescribers"] == 3
    note = incident.events.get(message__startswith="Samtal registrerat offline")
    assert note.message == "Samtal registrerat offline på enhet kl. 08:02, skickat 08:40"


def test_call_for_an_incident_that_has_ended_is_refused_with_the_reason(ks, client_as, incident_in, server_clock):
    incident = incident_in("sesam_unreachable", "cancelled")
    fields = {"functions": "Kan inte förskriva", "error_message": "", "prescribers": "1", "since": ""}
    response = send(
        client_as(ks),
        kind="caller_report",
        fields=fields,
        incident=incident.pk,
        made_at=SERVER_NOW - timedelta(minutes=1),
    )
    assert response.status_code == 409
    assert response.json()["message"] == "Samtal kan bara registreras medan störningen pågår."
    assert not OfflineSubmission.objects.exists()


def test_call_for_an_incident_that_does_not_exist_is_refused(ks, client_as, server_clock):
    fields = {"functions": "Kan inte förskriva", "error_message": "", "prescribers": "1", "since": ""}
    response = send(client_as(ks), kind="caller_report", fields=fields, incident=99999)
    assert response.status_code == 404


def test_administrators_see_what_arrived_from_devices_read_only(admin_client, ks, server_clock):
    from django.test import Client

    client = Client()
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    send(client)
    page = admin_client.get(reverse("admin:offline_offlinesubmission_changelist"))
    assert page.status_code == 200
    assert "2026-12-03" in page.content.decode() or "3 december 2026" in page.content.decode()
    assert admin_client.get(reverse("admin:offline_offlinesubmission_add")).status_code == 403


def test_a_start_that_puts_the_reserve_routine_in_the_past_waits_for_the_persons_confirmation(
    ks, client_as, server_clock
):
    client = client_as(ks)
    client_id = uuid.uuid4()
    fields = {**REPORT_FIELDS, "began_at": "2026-12-03T03:30"}
    asked = send(client, client_id=client_id, fields=fields)
    assert asked.status_code == 400
    body = asked.json()
    assert body["code"] == "needs_confirmation"
    assert [w["key"] for w in body["warnings"]] == ["reservrutin-direkt"]
    assert "Reservrutinen för akuta förskrivningar" in body["warnings"][0]["message"]
    assert not Incident.objects.exists() and not OfflineSubmission.objects.exists()

    payload = {
        "client_id": str(client_id),
        "kind": "incident",
        "made_at": MADE_ON_DEVICE.isoformat(),
        "fields": fields,
        "confirmed": ["reservrutin-direkt"],
    }
    confirmed = client.post(reverse("offline:submit"), json.dumps(payload), content_type="application/json")
    assert confirmed.status_code == 201
    # Its deadline has passed: the next sweep starts the reserve routine.
    assert Incident.objects.get().timers.get(kind="reserve_routine").due_at <= SERVER_NOW


def test_the_per_person_limit_on_opening_incidents_holds_for_reports_sent_from_a_device(
    ks, client_as, server_clock, settings
):
    settings.OPEN_INCIDENT_LIMIT = 2
    client = client_as(ks)
    assert [send(client).status_code for _ in range(3)] == [201, 201, 429]
    assert Incident.objects.count() == 2
