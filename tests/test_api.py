"""The JSON API under /api/v1/: each endpoint's happy path and its refusals per role."""

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incidents import services
from incidents.models import Incident, State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    # Users here never log in with a password; hashing one properly costs a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


API = "/api/v1"


def post(client, url, body=None, **extra):
    return client.post(url, json.dumps(body) if body is not None else "", content_type="application/json", **extra)


def put(client, url, body, **extra):
    return client.put(url, json.dumps(body), content_type="application/json", **extra)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    return body


# --- the document and the docs page ---------------------------------------------------------


def test_openapi_document_is_served_and_names_every_endpoint(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert set(paths["/api/v1/incidents"]) == {"get", "post"}
    assert "get" in paths["/api/v1/scenarios"]
    assert "get" in paths["/api/v1/incidents/{incident_id}"]
    assert "post" in paths["/api/v1/incidents/{incident_id}/transitions/{name}"]
    assert "put" in paths["/api/v1/incidents/{incident_id}/prognosis"]
    assert "post" in paths["/api/v1/incidents/{incident_id}/tasks/{task_id}/done"]
    assert doc["components"]["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_serves_swagger_from_the_apps_own_static_files(client, ks):
    client.force_login(ks)
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in html


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/scenarios"),
        ("get", "/incidents"),
        ("post", "/incidents"),
        ("get", "/incidents/1"),
        ("post", "/incidents/1/transitions/escalate"),
        ("put", "/incidents/1/prognosis"),
        ("post", "/incidents/1/tasks/1/done"),
    ],
)
def test_without_credentials_every_endpoint_is_401_and_nothing_else(client, method, path):
    if method == "get":
        response = client.get(f"{API}{path}")
    else:
        response = getattr(client, method)(f"{API}{path}", "{}", content_type="application/json")
    body = assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(body) == {"code", "message", "errors"}


@pytest.mark.parametrize("header", ["Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Token abc", "bearer  "])
def test_a_wrong_authorization_header_is_401(header):
    response = Client(headers={"Authorization": header}).get(f"{API}/incidents")
    assert_error(response, 401, "unauthorized")


def test_a_bad_token_is_401_even_with_a_valid_session(client, ks):
    client.force_login(ks)
    response = client.get(f"{API}/incidents", headers={"Authorization": "Bearer sesam_not-a-token"})
    assert_error(response, 401, "unauthorized")


