"""The caller script follows the incident's state, and the clocks show only deadlines that can
still fire (incidents.cockpit). Asserted on the pages Kundservice and the others read."""

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from incidents import services, timers
from incidents.models import Timer
from timer_support import restore_seed_data

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A Tuesday morning: SA on duty; the 4-hour deadline of an incident begun now is 13:00.
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=STOCKHOLM)
WAIT = "Vänligen avvakta och försök igen senare."


@pytest.fixture(autouse=True)
def _seed_data(db):
    restore_seed_data()


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


def page_of(client, user, incident):
    client.force_login(user)
    response = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(body, element_id):
    start = body.index(f'id="{element_id}"')
    return body[start : body.index("</section>", start)]


def script_lines(body):
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip())
        for li in re.findall(r"<li>(.*?)</li>", section(body, "att-saga"), re.S)
    ]


def clock_texts(body):
    if 'id="klockor"' not in body:
        return []
    return [html.unescape(t) for t in re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", section(body, "klockor"))]


def at(hour, minute=0):
    return datetime(2026, 11, 24, hour, minute, tzinfo=STOCKHOLM)


def test_while_sesam_is_unreachable_callers_are_asked_to_wait(clock, client, ks, open_incident):
    incident = open_incident()
    lines = script_lines(page_of(client, ks, incident))
    assert lines[0].startswith("Sesam LMN går just nu inte att nå")
    assert WAIT in lines
    assert not any("reservrutin" in line.lower() for line in lines)
    # Not escalated yet: the script must not tell callers that IT has been told.
    assert not any("är anmält" in line or "har anmälts" in line for line in lines)


def test_with_a_prognosis_the_script_says_when_service_is_expected(clock, client, ks, sa, vs, open_incident):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, at(15))
    lines = script_lines(page_of(client, ks, incident))
    assert lines[1] == "Enligt prognosen från Region Skånes IT fungerar det igen omkring kl. 15:00."

    services.record_prognosis(sa, incident.pk, None)
    lines = script_lines(page_of(client, ks, incident))
    assert lines[1] == "Det finns ännu ingen prognos för när det fungerar igen."

    # A prognosis that has passed counts as missing: the script promises nothing.
    services.record_prognosis(sa, incident.pk, at(9, 30))
    clock.move_to(at(9, 45))
    lines = script_lines(page_of(client, ks, incident))
    assert not any("Enligt prognosen" in line or "ingen prognos" in line for line in lines)


def test_during_the_reserve_routine_the_script_says_so_and_the_order_form_is_one_tap_away(
    clock, client, ks, vs, open_incident
):
    incident = open_incident()
    services.activate_reserve_routine(vs, incident.pk)
    body = page_of(client, ks, incident)
    lines = script_lines(body)
    assert WAIT not in lines
    assert lines[0] == "Sesam LMN går fortfarande inte att nå. Reservrutin för akuta förskrivningar gäller."
    assert any("Reservrutin förskrivning Sesam LMN" in line and "Beställningsblankett LMN" in line for line in lines)
    script = section(body, "att-saga")
    assert 'href="#akut-forskrivning"' in script and "Registrera akut förskrivning" in script


def test_the_anchor_leads_to_the_form_that_takes_an_urgent_order(clock, client, ks, vs, open_incident):
    incident = open_incident()
    services.activate_reserve_routine(vs, incident.pk)
    body = page_of(client, ks, incident)
    form = re.search(r'<form method="post" action="([^"]+)" id="akut-forskrivning"', body)
    assert form and form.group(1) == reverse("incidents:reserve_order", args=[incident.pk])


def test_after_service_is_restored_the_script_says_so_and_what_happens_to_urgent_orders(
    clock, client, ks, sa, vs, open_incident
):
    incident = open_incident()
    services.activate_reserve_routine(vs, incident.pk)
    services.resolve(sa, incident.pk)
    lines = script_lines(page_of(client, ks, incident))
    assert lines[0].startswith("Driften är återställd: Sesam LMN går att nå igen")
    assert any("Akuta förskrivningar som togs emot under reservrutinen förs in i Sesam LMN" in line for line in lines)
    assert WAIT not in lines

    # Without a reserve routine there were no urgent orders to speak of.
    other = open_incident(summary="En kortare störning")
    services.resolve(sa, other.pk)
    lines = script_lines(page_of(client, ks, other))
    assert lines[0].startswith("Driften är återställd")
    assert not any("reservrutin" in line for line in lines)


