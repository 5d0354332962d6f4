"""Anmäl störning with more than one routine: Kundservice picks the system first, then answers
that routine's triage questions and confirms one of its scenarios; the incident is pinned to
that routine. With one routine the page asks nothing more than before. The API and the
device's offline reports name the routine too, and the service checks the scenario against
that routine's version in force. Pages that list incidents name the scenario as the pinned
version calls it, and the system when there is more than one."""

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Incident, Task, TimelineEvent
from review.models import FiguresMonth, IncidentMetrics
from routines import loader, portable
from routines import services as routine_services

pytestmark = pytest.mark.django_db

JOURNALIA = Path(__file__).resolve().parent / "routines" / "journalia-v1.yaml"
API = "/api/v1"
STOCKHOLM = ZoneInfo("Europe/Stockholm")

JOURNALIA_REPORT = {
    "journalia_reachable": "no",
    "journalia_fast": "unknown",
    "scenario": "journalia_unreachable",
    "summary": "Journalia svarar inte för någon",
    "began_at": "",
    "action": "report",
}


@pytest.fixture
def journalia(va):
    draft = portable.import_file(va, JOURNALIA.read_text(encoding="utf-8"))
    version = routine_services.publish(va, draft.pk, "Journalia får en egen rutin", revision=draft.revision)
    loader.routines_changed()  # the publish's own on-commit callback does not run inside a test's transaction
    return version


def _text(response):
    return response.content.decode()


# --- one routine: as before -----------------------------------------------------------------


def test_with_one_routine_the_report_page_asks_no_system_and_shows_its_questions(ks, client_as):
    page = _text(client_as(ks).get(reverse("incidents:report")))
    assert "Vilket system gäller störningen?" not in page
    assert "Kan Kundservice nå Sesam LMN?" in page and "Fungerar telefonerna?" in page
    assert 'name="kundservice_reaches_sesam"' in page
    assert "Sesam LMN-server oåtkomlig för samtliga användare" in page
    assert "Byt system" not in page


def test_with_one_routine_the_live_list_and_incident_page_do_not_name_the_system(ks, client_as, open_incident):
    incident = open_incident(scenario="telephony_fault")
    client = client_as(ks)
    assert "System:" not in _text(client.get(reverse("incidents:live")))
    assert "System:" not in _text(client.get(reverse("incidents:detail", args=[incident.pk])))


# --- two routines: the system first ---------------------------------------------------------


def test_with_two_routines_the_report_page_asks_which_system_first(journalia, ks, client_as):
    response = client_as(ks).get(reverse("incidents:report"))
    page = _text(response)
    assert response.status_code == 200
    assert "Vilket system gäller störningen?" in page
    # One tap per system, named as the routine names it, each leading to its own form.
    assert f'href="{reverse("incidents:report_routine", args=["journalia"])}"' in page
    assert f'href="{reverse("incidents:report_routine", args=["sesam-lmn"])}"' in page
    assert ">Journalia</a>" in page and ">Sesam LMN</a>" in page
    # No questions yet: they depend on the system.
    assert "Kan Kundservice nå Sesam LMN?" not in page and "Går Journalia att nå?" not in page


def test_choosing_journalia_shows_its_questions_and_scenarios_not_sesams(journalia, ks, client_as):
    page = _text(client_as(ks).get(reverse("incidents:report_routine", args=["journalia"])))
    assert "Anmäl störning i Journalia" in page
    assert "Går Journalia att nå?" in page and "Svarar Journalia som vanligt?" in page
    assert "Journalia går inte att nå" in page and "Journalia är långsam" in page
    assert "Kan Kundservice nå Sesam LMN?" not in page
    assert "Fullskaligt IT-haveri i Region Skåne" not in page
    assert f'href="{reverse("incidents:report")}"' in page  # Byt system
    # The device proposes from Journalia's own rules when offline.
    assert "journalia_reachable" in page and 'value="journalia"' in page