def test_session_login_works_and_its_posts_need_the_csrf_token(ks, vs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ks)
    assert client.get(f"{API}/incidents").status_code == 200

    body = {"scenario": "sesam_unreachable", "summary": "Sesam LMN svarar inte"}
    response = post(client, f"{API}/incidents", body)
    assert_error(response, 403, "forbidden")
    assert not Incident.objects.exists()

    client.get("/")  # sets the CSRF cookie
    response = post(client, f"{API}/incidents", body, headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert response.status_code == 201, response.content


def test_an_unknown_path_under_the_api_is_a_json_404(api_client, ks):
    response = api_client(ks).get(f"{API}/nothing/here")
    assert_error(response, 404, "not_found")


# --- scenarios ------------------------------------------------------------------------------


def test_scenarios_are_the_routines_with_their_steps(api_client, tel):
    response = api_client(tel).get(f"{API}/scenarios")
    assert response.status_code == 200
    by_key = {s["key"]: s for s in response.json()}
    assert set(by_key) == {"full_it_outage", "sesam_unreachable", "kundservice_link_loss", "telephony_fault"}
    steps = {s["key"]: s for s in by_key["sesam_unreachable"]["steps"]}
    assert steps["report_to_sa"]["role"] == "verksamhetsspecialist"
    assert steps["report_to_sa"]["done_by"] == "escalate"
    assert steps["report_to_sa"]["within_seconds"] == 300
    assert steps["give_prognosis"]["due_on"] == "acknowledged"
    assert "Servicedesk på 30 000" in " ".join(by_key["sesam_unreachable"]["caller_script"])


# --- opening an incident --------------------------------------------------------------------


def test_kundservice_opens_an_incident_and_gets_201_with_it(api_client, ks, settings):
    response = post(api_client(ks), f"{API}/incidents", {"scenario": "sesam_unreachable", "summary": "Ingen når Sesam"})
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get()
    assert body["id"] == incident.pk
    assert body["state"] == "reported"
    assert body["state_label"] == "Anmäld"
    assert body["summary"] == "Ingen når Sesam"
    assert body["prognosis"]["kind"] == "missing"
    assert {t["role"] for t in body["tasks"]} >= {"verksamhetsspecialist", "kundservice"}
    assert body["timeline"][0]["kind"] == "reported"
    # The 4-hour deadline is running; the report's e-mails have no one to go to (no addresses).
    assert [(t["name"], t["state"]) for t in body["timers"]] == [("reserve_routine", "pending")]
    due = datetime.fromisoformat(body["timers"][0]["due_at"].replace("Z", "+00:00"))
    assert abs(due - (incident.began_at + settings.RESERVE_ROUTINE_AFTER)) < timedelta(seconds=1)
    assert body["notifications"] == []
    # Kundservice may cancel its own report while it is reported, and nothing else.
    assert [t["name"] for t in body["transitions"]] == ["cancel"]


def test_a_disruption_can_be_reported_as_having_begun_earlier(api_client, vs):
    began = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    response = post(
        api_client(vs),
        f"{API}/incidents",
        {"scenario": "full_it_outage", "summary": "Allt nere", "began_at": began.isoformat()},
    )
    assert response.status_code == 201, response.content
    assert Incident.objects.get().began_at == began


@pytest.mark.parametrize(
    "body, field",
    [
        ({"scenario": "meteor", "summary": "x"}, "scenario"),
        ({"summary": "x"}, "scenario"),
        ({"scenario": "sesam_unreachable"}, "summary"),
        ({"scenario": "sesam_unreachable", "summary": "x" * 501}, "summary"),
        ({"scenario": "sesam_unreachable", "summary": 5}, "summary"),
        ({"scenario": ["sesam_unreachable"], "summary": "x"}, "scenario"),
        ({"scenario": "sesam_unreachable", "summary": "x", "began_at": "igår"}, "began_at"),
        ({"scenario": "sesam_unreachable", "summary": "x", "began_at": "2025-01-01T10:00:00"}, "began_at"),
        ({"scenario": "sesam_unreachable", "summary": "x", "began_at": "0001-01-01T00:00:00+14:00"}, "began_at"),
        ({"scenario": "sesam_unreachable", "summary": "x", "began_at": "9999-12-31T23:59:59-14:00"}, "began_at"),
    ],
)
def test_bad_input_when_opening_is_400_with_the_field_and_changes_nothing(api_client, ks, body, field):
    response = post(api_client(ks), f"{API}/incidents", body)
    error = assert_error(response, 400, "invalid")
    assert field in [e["field"] for e in error["errors"]]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"scenario": "sesam_unreachable", "summary": "   "},
        {"scenario": "sesam_unreachable", "summary": "nul\x00tecken"},
        {"scenario": "sesam_unreachable", "summary": "x", "began_at": "2199-01-01T00:00:00+00:00"},
    ],
)
def test_input_the_service_refuses_is_400_and_changes_nothing(api_client, ks, body):
    response = post(api_client(ks), f"{API}/incidents", body)
    assert_error(response, 400, "invalid")
    assert not Incident.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", '"text"'])
def test_a_body_that_is_not_an_object_is_400(api_client, ks, raw):
    response = api_client(ks).post(f"{API}/incidents", raw, content_type="application/json")
    assert_error(response, 400, "invalid")
    assert not Incident.objects.exists()


def test_a_form_body_is_400_in_the_error_shape(api_client, ks):
    response = api_client(ks).post(f"{API}/incidents", {"scenario": "sesam_unreachable", "summary": "x"})
    body = assert_error(response, 400, "invalid")
    assert "JSON" in body["message"]
    assert not Incident.objects.exists()


def test_someone_without_a_role_may_not_open_an_incident(api_client, make_user):
    response = post(api_client(make_user()), f"{API}/incidents", {"scenario": "sesam_unreachable", "summary": "x"})
    assert_error(response, 403, "forbidden")
    assert not Incident.objects.exists()


# --- listing --------------------------------------------------------------------------------


