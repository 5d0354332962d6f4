"""What to do now is on the first screen of the incident page, for every role, at 390x844 (a
phone) and 1366x900 (a laptop), in every state the routine takes an incident through: the
scenario, the state, how long since it began, the next deadline and the viewer's one next
thing lie within the viewport without scrolling (measured from their bounding boxes).

With ``SCREENSHOTS_DIR`` set (``bin/screenshots``) the first screens are also saved as PNGs.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services
from runbook import health

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"390x844": {"width": 390, "height": 844}, "1366x900": {"width": 1366, "height": 900}}
ROLES = {
    "kundservice": "karin",
    "systemansvarig": "sam",
    "verksamhetsspecialist": "ville",
    "verksamhetsansvarig": "vera",
}
ALWAYS = ("#cockpit-scenario", "#incident-state", "#cockpit-since")
# The state in which the README's screenshots are taken.
SCREENSHOT_STATE = "escalated"


def assert_on_first_screen(page, selector, size, where):
    element = page.locator(selector)
    expect(element).to_have_count(1)
    box = element.bounding_box()
    viewport = SIZES[size]
    assert box is not None, f"{selector} is not shown ({where})"
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (
        f"{selector} lies at {box['y']:.0f}–{box['y'] + box['height']:.0f} px, below the fold "
        f"of {viewport['height']} px ({where})"
    )
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{selector} is off screen ({where})"


def expected_next(role, state):
    """What the viewer's one next thing must hold (a check on the page's words)."""
    if role == "kundservice":
        return "#att-saga", "Att säga till förskrivare som ringer"
    if role == "systemansvarig" and state == "escalated":
        return "[data-next-step] button", "Kvittera"
    if role == "systemansvarig" and state == "acknowledged":
        return "#prognos-form button[type=submit]", "Ange prognos"
    if role == "verksamhetsspecialist" and state == "reported":
        return "[data-next-step] button", "Eskalera till systemansvarig"
    if role == "verksamhetsspecialist" and state == "awaiting_it_reported":
        return "[data-next-step] button", "Avvaktar IT"
    if role == "verksamhetsansvarig" and state in ("resolved", "reported", "escalated"):
        return "[data-next-step]", "Kan inte avslutas än"
    return "[data-next-step]", ""


def test_what_to_do_now_is_on_the_first_screen_for_every_role_size_and_state(
    make_user, new_page, log_in, live_server, settings
):
    settings.LIVE_REFRESH_SECONDS = 60  # nothing changes under the measurement
    health.beat(now=timezone.now())  # the scheduler runs: no warning banner above the page
    users = {}
    for role, username in ROLES.items():
        users[role] = make_user(role, username=username)
    pages = {}
    for role, username in ROLES.items():
        page = new_page(viewport=SIZES["390x844"])
        log_in(page, username)
        pages[role] = page
    shots = os.environ.get("SCREENSHOTS_DIR")

    began = timezone.now() - timedelta(minutes=40)
    incident = services.open_incident(
        users["kundservice"],
        scenario="sesam_unreachable",
        summary="Förskrivare får ingen kontakt med Sesam LMN; inloggningen hänger efter lösenordet.",
        began_at=began,
    )
    outage = services.open_incident(
        users["kundservice"], scenario="full_it_outage", summary="Inget av Region Skånes system svarar."
    )
    ks, sa, vs, va = (
        users[r] for r in ("kundservice", "systemansvarig", "verksamhetsspecialist", "verksamhetsansvarig")
    )
    steps = [
        ("reported", incident, lambda: None),
        ("escalated", incident, lambda: services.escalate(vs, incident.pk)),
        ("acknowledged", incident, lambda: services.acknowledge(sa, incident.pk)),
        (
            "prognosis",
            incident,
            lambda: services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(hours=2)),
        ),
        ("reserve_routine", incident, lambda: services.activate_reserve_routine(va, incident.pk)),
        ("resolved", incident, lambda: services.resolve(sa, incident.pk)),
        ("awaiting_it_reported", outage, lambda: None),
        ("awaiting_it", outage, lambda: services.await_it(vs, outage.pk)),
    ]
    measured = 0
    for state, subject, act in steps:
        act()
        # The scheduler keeps beating, as it does every TIMER_SWEEP_INTERVAL: however slowly
        # the measurements go, no warning of a silent scheduler is drawn above the page.
        health.beat(now=timezone.now())
        live = subject.is_live or state in ("reported", "awaiting_it_reported")
        for role, page in pages.items():
            # Loaded once at a phone's size, then measured again with the window widened: no
            # script of the app's lays the page out by the window's size, the stylesheet does.
            page.set_viewport_size(SIZES["390x844"])
            page.goto(f"/storning/{subject.pk}/")
            for size, viewport in SIZES.items():
                where = f"{role}, {state}, {size}"
                page.set_viewport_size(viewport)
                for selector in ALWAYS:
                    assert_on_first_screen(page, selector, size, where)
                if state in ("reported", "escalated", "acknowledged", "prognosis"):
                    assert_on_first_screen(page, "#cockpit-deadline", size, where)
                if live or state == "resolved":
                    assert_on_first_screen(page, "[data-next-step]", size, where)
                    selector, words = expected_next(role, state)
                    if words:
                        expect(page.locator(selector).first).to_contain_text(words)
                        assert_on_first_screen(page, f"{selector} >> nth=0", size, where)
                # The header is one line on a phone: its menu is behind a button.
                header = page.locator(".site-header").bounding_box()
                if size == "390x844":
                    assert header["height"] <= 64, f"the header takes {header['height']} px ({where})"
                    expect(page.locator(".site-menu nav")).to_be_hidden()
                else:
                    expect(page.locator(".site-menu nav")).to_be_visible()
                if shots and state == SCREENSHOT_STATE:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"incident-{role}-{size}.png"))
                measured += 1
    assert measured == len(steps) * len(ROLES) * len(SIZES)


def test_the_menu_opens_without_javascript_on_a_phone(make_user, browser, live_server, watch):
    make_user("kundservice", username="karin")
    context = watch.attach(
        browser.new_context(
            base_url=live_server.url,
            locale="sv-SE",
            viewport=SIZES["390x844"],
            java_script_enabled=False,
        )
    )
    page = context.new_page()
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill("karin")
    page.get_by_label("Lösenord").fill("ett-långt-testlösenord")
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/$"))
    history = page.get_by_role("link", name="Historik")
    expect(history).to_be_hidden()
    page.locator(".site-menu-button").click()
    expect(history).to_be_visible()
    history.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Historik")
    context.close()