def test_choosing_sesam_shows_the_four_questions_as_before(journalia, ks, client_as):
    page = _text(client_as(ks).get(reverse("incidents:report_routine", args=["sesam-lmn"])))
    for question in (
        "Kan Kundservice nå Sesam LMN?",
        "Kan förskrivarna nå Sesam LMN?",
        "Fungerar Region Skånes IT i övrigt?",
        "Fungerar telefonerna?",
    ):
        assert question in page
    assert "Journalia går inte att nå" not in page


def test_journalias_triage_answers_propose_its_scenario(journalia, ks, client_as):
    url = reverse("incidents:report_routine", args=["journalia"])
    answers = {"journalia_reachable": "yes", "journalia_fast": "no", "action": "propose"}
    page = _text(client_as(ks).post(url, answers))
    assert "Förslag utifrån svaren: <strong>Journalia är långsam</strong>" in page
    assert not Incident.objects.exists()
    # Without JavaScript the same page answers; with htmx only the proposal part.
    part = _text(client_as(ks).post(url, answers, headers={"HX-Request": "true"}))
    assert part.lstrip().startswith('<div id="proposal">') and "Journalia är långsam" in part


def test_reporting_in_journalia_makes_an_incident_pinned_to_journalia(journalia, ks, client_as):
    client = client_as(ks)
    response = client.post(reverse("incidents:report_routine", args=["journalia"]), JOURNALIA_REPORT)
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("incidents:detail", args=[incident.pk])
    assert incident.pinned_version_id == journalia.pk
    assert incident.scenario == "journalia_unreachable"
    reported = incident.events.get(kind=TimelineEvent.Kind.REPORTED)
    assert reported.data["triage"] == {"journalia_reachable": "no", "journalia_fast": "unknown"}
    assert sorted(Task.objects.filter(incident=incident).values_list("step_key", flat=True)) == [
        "inform_callers",
        "report_to_sa",
    ]


def test_the_live_list_and_incident_page_name_the_system_and_the_versions_title(
    journalia, ks, client_as, open_incident
):
    sesam = open_incident(scenario="telephony_fault")
    ours = services.open_incident(ks, routine="journalia", scenario="journalia_slow", summary="Segt")
    client = client_as(ks)
    live = _text(client.get(reverse("incidents:live")))
    assert f"#{ours.pk} Journalia är långsam" in live
    assert "System: <strong>Journalia</strong>" in live and "System: <strong>Sesam LMN</strong>" in live
    assert f"#{sesam.pk} Störningar i telefonin" in live
    page = _text(client.get(reverse("incidents:detail", args=[ours.pk])))
    assert f"<title>#{ours.pk} Journalia är långsam" in page
    assert "System: <strong>Journalia</strong>" in page
    assert str(ours) == f"#{ours.pk} Journalia är långsam"


def test_historik_and_admin_show_the_scenario_title_of_the_pinned_version(journalia, ks, va, client_as, admin_client):
    ours = services.open_incident(ks, routine="journalia", scenario="journalia_slow", summary="Segt")
    services.cancel(va, ours.pk, reason="Falsklarm")
    history = _text(client_as(va).get(reverse("review:history")))
    assert f"#{ours.pk} Journalia är långsam" in history
    # The filter offers every system's scenarios, named with their system.
    assert "Journalia: Journalia är långsam" in history
    assert f"#{ours.pk} Journalia är långsam" in _text(
        client_as(va).get(reverse("review:history"), {"scenario": "journalia_slow"})
    )
    admin = _text(admin_client.get(reverse("admin:incidents_incident_changelist")))
    assert "Journalia är långsam" in admin and "Journalia" in admin


# --- refusals -------------------------------------------------------------------------------