def test_list_filters_by_state_scenario_phase_and_time(api_client, open_incident, vs, va):
    old = open_incident(summary="gammal")
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=3))
    escalated = open_incident(summary="eskalerad")
    services.escalate(vs, escalated.pk)
    phones = open_incident(scenario="telephony_fault", summary="telefoni")
    cancelled = open_incident(summary="falsklarm")
    services.cancel(va, cancelled.pk, reason="Falsklarm")
    client = api_client(vs)

    def ids(query=""):
        response = client.get(f"{API}/incidents{query}")
        assert response.status_code == 200, response.content
        return [i["id"] for i in response.json()["items"]]

    assert ids() == [cancelled.pk, phones.pk, escalated.pk, old.pk]
    assert ids("?state=escalated") == [escalated.pk]
    assert ids("?scenario=telephony_fault") == [phones.pk]
    assert ids("?phase=ended") == [cancelled.pk]
    assert ids("?phase=live") == [phones.pk, escalated.pk, old.pk]
    day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids("?" + f"opened_before={day_ago}".replace("+", "%2B")) == [old.pk]
    assert old.pk not in ids("?" + f"opened_after={day_ago}".replace("+", "%2B"))


def test_list_is_paginated(api_client, open_incident, vs):
    made = [open_incident(summary=f"nr {n}").pk for n in range(5)]
    client = api_client(vs)
    page = client.get(f"{API}/incidents?limit=2&offset=2").json()
    assert page["count"] == 5
    assert page["limit"] == 2 and page["offset"] == 2
    assert [i["id"] for i in page["items"]] == list(reversed(made))[2:4]


@pytest.mark.parametrize(
    "query",
    [
        "state=broken",
        "scenario=meteor",
        "phase=soon",
        "opened_after=igår",
        "limit=0",
        "limit=101",
        "offset=-1",
        "limit=x",
    ],
)
def test_bad_list_filters_are_400(api_client, vs, query):
    assert_error(api_client(vs).get(f"{API}/incidents?{query}"), 400, "invalid")


def test_someone_without_a_role_may_not_list_incidents(api_client, make_user):
    assert_error(api_client(make_user()).get(f"{API}/incidents"), 403, "forbidden")


# --- reading one ----------------------------------------------------------------------------


def test_detail_offers_each_role_the_transitions_it_may_fire(api_client, open_incident, ks, sa, vs, va, tel):
    incident = open_incident()

    def offered(user):
        response = api_client(user).get(f"{API}/incidents/{incident.pk}")
        assert response.status_code == 200
        return [t["name"] for t in response.json()["transitions"]]

    assert offered(ks) == ["cancel"]  # its own report
    assert offered(tel) == []
    assert offered(sa) == ["resolve"]
    assert offered(vs) == ["escalate", "activate_reserve_routine", "resolve", "cancel"]
    services.escalate(vs, incident.pk)
    assert offered(sa) == ["acknowledge", "resolve"]
    assert offered(ks) == []


def test_detail_shows_prognosis_tasks_and_timeline(api_client, open_incident, vs, sa):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    expected = timezone.now() + timedelta(hours=2)
    services.record_prognosis(sa, incident.pk, expected, note="Leverantören felsöker")
    body = api_client(vs).get(f"{API}/incidents/{incident.pk}").json()
    assert body["state"] == "acknowledged"
    assert body["prognosis"]["kind"] == "at"
    assert body["prognosis"]["passed"] is False
    tasks = {t["text"][:40]: t for t in body["tasks"]}
    assert any(t["done"] and t["done_by"] for t in body["tasks"])  # escalating did "report to SA"
    assert all({"id", "role", "text", "done", "due_at"} <= set(t) for t in tasks.values())
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == "reported" and "prognosis" in kinds
    assert any(e["note"] == "Leverantören felsöker" for e in body["timeline"])


@pytest.mark.parametrize("path, status", [("/incidents/999999", 404), ("/incidents/abc", 400), ("/incidents/0", 400)])
def test_detail_of_what_does_not_exist(api_client, vs, path, status):
    assert_error(api_client(vs).get(f"{API}{path}"), status, "not_found" if status == 404 else "invalid")


def test_huge_ids_are_refused_not_crashed(api_client, vs):
    assert_error(api_client(vs).get(f"{API}/incidents/{2**70}"), 400, "invalid")


