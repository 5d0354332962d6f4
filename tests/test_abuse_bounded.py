"""Abuse is bounded: the API limits requests per token and per address (429 in its own error
shape), one person can open only so many incidents, and a long live list is paged."""

from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident


def test_one_token_is_limited_and_told_so_in_the_apis_shape(api_client, vs, settings):
    settings.API_RATE_PER_TOKEN = "5/m"
    client = api_client(vs)
    statuses = [client.get("/api/v1/incidents").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    refused = client.get("/api/v1/incidents")
    assert refused.json()["code"] == "rate_limited"
    assert "För många förfrågningar" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) == 60
    # Another person's token is counted on its own.
    assert api_client(vs).get("/api/v1/incidents").status_code == 200


def test_one_address_is_limited_whatever_tokens_it_uses(api_client, vs, settings):
    settings.API_RATE_PER_ADDRESS = "4/m"
    statuses = [api_client(vs).get("/api/v1/incidents").status_code for _ in range(6)]
    assert statuses == [200] * 4 + [429, 429]


def test_guessing_tokens_is_limited_too(db, client, settings):
    settings.API_RATE_PER_ADDRESS = "3/m"
    statuses = [
        client.get("/api/v1/incidents", headers={"Authorization": f"Bearer sesam_{n}"}).status_code for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_one_person_opens_only_so_many_incidents(api_client, ks, settings):
    settings.OPEN_INCIDENT_LIMIT = 3
    client = api_client(ks)
    body = {"scenario": "telephony_fault", "summary": "Växeln svarar inte"}
    statuses = [client.post("/api/v1/incidents", body, content_type="application/json").status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert Incident.objects.count() == 3


def test_opening_too_many_from_the_page_is_refused_with_a_message(ks, client_as, settings, open_incident):
    settings.OPEN_INCIDENT_LIMIT = 1
    open_incident(by=ks)
    response = client_as(ks).post(
        reverse("incidents:report"),
        {
            "kundservice_reaches_sesam": "yes",
            "prescribers_reach_sesam": "yes",
            "rest_of_it_up": "yes",
            "phones_work": "no",
            "scenario": "telephony_fault",
            "summary": "Igen",
            "action": "report",
        },
    )
    assert response.status_code == 429
    assert "Du har anmält 1 störningar de senaste 10 minuterna" in response.content.decode()
    assert Incident.objects.count() == 1


def test_a_long_live_list_is_paged(vs, client_as, settings, make_user):
    from incidents import services
    from incidents.views import LIVE_PAGE_SIZE

    settings.OPEN_INCIDENT_LIMIT = 0
    reporter = make_user("kundservice")
    for n in range(LIVE_PAGE_SIZE + 3):
        services.open_incident(reporter, scenario="telephony_fault", summary=f"Nr {n}")
    client = client_as(vs)
    first = client.get(reverse("incidents:live")).content.decode()
    assert first.count('id="live-incident-') == LIVE_PAGE_SIZE
    assert f"{LIVE_PAGE_SIZE + 3} pågående" in first
    assert 'href="?sida=2"' in first
    second = client.get(reverse("incidents:live") + "?sida=2").content.decode()
    assert second.count('id="live-incident-') == 3
    assert timezone.now()