def test_a_scenario_of_another_routine_is_refused_and_nothing_is_made(journalia, ks, client_as):
    response = client_as(ks).post(
        reverse("incidents:report_routine", args=["journalia"]), {**JOURNALIA_REPORT, "scenario": "sesam_unreachable"}
    )
    assert response.status_code == 400
    assert "Välj ett giltigt alternativ" in _text(response)
    assert not Incident.objects.exists()


def test_an_unknown_routine_is_refused_in_swedish_and_nothing_is_made(journalia, ks, client_as):
    client = client_as(ks)
    url = reverse("incidents:report_routine", args=["finns-inte"])
    shown = client.get(url)
    assert shown.status_code == 404
    assert "Det finns ingen rutin för det systemet." in _text(shown)
    assert "Vilket system gäller störningen?" in _text(shown)
    posted = client.post(url, {**JOURNALIA_REPORT})
    assert posted.status_code == 400 and "Det finns ingen rutin för det systemet." in _text(posted)
    # Posted to the page that asks for the system, without one.
    unnamed = client.post(reverse("incidents:report"), {k: v for k, v in JOURNALIA_REPORT.items()})
    assert unnamed.status_code == 400 and "Välj först vilket system störningen gäller." in _text(unnamed)
    assert not Incident.objects.exists()


def test_only_people_who_may_report_see_the_system_choice(journalia, make_user, client_as):
    assert client_as(make_user()).get(reverse("incidents:report_routine", args=["journalia"])).status_code == 403