# --- transitions ----------------------------------------------------------------------------


def test_specialist_escalates_and_gets_the_new_state(api_client, open_incident, vs):
    incident = open_incident()
    response = post(api_client(vs), f"{API}/incidents/{incident.pk}/transitions/escalate", {"note": "SA ringd"})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "escalated"
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED
    assert incident.events.filter(note="SA ringd").exists()


def test_a_transition_without_a_body_works(api_client, open_incident, vs):
    incident = open_incident()
    response = post(api_client(vs), f"{API}/incidents/{incident.pk}/transitions/escalate")
    assert response.status_code == 200, response.content


def test_kundservice_may_not_escalate_403_with_a_reason(api_client, open_incident, ks):
    incident = open_incident()
    response = post(api_client(ks), f"{API}/incidents/{incident.pk}/transitions/escalate", {})
    body = assert_error(response, 403, "forbidden")
    assert "Eskalera till systemansvarig" in body["message"]
    incident.refresh_from_db()
    assert incident.state == State.REPORTED


def test_acknowledging_what_is_not_escalated_is_409(api_client, open_incident, sa):
    incident = open_incident()
    response = post(api_client(sa), f"{API}/incidents/{incident.pk}/transitions/acknowledge", {})
    body = assert_error(response, 409, "conflict")
    assert "Anmäld" in body["message"]


def test_closing_with_open_tasks_is_409_naming_what_is_left(api_client, open_incident, va):
    incident = open_incident("kundservice_link_loss")
    services.resolve(va, incident.pk)
    body = assert_error(post(api_client(va), f"{API}/incidents/{incident.pk}/transitions/close", {}), 409, "conflict")
    assert "uppgift" in body["message"]


def test_cancel_needs_a_reason_and_kundservice_cancels_its_own_report(api_client, open_incident, ks):
    incident = open_incident(by=ks)
    client = api_client(ks)
    assert_error(post(client, f"{API}/incidents/{incident.pk}/transitions/cancel", {}), 400, "invalid")
    response = post(client, f"{API}/incidents/{incident.pk}/transitions/cancel", {"note": "Falsklarm"})
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert response.json()["cancel_reason"] == "Falsklarm"


def test_unknown_transition_is_400(api_client, open_incident, va):
    incident = open_incident()
    assert_error(post(api_client(va), f"{API}/incidents/{incident.pk}/transitions/explode", {}), 400, "invalid")


def test_transition_on_missing_incident_is_404(api_client, va):
    assert_error(post(api_client(va), f"{API}/incidents/424242/transitions/resolve", {}), 404, "not_found")


# --- prognosis ------------------------------------------------------------------------------


def test_sa_records_a_prognosis_and_then_no_prognosis(api_client, open_incident, sa):
    incident = open_incident()
    client = api_client(sa)
    expected = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    response = put(
        client,
        f"{API}/incidents/{incident.pk}/prognosis",
        {"expected_at": expected.isoformat(), "note": "enligt leverantör"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["prognosis"]["kind"] == "at"
    incident.refresh_from_db()
    assert incident.prognosis_at == expected

    response = put(client, f"{API}/incidents/{incident.pk}/prognosis", {"expected_at": None})
    assert response.status_code == 200
    assert response.json()["prognosis"]["kind"] == "none"
    assert response.json()["prognosis"]["label"] == "Ingen prognos"


@pytest.mark.parametrize("role", ["kundservice", "telefoniansvarig"])
def test_roles_without_the_permission_may_not_record_a_prognosis(api_client, open_incident, make_user, role):
    incident = open_incident()
    response = put(api_client(make_user(role)), f"{API}/incidents/{incident.pk}/prognosis", {"expected_at": None})
    assert_error(response, 403, "forbidden")
    incident.refresh_from_db()
    assert incident.prognosis_kind == Incident.PrognosisKind.MISSING


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"expected_at": "snart"},
        {"expected_at": "2020-01-01T10:00:00+01:00"},
        {"expected_at": 12.5e300},
        {"expected_at": None, "note": 3},
    ],
)
def test_a_bad_prognosis_is_400_and_changes_nothing(api_client, open_incident, sa, body):
    incident = open_incident()
    assert_error(put(api_client(sa), f"{API}/incidents/{incident.pk}/prognosis", body), 400, "invalid")
    incident.refresh_from_db()
    assert incident.prognosis_kind == Incident.PrognosisKind.MISSING


