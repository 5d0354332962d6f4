"""Övningar as people see them: the start page, ÖVNING on every page of a drill, the break-off
button, and drills kept apart from the real work (live list, Historik, Nyckeltal, the API)."""

import re

import pytest
from django.urls import reverse

from incidents import drills
from incidents.models import Drill, Incident

pytestmark = pytest.mark.django_db

START = "/ovningar/"


def _start_form(**overrides):
    data = {"scenario": "sesam-lmn:sesam_unreachable", "tempo": "30", "custom_scale": "", "summary": ""}
    data.update(overrides)
    return data


def test_only_the_business_side_sees_the_drill_page_and_its_menu_link(client_as, va, vs, ks, sa, tel):
    for person in (ks, sa, tel):
        client = client_as(person)
        assert client.get(START).status_code == 403
        assert client.post(START, _start_form(participants=[person.pk])).status_code == 403
        assert 'href="/ovningar/"' not in client.get("/").content.decode()
    assert not Incident.objects.exists()
    for person in (va, vs):
        client = client_as(person)
        page = client.get(START)
        assert page.status_code == 200
        assert 'href="/ovningar/"' in client.get("/").content.decode()


def test_the_start_form_offers_the_scenarios_in_force_and_people_by_role(client_as, va, ks, sa, make_user):
    make_user("kundservice", username="slutat").__class__.objects.filter(username="slutat").update(is_active=False)
    make_user(username="utan-roll")
    html = client_as(va).get(START).content.decode()

    assert 'value="sesam-lmn:sesam_unreachable"' in html and 'value="sesam-lmn:telephony_fault"' in html
    # One routine in force: no routine to choose.
    assert "(version 1)" not in html
    # People grouped under their role; those without a role or no longer active are not offered.
    assert html.index("<legend>Kundservice</legend>") < html.index(f'value="{ks.pk}"')
    assert html.index("<legend>Systemansvarig</legend>") < html.index(f'value="{sa.pk}"')
    assert "Slutat" not in html and "Utan-Roll" not in html
    # The presets of the time scale and a field of one's own.
    for label in ("Realtid", "4 timmar på 8 minuter", "4 timmar på 2 minuter", "Egen tidsskala"):
        assert label in html


def test_starting_a_drill_opens_its_page_marked_as_a_drill(client_as, va, ks, sa):
    client = client_as(va)
    response = client.post(START, _start_form(participants=[ks.pk, sa.pk], summary="Höstens övning"))

    drill = Incident.objects.get()
    assert response.status_code == 302 and response.url == reverse("incidents:detail", args=[drill.pk])
    assert drill.is_drill and drill.time_scale == 30 and drill.summary == "Höstens övning"
    assert set(Drill.objects.get(incident=drill).participants.all()) == {ks, sa}
    page = client.get(response.url).content.decode()
    assert "ÖVNING – inte en verklig störning" in page
    assert "tiden går 30 gånger fortare" in page.lower()
    assert re.search(r"<title>\s*ÖVNING", page)


@pytest.mark.parametrize(
    ("tempo", "custom", "scale"),
    [("1", "", 1), ("120", "", 120), ("egen", "45", 45), ("egen", "1", 1), ("30", "30", 30)],
)
def test_the_time_scale_is_a_preset_or_a_number_of_ones_own(client_as, va, ks, tempo, custom, scale):
    response = client_as(va).post(START, _start_form(participants=[ks.pk], tempo=tempo, custom_scale=custom))
    assert response.status_code == 302
    assert Incident.objects.get().time_scale == scale


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"scenario": ""}, "Välj vilket scenario som övas."),
        ({"scenario": "sesam-lmn:no_such"}, "Välj ett giltigt alternativ"),
        ({"scenario": "annan-rutin:sesam_unreachable"}, "Välj ett giltigt alternativ"),
        ({"participants": []}, "Välj minst en deltagare."),
        ({"participants": ["987654"]}, "Okänd deltagare."),
        ({"participants": ["x"]}, "Okänd deltagare."),
        ({"tempo": "egen", "custom_scale": ""}, "Skriv hur många gånger fortare klockorna ska gå."),
        ({"tempo": "egen", "custom_scale": "0"}, "Ett heltal från 1 till 120."),
        ({"tempo": "egen", "custom_scale": "121"}, "Ett heltal från 1 till 120."),
        ({"tempo": "egen", "custom_scale": "fort"}, "Ett heltal från 1 till 120."),
        ({"tempo": "60"}, "Välj ett giltigt alternativ"),
        ({"tempo": "30", "custom_scale": "90"}, "Du har valt en tidsskala och skrivit en annan."),
        ({"summary": "x" * 501}, "Högst 500 tecken"),
    ],
)
def test_a_refused_start_says_why_beside_the_form_and_creates_nothing(client_as, va, ks, overrides, said):
    data = _start_form(participants=[ks.pk])
    data.update(overrides)
    response = client_as(va).post(START, data)

    assert response.status_code == 400
    assert said in response.content.decode()
    assert not Incident.objects.exists() and not Drill.objects.exists()


def test_a_refusal_of_the_service_is_said_beside_the_form(client_as, va, ks, monkeypatch):
    from runbook.errors import ActionRefused

    def refuse(*args, **kwargs):
        raise ActionRefused("Ingen övningsmottagare är inställd för driftinfo.", code="invalid")

    monkeypatch.setattr(drills, "start_drill", refuse)
    response = client_as(va).post(START, _start_form(participants=[ks.pk], summary="Behålls"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ingen övningsmottagare är inställd för driftinfo." in html
    # What was chosen is kept.
    assert f'value="{ks.pk}" id="deltagare-{ks.pk}" checked' in html and "Behålls" in html


def test_the_page_lists_running_drills_and_ended_ones_newest_first(client_as, va, ks):
    first = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary="Första")
    second = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk], summary="Andra")
    running = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary="Pågår")
    drills.break_off(va, first.pk, "Verklig störning")
    drills.break_off(va, second.pk, "Slut för idag")

    html = client_as(va).get(START).content.decode()
    running_part = html[html.index('id="pagaende-ovningar"') : html.index('id="starta"')]
    ended_part = html[html.index('id="avslutade-ovningar"') :]
    assert f'href="/storningar/{running.pk}/"' in running_part or f"#{running.pk} " in running_part
    assert "Pågår" in running_part and "Första" not in running_part
    assert ended_part.index("Andra") < ended_part.index("Första")
    assert "Slut för idag" in ended_part


def test_ended_drills_are_paginated(client_as, va, ks):
    from drills.views import ENDED_PAGE_SIZE

    for n in range(ENDED_PAGE_SIZE + 1):
        drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], summary=f"Övning nr {n}")
        drills.break_off(va, drill.pk, "Klar")
    client = client_as(va)
    first = client.get(START).content.decode()
    assert "Övning nr 0<" not in first and f"Övning nr {ENDED_PAGE_SIZE}<" in first
    assert "sida=2" in first
    second = client.get(START + "?sida=2").content.decode()
    assert "Övning nr 0<" in second
