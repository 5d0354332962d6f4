"""No stored time can break a page: every time the app accepts goes through one set of bounds
(incidents/times.py), is refused with a Swedish message that changes nothing, and the
database refuses what slips past."""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents import services, times
from incidents.models import Incident, TimelineEvent
from notifications.models import Notification

REPORT = {
    "kundservice_reaches_sesam": "yes",
    "prescribers_reach_sesam": "no",
    "rest_of_it_up": "yes",
    "phones_work": "yes",
    "scenario": "telephony_fault",
    "summary": "Telefonerna fungerar inte",
    "action": "report",
}


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "began_at, message",
    [
        ("0001-01-01T00:00", "Ange en tidpunkt mellan år 2000 och 2199."),
        ("9999-12-31T23:59", "Ange en tidpunkt mellan år 2000 och 2199."),
        (_local(timezone.now() - timedelta(days=40)), "Störningen kan ha börjat högst 30 dagar bakåt i tiden."),
    ],
)
def test_a_report_with_a_start_out_of_bounds_is_refused_and_every_page_still_answers(ks, client_as, began_at, message):
    client = client_as(ks)
    response = client.post(reverse("incidents:report"), {**REPORT, "began_at": began_at})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Incident.objects.exists()
    assert client.get(reverse("incidents:live")).status_code == 200


def test_the_api_refuses_a_start_beyond_the_age_bound(api_client, ks):
    began = (timezone.now() - timedelta(days=31)).isoformat()
    response = api_client(ks).post(
        "/api/v1/incidents",
        {"scenario": "telephony_fault", "summary": "x", "began_at": began},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Störningen kan ha börjat högst 30 dagar bakåt i tiden."
    assert not Incident.objects.exists()


def test_the_age_bound_is_a_setting(ks, client_as, settings):
    settings.BEGAN_AT_MAX_AGE_DAYS = 2
    response = client_as(ks).post(
        reverse("incidents:report"), {**REPORT, "began_at": _local(timezone.now() - timedelta(days=3))}
    )
    assert "högst 2 dagar bakåt" in response.content.decode()


@pytest.mark.parametrize(
    "expected, message",
    [
        ("9999-12-31T23:59", "Ange en tidpunkt mellan år 2000 och 2199."),
        (_local(timezone.now() + timedelta(days=20)), "Prognosen kan ligga högst 14 dagar fram i tiden."),
    ],
)
def test_a_prognosis_out_of_bounds_is_refused_in_the_page(incident_in, sa, client_as, snapshot, expected, message):
    incident = incident_in("sesam_unreachable", "acknowledged")
    before = snapshot(incident)
    client = client_as(sa)
    response = client.post(reverse("incidents:prognosis", args=[incident.pk]), {"kind": "at", "expected_at": expected})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(incident) == before
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200


def test_a_prognosis_out_of_bounds_is_refused_by_the_api(incident_in, sa, api_client, snapshot):
    incident = incident_in("sesam_unreachable", "acknowledged")
    before = snapshot(incident)
    response = api_client(sa).put(
        f"/api/v1/incidents/{incident.pk}/prognosis",
        {"expected_at": (timezone.now() + timedelta(days=15)).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "högst 14 dagar fram" in response.json()["message"]
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    "since, message",
    [
        ("0001-01-01T00:00", "Ange en tidpunkt mellan år 2000 och 2199."),
        (_local(timezone.now() + timedelta(hours=3)), "”Sedan när” kan inte ligga i framtiden."),
        (_local(timezone.now() - timedelta(days=3)), "”Sedan när” kan ligga högst ett dygn före störningens start"),
    ],
)
def test_a_caller_reports_since_out_of_bounds_is_refused_and_the_incident_page_still_answers(
    incident_in, ks, client_as, snapshot, since, message
):
    incident = incident_in("sesam_unreachable", "escalated")
    before = snapshot(incident)
    client = client_as(ks)
    response = client.post(
        reverse("incidents:caller_report", args=[incident.pk]),
        {"functions": "Sparar inte", "prescribers": "2", "since": since},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(incident) == before
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200


def test_a_caller_report_since_shortly_before_the_start_is_accepted(incident_in, ks, client_as):
    incident = incident_in("sesam_unreachable", "escalated")
    since = _local(incident.began_at - timedelta(hours=5))
    response = client_as(ks).post(
        reverse("incidents:caller_report", args=[incident.pk]),
        {"functions": "Sparar inte", "prescribers": "2", "since": since},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("field", ["began_at", "reported_at"])
def test_the_database_refuses_an_incident_time_out_of_bounds(open_incident, field):
    incident = open_incident()
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(**{field: times.EARLIEST - timedelta(days=1)})


def test_the_database_refuses_a_time_out_of_bounds_inside_the_timeline(open_incident, require_postgres):
    incident = open_incident()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO incidents_timelineevent (incident_id, at, kind, actor_label, message, note, data)"
                " VALUES (%s, now(), 'caller_report', 'x', 'x', '', %s)",
                [incident.pk, json.dumps({"since": "0001-01-01T00:00:00+01:12"})],
            )


# --- a start that puts the reserve routine's deadline in the past -------------------------


def test_a_start_past_the_reserve_deadline_asks_for_confirmation_and_publishes_nothing(ks, client_as):
    began = _local(timezone.now() - timedelta(hours=5))
    report = {**REPORT, "scenario": "sesam_unreachable", "began_at": began}
    client = client_as(ks)
    response = client.post(reverse("incidents:report"), report)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Reservrutinen för akuta förskrivningar och dess notis på Vårdgivare Skåne startar direkt" in page
    assert 'name="bekrafta" value="reservrutin-direkt"' in page
    assert not Incident.objects.exists() and not Notification.objects.exists()

    confirmed = client.post(reverse("incidents:report"), {**report, "bekrafta": "reservrutin-direkt"})
    assert confirmed.status_code == 302
    assert Incident.objects.count() == 1


def test_a_start_within_the_reserve_deadline_needs_no_confirmation(ks, client_as):
    began = _local(timezone.now() - timedelta(hours=3))
    response = client_as(ks).post(
        reverse("incidents:report"), {**REPORT, "scenario": "sesam_unreachable", "began_at": began}
    )
    assert response.status_code == 302


def test_the_api_asks_for_the_same_confirmation(api_client, ks):
    client = api_client(ks)
    body = {
        "scenario": "sesam_unreachable",
        "summary": "Sesam svarar inte",
        "began_at": (timezone.now() - timedelta(hours=5)).isoformat(),
    }
    refused = client.post("/api/v1/incidents", body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "confirm.reservrutin-direkt"
    assert not Incident.objects.exists()
    accepted = client.post(
        "/api/v1/incidents", {**body, "confirm": ["reservrutin-direkt"]}, content_type="application/json"
    )
    assert accepted.status_code == 201


def test_every_time_in_the_timeline_stays_readable(open_incident, ks):
    """What the pages read back from the timeline is within bounds, so it parses."""
    incident = open_incident(began_at=timezone.now() - timedelta(hours=1))
    services.log_caller_report(ks, incident.pk, functions="x", since=timezone.now() - timedelta(hours=2))
    for event in TimelineEvent.objects.filter(incident=incident):
        for key in ("since", "began_at", "expected_at"):
            if event.data.get(key):
                assert times.EARLIEST.isoformat() <= event.data[key]
