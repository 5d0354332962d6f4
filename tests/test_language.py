"""Swedish first, English on request (the language form in the header posts to /sprak/)."""

import pytest
from django.urls import reverse

from incidents.models import TimelineEvent

pytestmark = pytest.mark.django_db


def test_pages_are_swedish_by_default(client, ks):
    client.force_login(ks)
    content = client.get(reverse("incidents:live"), HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert '<html lang="sv">' in content
    assert "<h1>Pågående störningar</h1>" in content


def test_switching_language_to_english_shows_english_headings(client, ks, open_incident):
    incident = open_incident()
    client.force_login(ks)

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)

    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "<h1>Ongoing disruptions</h1>" in content
    assert "Report a disruption" in content
    assert "Pågående störningar" not in content
    detail = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "What to tell prescribers who call" in detail
    assert "Timeline" in detail
    history = client.get(reverse("review:history")).content.decode()
    assert "<h1>History</h1>" in history


def test_switching_back_to_swedish(client, ks):
    client.force_login(ks)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.post(reverse("set_language"), {"language": "sv", "next": "/"}, follow=True)
    assert "<h1>Pågående störningar</h1>" in response.content.decode()


def test_timeline_is_written_in_swedish_whatever_language_the_actor_reads(client, vs, open_incident):
    incident = open_incident()
    client.force_login(vs)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    response = client.post(reverse("incidents:transition", args=[incident.pk, "escalate"]), {"note": ""})

    assert response.status_code == 302
    event = incident.events.filter(kind=TimelineEvent.Kind.TRANSITION).get()
    assert event.message == "Eskalera till systemansvarig – status: Eskalerad till SA"
    assert "(Verksamhetsspecialist)" in event.actor_label
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Escalate to system manager: done." in page


def test_refusal_is_shown_in_the_readers_language(client, ks, open_incident):
    incident = open_incident()
    client.force_login(ks)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    response = client.post(reverse("incidents:prognosis", args=[incident.pk]), {"kind": "none"})

    assert response.status_code == 403
    assert "You do not have permission to do this." in response.content.decode()


def test_why_an_incident_cannot_be_closed_is_given_in_the_readers_language(client, va, open_incident):
    from incidents import services

    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    client.force_login(va)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    response = client.post(
        reverse("incidents:transition", args=[incident.pk, "close"]), {"what_happened": "Kabelfel i växeln."}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "Cannot be closed yet:" in page and "tasks not done:" in page
    assert "uppgifter är inte klara" not in page


def test_each_language_is_offered_in_its_own_name(client, ks):
    client.force_login(ks)
    page = client.get(reverse("incidents:live")).content.decode()
    assert 'lang="en">English</option>' in page and 'lang="sv">Svenska</option>' in page
    assert "Engelska" not in page


def test_a_browser_asking_for_english_still_gets_swedish(client, ks, open_incident):
    incident = open_incident()
    client.force_login(ks)
    for url in (reverse("incidents:live"), reverse("incidents:detail", args=[incident.pk])):
        content = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
        assert '<html lang="sv">' in content
        assert "Pågående störningar" in content


def test_the_login_page_is_swedish_for_an_english_browser(client):
    content = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="sv">' in content


def test_the_api_still_answers_in_the_language_a_tool_asks_for(api_client, ks):
    response = api_client(ks, HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/incidents/999999/transitions/escalate", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["message"] and "hittades" not in response.json()["message"]


def test_a_chosen_language_is_kept_for_that_person_on_another_device(client, ks):
    from django.test import Client

    client.force_login(ks)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    other_device = Client()
    other_device.force_login(ks)
    content = other_device.get(reverse("incidents:live")).content.decode()
    assert '<html lang="en">' in content and "<h1>Ongoing disruptions</h1>" in content


def test_another_persons_choice_on_a_shared_computer_does_not_carry_over(client, ks, sa):
    client.force_login(ks)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.logout()  # the English cookie stays in this browser

    client.force_login(sa)
    content = client.get(reverse("incidents:live")).content.decode()
    assert '<html lang="sv">' in content
