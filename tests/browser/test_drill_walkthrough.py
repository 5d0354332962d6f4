"""A compressed drill of sesam_unreachable, from the leader's start form to the scorecard, in
a real browser by four people in their roles: the specialist escalates, the leader injects
"SA svarar inte", SA's fallback path is taken and done, SA acknowledges late and reports
service back, the leader closes; the scorecard shows the fallback path and the injection.
The real list of Pågående störningar never shows the drill; every page of it says ÖVNING."""

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from incidents.models import DutyHours, Incident
from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 - the fixture
from timer_support import restore_seed_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCENARIO = "Sesam LMN-server oåtkomlig för samtliga användare"
PEOPLE = [
    ("verksamhetsansvarig", "vera", "Vera", "Ledare"),
    ("verksamhetsspecialist", "ville", "Ville", "Specialist"),
    ("systemansvarig", "sam", "Sam", "Systemansvarig"),
    ("kundservice", "karin", "Karin", "Kundservice"),
]


def press(page, name):
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def test_a_compressed_drill_with_sa_not_answering_ends_in_a_scorecard(
    make_user,
    new_page,
    log_in,
    watch,
    axe_source,  # noqa: F811
    settings,
):
    restore_seed_data()
    settings.LIVE_REFRESH_SECONDS = 1
    # SA on duty whenever the test runs: the escalation waits for an acknowledgement.
    DutyHours.objects.all().delete()
    DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(0), end=time(23, 59, 59)) for d in range(7))
    for role, username, first, last in PEOPLE:
        user = make_user(role, username=username)
        user.first_name, user.last_name = first, last
        user.save()

    # The leader starts the drill on a phone: the scenario, who takes part, 4 hours in 8 minutes.
    leader = new_page(viewport=WIDTHS["phone"], is_mobile=True, has_touch=True)
    log_in(leader, "vera")
    leader.locator("#meny summary").click()  # the phone's menu
    leader.locator("#meny").get_by_role("link", name="Övningar").click()
    expect(leader.get_by_role("heading", level=1)).to_have_text("Övningar")
    sweep = Sweep(leader, axe_source, watch)
    sweep.check("Övningar: starta")
    leader.set_viewport_size(WIDTHS["phone"])
    leader.reload()  # the sweep leaves the menu open
    leader.get_by_role("radio", name=SCENARIO).check()
    for name in ("Ville Specialist", "Sam Systemansvarig", "Karin Kundservice"):
        leader.get_by_role("checkbox", name=re.compile(name)).check()
    leader.get_by_role("radio", name=re.compile("4 timmar på 8 minuter")).check()
    press(leader, "Starta övning")
    leader.wait_for_url(re.compile(r"/storning/\d+/(#.*)?$"))
    drill_url = leader.url.split("#")[0]
    drill = Incident.objects.get(pk=int(drill_url.rstrip("/").rsplit("/", 1)[1]))
    assert drill.is_drill and drill.time_scale == 30
    expect(leader.locator("#ovning")).to_contain_text("ÖVNING – inte en verklig störning")
    assert leader.title().startswith("ÖVNING")

    # Kundservice's live list: nothing in the real list, the drill shown apart.
    agent = new_page()
    log_in(agent, "karin")
    expect(agent.get_by_text("Inga pågående störningar just nu.")).to_be_visible()
    expect(agent.locator("#live-list > .table-wrap")).to_have_count(0)  # the real list
    apart = agent.locator("#ovningar-pagar")
    expect(apart).to_contain_text("Övningar pågår")
    expect(apart.get_by_role("link", name=re.compile(SCENARIO))).to_be_visible()

    # The specialist escalates to SA, as in a real disruption.
    specialist = new_page()
    log_in(specialist, "ville")
    specialist.goto(drill_url)
    expect(specialist.locator("#ovning")).to_be_visible()
    press(specialist, "Eskalera till systemansvarig")
    expect(specialist.locator("#incident-state")).to_have_text("Eskalerad till SA")

    # SA does not answer: the leader injects it, and SA's fallback is taken at once.
    leader.goto(drill_url)
    panel = leader.locator("#inspel")
    panel.get_by_role("button", name="SA svarar inte").click()
    leader.wait_for_load_state()
    timeline = leader.locator("#tidslinje")
    expect(timeline).to_contain_text("Inspel: SA svarar inte")
    expect(timeline).to_contain_text("enhetschef för SA kontaktas")

    # The specialist does what the fallback asks (contact SA's manager, Servicedesk).
    specialist.goto(drill_url)
    fallback_tasks = specialist.locator("#uppgifter").get_by_role("button", name=re.compile(r"^Klar"))
    expect(fallback_tasks.first).to_be_visible()
    for remaining in range(fallback_tasks.count() - 1, -1, -1):
        fallback_tasks.first.click()
        specialist.wait_for_load_state()
        expect(fallback_tasks).to_have_count(remaining)

    # SA answers late from a phone and reports service back.
    sa = new_page(viewport=WIDTHS["phone"], is_mobile=True, has_touch=True)
    log_in(sa, "sam")
    sa.goto(drill_url)
    expect(sa.locator("#ovning")).to_be_visible()
    press(sa, "Kvittera")
    expect(sa.locator("#incident-state")).to_have_text("Kvitterad")
    press(sa, "Driften återställd")
    expect(sa.locator("#incident-state")).to_have_text("Åtgärdad")

    # What is left is ticked by those it belongs to; the leader closes the drill.
    for page in (specialist, leader):
        page.goto(drill_url)
        left = page.locator("#uppgifter").get_by_role("button", name=re.compile(r"^Klar"))
        for remaining in range(left.count() - 1, -1, -1):
            left.first.click()
            page.wait_for_load_state()
            expect(left).to_have_count(remaining)
    leader.goto(drill_url)
    leader.get_by_label("Vad hände").fill("Övning: SA svarade inte, reservvägen via enhetschefen togs.")
    press(leader, "Avsluta")
    expect(leader.locator("#incident-state")).to_have_text("Avslutad")

    # The scorecard: the fallback path, the injection and how it was answered, in real time.
    leader.goto(f"/ovningar/{drill.pk}/resultat/")
    expect(leader.locator("#ovning")).to_be_visible()
    expect(leader.get_by_role("heading", level=1)).to_contain_text(SCENARIO)
    expect(leader.locator(".fallback")).to_contain_text("SA:s reservväg togs")
    injections = leader.locator(".score-injections")
    expect(injections).to_contain_text("SA svarar inte")
    expect(injections).to_contain_text("Besvarat efter")
    expect(leader.locator(".score-figure")).to_contain_text("steg")
    expect(leader.get_by_text("30 gånger snabbare")).to_be_visible()
    sweep.check("Övningens resultat")
    sweep.assert_clean()

    # Still never in the real list, nor in Historik's default view.
    agent.goto("/")
    expect(agent.get_by_text("Inga pågående störningar just nu.")).to_be_visible()
    leader.goto("/historik/")
    expect(leader.get_by_role("row").filter(has_text=SCENARIO)).to_have_count(0)