# --- the API --------------------------------------------------------------------------------


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_api_opens_an_incident_in_the_routine_it_names(journalia, ks, vs, api_client):
    response = _post(
        api_client(ks), f"{API}/incidents", {"routine": "journalia", "scenario": "journalia_slow", "summary": "Segt"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["routine"] == "journalia" and body["system"] == "Journalia"
    assert body["scenario"] == "journalia_slow" and body["scenario_title"] == "Journalia är långsam"
    assert Incident.objects.get(pk=body["id"]).pinned_version_id == journalia.pk
    listed = api_client(vs).get(f"{API}/incidents", {"routine": "journalia"}).json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert api_client(vs).get(f"{API}/incidents", {"routine": "sesam-lmn"}).json()["count"] == 0
    scenarios = api_client(vs).get(f"{API}/scenarios", {"routine": "journalia"}).json()
    assert [s["key"] for s in scenarios] == ["journalia_unreachable", "journalia_slow"]
    assert {s["system"] for s in scenarios} == {"Journalia"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"routine": "journalia", "scenario": "sesam_unreachable", "summary": "x"}, "scenario"),
        ({"routine": "finns-inte", "scenario": "journalia_slow", "summary": "x"}, "routine"),
        ({"scenario": "journalia_slow", "summary": "x"}, "scenario"),  # the default routine has no such scenario
        ({"routine": "inte en nyckel!", "scenario": "journalia_slow", "summary": "x"}, "routine"),
        ({"routine": "journalia", "scenario": "x" * 41, "summary": "x"}, "scenario"),
    ],
)
def test_the_api_refuses_a_scenario_not_in_the_routine_named(journalia, ks, api_client, body, field):
    response = _post(api_client(ks), f"{API}/incidents", body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid" and error["message"]
    assert field in [e["field"] for e in error["errors"]]
    assert not Incident.objects.exists()


def test_the_api_refuses_unknown_routines_in_filters_and_scenarios(journalia, vs, api_client):
    assert api_client(vs).get(f"{API}/incidents", {"routine": "finns-inte"}).status_code == 400
    assert api_client(vs).get(f"{API}/incidents", {"scenario": "meteor"}).status_code == 400
    assert api_client(vs).get(f"{API}/incidents", {"scenario": "journalia_slow"}).status_code == 200
    assert api_client(vs).get(f"{API}/scenarios", {"routine": "finns-inte"}).status_code == 404


def test_the_openapi_document_says_an_incident_names_its_routine(client):
    schema = client.get(f"{API}/openapi.json").json()
    incident_in = schema["components"]["schemas"]["IncidentIn"]["properties"]
    assert "routine" in incident_in
    assert "enum" not in json.dumps(incident_in["scenario"])  # a key of the routine's version, not a fixed list
    assert "routine" in schema["components"]["schemas"]["IncidentSummaryOut"]["properties"]


# --- reports kept on a device ---------------------------------------------------------------


def _send(client, fields):
    payload = {
        "client_id": str(uuid.uuid4()),
        "kind": "incident",
        "made_at": datetime.now(tz=STOCKHOLM).isoformat(),
        "fields": fields,
    }
    return client.post(reverse("offline:submit"), json.dumps(payload), content_type="application/json")


def test_a_report_kept_on_a_device_is_made_in_the_routine_its_form_named(journalia, ks, client_as):
    fields = {k: v for k, v in JOURNALIA_REPORT.items() if k != "action"} | {"routine": "journalia"}
    response = _send(client_as(ks), fields)
    assert response.status_code == 201, response.content
    assert Incident.objects.get(pk=response.json()["incident"]).pinned_version_id == journalia.pk


@pytest.mark.parametrize(
    "change, field",
    [({"scenario": "sesam_unreachable"}, "scenario"), ({"routine": "finns-inte"}, None)],
)
def test_a_device_report_in_the_wrong_routine_is_refused_and_nothing_is_made(journalia, ks, client_as, change, field):
    fields = {k: v for k, v in JOURNALIA_REPORT.items() if k != "action"} | {"routine": "journalia"} | change
    response = _send(client_as(ks), fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"]
    if field:
        assert field in [e["field"] for e in body["errors"]]
    assert not Incident.objects.exists()


def test_the_device_keeps_each_systems_report_form(journalia, client):
    body = _text(client.get("/sw.js"))
    pages = json.loads(body.split("var PAGES = ", 1)[1].split(";", 1)[0])
    assert reverse("incidents:report_routine", args=["journalia"]) in pages
    assert reverse("incidents:report_routine", args=["sesam-lmn"]) in pages


# --- Nyckeltal: acknowledged in time by each version's own target ----------------------------


def test_acknowledged_in_time_counts_against_each_incidents_pinned_version(
    journalia, ks, vs, sa, va, client_as, time_machine
):
    """Journalia's target is 10 minutes, Sesam LMN's 15: each acknowledged after 12 minutes
    is in time under Sesam LMN's routine only."""
    start = datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)  # a Wednesday: SA on duty
    made = []
    for routine, scenario in (("sesam-lmn", "sesam_unreachable"), ("journalia", "journalia_unreachable")):
        time_machine.move_to(start, tick=False)
        incident = services.open_incident(ks, routine=routine, scenario=scenario, summary="Nere")
        services.escalate(vs, incident.pk)
        time_machine.move_to(start + timedelta(minutes=12), tick=False)
        services.acknowledge(sa, incident.pk)
        services.resolve(sa, incident.pk)
        for task in Task.objects.filter(incident=incident, done_at__isnull=True):
            services.complete_task(va, task.pk)
        services.close(va, incident.pk, review={"what_happened": "Nere en stund"})
        made.append(incident)
        start += timedelta(hours=1)

    rows = {m.incident_id: m for m in IncidentMetrics.objects.all()}
    assert rows[made[0].pk].ack_timeout_secs == 900 and rows[made[1].pk].ack_timeout_secs == 600
    assert {row.secs_escalated_to_acknowledged for row in rows.values()} == {720}
    assert set(FiguresMonth.objects.values_list("acknowledged_in_time", flat=True)) == {0, 1}

    page = _text(client_as(va).get(reverse("review:figures"), {"fran": "2026-11-01", "till": "2026-11-30"}))
    # Two escalations, one acknowledged in time: not two (one 15-minute target) nor none (10).
    assert "Kvitterade inom sin rutins tid</th><td>1 (50 %)" in page
