"""A disruption from the first call to the history page, in a real browser, role by role."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    # The live server runs in its own thread: data must be committed for it to see it.
    pytest.mark.django_db(transaction=True),
]

SCENARIO = "Sesam LMN-server oåtkomlig för samtliga användare"
PHONE = {"width": 375, "height": 667}
# A time as the timeline shows it (Y-m-d H:i:s, Europe/Stockholm).
TIMELINE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def timeline_entry(page, text):
    """The one timeline entry whose text contains ``text``."""
    entry = page.locator("#tidslinje li.event").filter(has_text=text)
    expect(entry).to_have_count(1)
    return entry


def assert_logged(page, text, actor):
    """The step is on the timeline, with who did it and when."""
    entry = timeline_entry(page, text)
    expect(entry.locator(".event-who")).to_contain_text(actor)
    assert TIMELINE_TIME.match(entry.locator("time").inner_text().strip())
    assert entry.locator("time").get_attribute("datetime")


def press(page, button_name):
    page.get_by_role("button", name=button_name, exact=True).click()
    page.wait_for_load_state()


def assert_fits_phone(page):
    """No horizontal scroll, and every button can be scrolled to and lies on screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        widest = page.evaluate(
            """() => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
                .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + (e.id || ''))"""
        )
        raise AssertionError(f"page is {overflow}px wider than the phone screen: {widest}")
    buttons = page.locator("main button:visible")
    assert buttons.count() > 0
    for i in range(buttons.count()):
        button = buttons.nth(i)
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"button {button.inner_text()!r} is off screen: {box}"
        )
        assert box["height"] >= 24, f"button {button.inner_text()!r} is too small to tap"


