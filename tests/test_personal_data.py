"""Personnummer stay out of what the app stores without need: the urgent order's reference
refuses one however it is written, and the summary, notes and caller reports warn and ask
for confirmation before one is saved."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from incidents.personal_data import looks_like_personnummer

SPELLINGS = [
    "19121212-1212",
    "19121212–1212",  # en dash
    "19121212\u20101212",  # U+2010 hyphen
    "19121212_1212",
    "19121212/1212",
    "19121212.1212",
    "121212 1212",
    "12 12 12-12 12",
    "121212+1212",
    "19121212\u22121212",  # minus sign
]


@pytest.mark.parametrize("reference", SPELLINGS)
def test_a_reference_that_is_a_personnummer_in_any_spelling_is_refused(incident_in, ks, client_as, snapshot, reference):
    incident = incident_in("sesam_unreachable", "reserve_routine")
    before = snapshot(incident)
    response = client_as(ks).post(
        reverse("incidents:reserve_order", args=[incident.pk]),
        {"reference": reference, "product_area": "diabetes", "prescriber_unit": "VC Lund"},
    )
    assert response.status_code == 400
    assert "ser ut som ett personnummer" in response.content.decode()
    assert snapshot(incident) == before


@pytest.mark.parametrize("text", ["Blankett LMN-2026-0042", "ring 040-33 10 00", "070-123 45 67", "kl 10:15"])
def test_ordinary_text_is_not_taken_for_a_personnummer(text):
    assert not looks_like_personnummer(text)


REPORT = {
    "kundservice_reaches_sesam": "yes",
    "prescribers_reach_sesam": "no",
    "rest_of_it_up": "yes",
    "phones_work": "yes",
    "scenario": "telephony_fault",
    "action": "report",
}


def test_a_summary_with_a_personnummer_is_saved_only_after_confirmation(ks, client_as):
    client = client_as(ks)
    report = {**REPORT, "summary": "Patient 19121212–1212 får inget hjälpmedel"}
    warned = client.post(reverse("incidents:report"), report)
    page = warned.content.decode()
    assert warned.status_code == 400
    assert "ser ut att innehålla ett personnummer" in page
    assert 'value="personnummer"' in page
    assert not Incident.objects.exists()
    confirmed = client.post(reverse("incidents:report"), {**report, "bekrafta": "personnummer"})
    assert confirmed.status_code == 302 and Incident.objects.count() == 1


@pytest.mark.parametrize(
    "url_name, data",
    [
        ("note", {"text": "Ring tillbaka om 121212/1212"}),
        ("caller_report", {"functions": "Order för 19121212.1212 sparas inte", "prescribers": "1"}),
        ("caller_report", {"functions": "Sparar inte", "error_message": "pnr 121212_1212", "prescribers": "1"}),
    ],
)
def test_notes_and_caller_reports_with_a_personnummer_need_confirmation(
    incident_in, ks, client_as, snapshot, url_name, data
):
    incident = incident_in("sesam_unreachable", "escalated")
    before = snapshot(incident)
    client = client_as(ks)
    url = reverse(f"incidents:{url_name}", args=[incident.pk])
    warned = client.post(url, data)
    assert warned.status_code == 400
    assert "ser ut att innehålla ett personnummer" in warned.content.decode()
    assert snapshot(incident) == before
    assert client.post(url, {**data, "bekrafta": "personnummer"}).status_code == 302
    assert snapshot(incident) != before


def test_the_api_asks_to_confirm_a_summary_with_a_personnummer(api_client, ks):
    client = api_client(ks)
    body = {"scenario": "telephony_fault", "summary": "Gäller 19121212-1212"}
    refused = client.post("/api/v1/incidents", body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "confirm.personnummer"
    accepted = client.post("/api/v1/incidents", {**body, "confirm": ["personnummer"]}, content_type="application/json")
    assert accepted.status_code == 201