def test_prognosis_on_an_ended_incident_is_409(api_client, open_incident, va, sa):
    incident = open_incident()
    services.cancel(va, incident.pk, reason="Falsklarm")
    assert_error(
        put(api_client(sa), f"{API}/incidents/{incident.pk}/prognosis", {"expected_at": None}), 409, "conflict"
    )


# --- tasks ----------------------------------------------------------------------------------


def test_kundservice_completes_its_own_task_but_not_the_specialists(api_client, open_incident, ks):
    incident = open_incident()
    own = incident.tasks.get(role="kundservice")
    other = incident.tasks.filter(role="verksamhetsspecialist").first()
    client = api_client(ks)

    response = post(client, f"{API}/incidents/{incident.pk}/tasks/{own.pk}/done")
    assert response.status_code == 200, response.content
    assert response.json()["done"] is True
    own.refresh_from_db()
    assert own.is_done

    assert_error(post(client, f"{API}/incidents/{incident.pk}/tasks/{other.pk}/done"), 403, "forbidden")
    other.refresh_from_db()
    assert not other.is_done
    assert_error(post(client, f"{API}/incidents/{incident.pk}/tasks/{own.pk}/done"), 409, "conflict")


def test_verksamhetsansvarig_completes_any_task(api_client, open_incident, va):
    incident = open_incident()
    task = incident.tasks.get(role="kundservice")
    assert post(api_client(va), f"{API}/incidents/{incident.pk}/tasks/{task.pk}/done").status_code == 200


def test_a_task_of_another_incident_is_404(api_client, open_incident, va):
    first, second = open_incident(), open_incident()
    task = first.tasks.first()
    assert_error(post(api_client(va), f"{API}/incidents/{second.pk}/tasks/{task.pk}/done"), 404, "not_found")
    task.refresh_from_db()
    assert not task.is_done


# --- language -------------------------------------------------------------------------------


def test_messages_are_swedish_by_default_and_english_on_request(api_client, open_incident, ks):
    incident = open_incident()
    url = f"{API}/incidents/{incident.pk}/transitions/escalate"
    swedish = assert_error(post(api_client(ks), url, {}), 403, "forbidden")
    english = assert_error(post(api_client(ks), url, {}, headers={"Accept-Language": "en"}), 403, "forbidden")
    assert "behörighet" in swedish["message"]
    assert "permission" in english["message"]
    unauth = assert_error(Client().get(f"{API}/incidents", headers={"Accept-Language": "en"}), 401, "unauthorized")
    assert "API token" in unauth["message"]
    detail = api_client(ks).get(f"{API}/incidents/{incident.pk}", headers={"Accept-Language": "en"}).json()
    assert detail["state_label"] == "Reported"
    assert detail["scenario_title"] == "Sesam LMN server unreachable for all users"


def test_an_incident_reads_back_its_pending_deadlines_and_its_messages_as_delivered(
    api_client, open_incident, vs, settings
):
    from notifications import services as notify

    incident = open_incident("telephony_fault")
    settings.TELEPHONY_URL = ""  # no phone queue configured: the lavinmeddelande fails at once
    lavin = incident.notifications.get(channel="telephony")
    notify.deliver(lavin.pk)
    body = api_client(vs).get(f"{API}/incidents/{incident.pk}").json()
    by_channel = {n["channel"]: n for n in body["notifications"]}
    assert by_channel["telephony"]["status"] == "failed"
    assert by_channel["telephony"]["attempts"] == 1
    assert "TELEPHONY_URL" in by_channel["telephony"]["last_error"]
    assert (by_channel["driftinfo"]["status"], by_channel["driftinfo"]["action"]) == ("pending", "publish")
    assert body["timers"] == []  # a telephony fault has no deadline of its own

    incident = open_incident("sesam_unreachable")
    services.escalate(vs, incident.pk)
    timers = api_client(vs).get(f"{API}/incidents/{incident.pk}").json()["timers"]
    assert "reserve_routine" in {t["name"] for t in timers}
    assert all(t["state"] == "pending" for t in timers)