def test_disruption_walkthrough_from_first_call_to_history(make_user, new_page, log_in, watch, settings):
    settings.LIVE_REFRESH_SECONDS = 1
    for role, username, first, last in [
        ("kundservice", "karin", "Karin", "Kundservice"),
        ("verksamhetsspecialist", "ville", "Ville", "Verksamhetsspecialist"),
        ("systemansvarig", "sam", "Sam", "Systemansvarig"),
        ("verksamhetsansvarig", "vera", "Vera", "Verksamhetsansvarig"),
    ]:
        user = make_user(role, username=username)
        user.first_name, user.last_name = first, last
        user.save()

    # The specialist has the live list open before anyone calls.
    specialist = new_page()
    log_in(specialist, "ville")
    expect(specialist.get_by_role("heading", level=1)).to_have_text("Pågående störningar")
    expect(specialist.get_by_text("Inga pågående störningar just nu.")).to_be_visible()

    # Kundservice takes the first call and reports it with the triage guide.
    agent = new_page()
    log_in(agent, "karin")
    agent.get_by_role("link", name="Anmäl störning").first.click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Anmäl störning")
    for question, answer in [
        ("Kan förskrivarna nå Sesam LMN?", "Nej"),
        ("Fungerar Region Skånes IT i övrigt?", "Ja"),
        ("Fungerar telefonerna?", "Ja"),
    ]:
        agent.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    proposal = agent.locator(".proposal")
    expect(proposal).to_contain_text(f"Förslag utifrån svaren: {SCENARIO}")
    confirm = agent.get_by_role("radio", name=SCENARIO)
    confirm.check()
    expect(confirm).to_be_checked()
    agent.get_by_label("Sammanfattning").fill("Förskrivare får ingen kontakt med Sesam LMN, inloggningen hänger.")
    agent.get_by_role("button", name="Anmäl störning").click()
    agent.wait_for_url(re.compile(r"/storning/\d+/$"))
    incident_url = agent.url
    expect(agent.get_by_role("status")).to_contain_text("Störningen är anmäld")
    expect(agent.get_by_role("heading", level=1)).to_contain_text(SCENARIO)
    expect(agent.locator("#incident-state")).to_have_text("Anmäld")
    assert_logged(agent, f"Störning anmäld: {SCENARIO}", "Karin Kundservice")

    # The specialist's list shows it by itself (htmx polling from the app's own static files).
    row_link = specialist.get_by_role("link", name=re.compile(SCENARIO))
    expect(row_link).to_be_visible(timeout=8000)
    assert specialist.url.endswith("/"), "the list was not reloaded by hand"
    expect(specialist.locator("#live-list")).to_contain_text("Anmäld")
    # Keyboard focus on the row survives the next refresh.
    refreshed_at = specialist.locator("#live-list .hint").inner_text()
    row_link.focus()
    expect(specialist.locator("#live-list .hint")).not_to_have_text(refreshed_at)
    assert specialist.evaluate("document.activeElement.id").startswith("live-incident-")
    row_link.click()
    press(specialist, "Eskalera till systemansvarig")
    expect(specialist.locator("#incident-state")).to_have_text("Eskalerad till SA")
    assert_logged(specialist, "Eskalera till systemansvarig – status: Eskalerad till SA", "Ville Verksamhetsspecialist")

    # SA works from a phone: acknowledges and gives a prognosis.
    sa = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(sa, "sam")
    sa.goto(incident_url)
    assert_fits_phone(sa)
    press(sa, "Kvittera")
    expect(sa.locator("#incident-state")).to_have_text("Kvitterad")
    assert_logged(sa, "Kvittera – status: Kvitterad", "Sam Systemansvarig")
    assert_fits_phone(sa)
    expected_back = timezone.localtime(timezone.now() + timedelta(hours=2))
    sa.get_by_label("Åter vid tidpunkt").check()
    sa.get_by_label("Förväntas åter").fill(expected_back.strftime("%Y-%m-%dT%H:%M"))
    press(sa, "Ange prognos")
    expect(sa.locator("#incident-prognosis")).to_contain_text(expected_back.strftime("%Y-%m-%d %H:%M"))
    assert_logged(sa, f"Prognos: åter {expected_back:%Y-%m-%d %H:%M}", "Sam Systemansvarig")

    # Service is back.
    press(sa, "Driften återställd")
    expect(sa.locator("#incident-state")).to_have_text("Åtgärdad")
    assert_logged(sa, "Driften återställd – status: Åtgärdad", "Sam Systemansvarig")

    # Informing callers was a duty while it lasted: it ended with the disruption, by itself.
    agent.goto(incident_url)
    agent_tasks = agent.locator("#uppgifter").get_by_role("button", name=re.compile(r"^Klar"))
    expect(agent_tasks).to_have_count(0)
    assert_logged(agent, "Pågående uppgift avslutad (Åtgärdad): Kundservice informerar", "Systemet")

    # Each role completes what is left of its own tasks.
    specialist.goto(incident_url)
    specialist_tasks = specialist.locator("#uppgifter").get_by_role("button", name=re.compile(r"^Klar"))
    # The vendor contact, plus the Servicedesk task when SA is off duty at this hour.
    expect(specialist_tasks.first).to_be_visible()
    left = specialist_tasks.count()
    assert left >= 1
    for remaining in range(left - 1, -1, -1):
        specialist_tasks.first.click()
        specialist.wait_for_load_state()
        expect(specialist_tasks).to_have_count(remaining)
    assert_logged(specialist, "Uppgift klar: Kontakt ska även tas med systemleverantör", "Ville Verksamhetsspecialist")

    # The owner of the routine reviews and closes it; it moves to the history.
    owner = new_page()
    log_in(owner, "vera")
    owner.goto(incident_url)
    owner.get_by_label("Vad hände").fill("Sesam LMN-servern låg nere i två timmar; SA gav prognos i tid.")
    press(owner, "Avsluta")
    expect(owner.locator("#incident-state")).to_have_text("Avslutad")
    assert_logged(owner, "Avsluta – status: Avslutad", "Vera Verksamhetsansvarig")
    for text, actor in [
        (f"Störning anmäld: {SCENARIO}", "Karin Kundservice"),
        ("Eskalera till systemansvarig – status", "Ville Verksamhetsspecialist"),
        ("Kvittera – status", "Sam Systemansvarig"),
        ("Prognos: åter", "Sam Systemansvarig"),
        ("Driften återställd – status", "Sam Systemansvarig"),
    ]:
        assert_logged(owner, text, actor)
    owner.get_by_role("link", name="Historik").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Historik")
    history_row = owner.get_by_role("row").filter(has_text=SCENARIO)
    expect(history_row).to_have_count(1)
    expect(history_row).to_contain_text("Avslutad")

    # Off the live list, which also refreshed by itself.
    expect(specialist.get_by_text("Inga pågående störningar just nu.")).to_be_hidden()
    specialist.get_by_role("link", name="Pågående störningar").first.click()
    expect(specialist.get_by_text("Inga pågående störningar just nu.")).to_be_visible()

    watch.check()