@pytest.mark.parametrize(
    "scenario, words",
    [
        ("kundservice_link_loss", "Kundservice har kontakt med Sesam LMN igen"),
        ("telephony_fault", "telefonin fungerar igen"),
        ("full_it_outage", "Sesam LMN går att nå igen"),
    ],
)
def test_every_scenario_has_words_for_service_restored(clock, client, ks, va, open_incident, scenario, words):
    incident = open_incident(scenario=scenario)
    services.resolve(va, incident.pk)
    lines = script_lines(page_of(client, ks, incident))
    assert any(words in line for line in lines)
    # Someone recorded the restoration; nothing says IT announced it.
    assert not any("har meddelat" in line for line in lines)


def test_a_closed_incident_has_no_script(clock, client, ks, va, open_incident):
    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    for task in incident.tasks.filter(done_at__isnull=True):
        services.complete_task(va, task.pk)
    services.close(va, incident.pk, review="Telefonin var nere en stund.")
    assert 'id="att-saga"' not in page_of(client, ks, incident)


def test_a_valid_prognosis_holds_the_reserve_routine_and_the_clock_says_until_when(
    clock, client, ks, sa, vs, open_incident
):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, at(15))
    texts = clock_texts(page_of(client, ks, incident))
    held = "Reservrutinen hålls av prognos till 15:00 och aktiveras då om ingen ny prognos ges"
    assert held in texts
    assert not any("Reservrutin aktiveras 13:00" in t for t in texts)
    client.force_login(ks)
    assert held in html.unescape(client.get(reverse("incidents:live")).content.decode())

    # At 13:00 the deadline is held (the sweep re-arms it at the prognosis): the clock reads the same.
    clock.move_to(at(13) + timedelta(seconds=1))
    timers.fire_due_timers()
    assert held in clock_texts(page_of(client, ks, incident))

    # A prognosis before the 4 hours holds nothing: the deadline stays 13:00.
    clock.move_to(at(9, 5))
    other = open_incident(summary="Sesam LMN igen")
    services.escalate(vs, other.pk)
    services.acknowledge(sa, other.pk)
    services.record_prognosis(sa, other.pk, at(11))
    texts = clock_texts(page_of(client, ks, other))
    assert "Reservrutin aktiveras 13:05 om prognos saknas" in texts
    assert not any("hålls av prognos" in t for t in texts)


def test_the_clocks_show_only_deadlines_that_can_still_fire(clock, client, ks, sa, vs, open_incident):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    texts = clock_texts(page_of(client, ks, incident))
    assert any(t.startswith("Enhetschef för SA kontaktas") for t in texts)
    assert any(t.startswith("Reservrutin aktiveras") for t in texts)

    services.acknowledge(sa, incident.pk)
    texts = clock_texts(page_of(client, ks, incident))
    assert not any(t.startswith("Enhetschef för SA kontaktas") for t in texts)

    # A reminder left for a prognosis that has since been replaced cannot fire: not shown.
    services.record_prognosis(sa, incident.pk, at(12))
    assert "Prognosen passerar 12:00 – påminnelse om ny prognos" in clock_texts(page_of(client, ks, incident))
    Timer.objects.filter(incident=incident, kind=Timer.Kind.PROGNOSIS_PASSED).update(due_at=at(11))
    services.add_note(sa, incident.pk, "Ändrar sidan")  # a new version of the page
    texts = clock_texts(page_of(client, ks, incident))
    assert not any("Prognosen passerar" in t for t in texts)

    # In the reserve routine the 4-hour deadline is spent, even if a row were left pending.
    services.activate_reserve_routine(vs, incident.pk)
    Timer.objects.create(incident=incident, kind=Timer.Kind.RESERVE_ROUTINE, due_at=at(13))
    texts = clock_texts(page_of(client, ks, incident))
    assert not any("Reservrutin" in t for t in texts)

    # Ended: no clocks at all.
    services.resolve(sa, incident.pk)
    assert clock_texts(page_of(client, ks, incident)) == []
    assert timezone.now() == at(9)


def test_a_prognosis_on_another_day_shows_its_date_on_the_held_clock(clock, client, ks, sa, vs, open_incident):
    """Held to tomorrow 08:00, the clock must not read "till 08:00", which says this morning."""
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, at(8) + timedelta(days=1))
    held = "Reservrutinen hålls av prognos till 2026-11-25 08:00 och aktiveras då om ingen ny prognos ges"
    assert held in clock_texts(page_of(client, ks, incident))
    client.force_login(ks)
    assert held in html.unescape(client.get(reverse("incidents:live")).content.decode())
