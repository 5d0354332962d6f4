"""Keeping the routine in a browser: Verksamhetsspecialist changes a step's time limit in the
draft; Verksamhetsansvarig reads the change in words and publishes it with a reason; the new
version is then the one in force. Every page on the way meets WCAG 2.1 AA (axe)."""

import re

import pytest
from playwright.sync_api import expect

from routines import loader
from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SESAM = "Sesam LMN-server oåtkomlig för samtliga användare"
CHANGE = f"Steg 1 i {SESAM}: tidsgräns 5 min → 10 min"


def test_a_specialist_changes_a_time_limit_and_the_chief_publishes_it(make_user, new_page, log_in, axe_source, watch):  # noqa: F811
    make_user("verksamhetsspecialist", username="vera")
    make_user("verksamhetsansvarig", username="anders")

    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, "vera")
    sweep = Sweep(page, axe_source, watch)
    menu = page.locator("summary", has_text="Meny")
    if menu.is_visible():  # on a phone the menu is behind a button
        menu.click()
    page.get_by_role("link", name="Rutinen", exact=True).click()
    page.get_by_role("link", name="Alla versioner").click()
    sweep.check("Rutinens versioner")
    page.get_by_role("button", name="Ändra rutinen (öppna utkastet)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utkast till version 2 av Driftstörningsrutin Sesam LMN")
    sweep.check("Utkastet")
    page.get_by_role("link", name=SESAM).click()
    sweep.check("Scenariot i utkastet")
    step = page.get_by_role("group", name="Steg 1", exact=True)
    step.get_by_label("Ska vara gjort inom (minuter, tomt: ingen gräns)").fill("10")
    page.get_by_role("button", name="Spara scenariot").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Scenariot är sparat i utkastet.")
    sweep.check("Scenariot efter att det sparats")
    step = page.get_by_role("group", name="Steg 1", exact=True)
    step.get_by_label("Ska vara gjort inom (minuter, tomt: ingen gräns)").fill("0")
    page.get_by_role("button", name="Spara scenariot").click()
    expect(page.locator(".error-summary")).to_contain_text(f"{SESAM}, steg 1, tidsgräns: en tid över noll behövs")
    sweep.check("Scenariot med fel")
    page.get_by_role("link", name="Utkast till version 2").click()
    expect(page.get_by_text(CHANGE)).to_be_visible()
    expect(page.get_by_role("link", name="Publicera …")).to_have_count(0)

    chief = new_page(viewport=WIDTHS["desktop"])
    log_in(chief, "anders")
    sweep = Sweep(chief, axe_source, watch)
    chief.goto("/rutin/versioner/")
    chief.get_by_role("link", name="Öppna utkastet").click()
    expect(chief.get_by_text(CHANGE)).to_be_visible()
    chief.get_by_role("link", name="Publicera …").click()
    expect(chief.get_by_text(CHANGE)).to_be_visible()
    sweep.check("Publicera")
    chief.get_by_role("button", name="Publicera version 2").click()
    expect(chief.locator(".field-error")).to_contain_text("Skriv kort varför rutinen ändras.")
    sweep.check("Publicera utan skäl")
    chief.get_by_label("Varför ändras rutinen?").fill("Fem minuter räcker inte för att nå SA")
    chief.get_by_role("button", name="Publicera version 2").click()
    chief.wait_for_url(re.compile(r"/rutin/versioner/"))
    expect(chief.locator("#bekraftelse")).to_contain_text("Version 2 är publicerad och är nu den version som gäller.")
    row = chief.locator("tr", has_text="Fem minuter räcker inte för att nå SA")
    expect(row).to_contain_text("Publicerad")
    expect(row).to_contain_text("Anders")
    sweep.check("Rutinens versioner efter publicering")
    sweep.assert_clean()

    in_force = loader.in_force()
    assert in_force.number == 2
    assert in_force.scenario("sesam_unreachable").steps[0].within.total_seconds() == 600


def test_a_new_routine_is_started_and_filled_in_on_a_phone(make_user, new_page, log_in, axe_source, watch):  # noqa: F811
    make_user("verksamhetsansvarig", username="anders")
    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, "anders")
    sweep = Sweep(page, axe_source, watch)
    page.goto("/rutin/versioner/")
    page.get_by_role("link", name="Ny rutin …").click()
    sweep.check("Ny rutin")
    page.get_by_label("Rutinens namn").fill("Driftstörningsrutin Journalia")
    page.get_by_label("IT-system").fill("Journalia")
    page.get_by_label("Nyckel").fill("journalia")
    page.get_by_role("button", name="Lägg till rutinen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utkast till version 1 av Driftstörningsrutin Journalia")
    sweep.check("En ny rutins tomma utkast")

    scenario = page.get_by_role("group", name="Nytt scenario")
    scenario.get_by_label("Rubrik").fill("Journalia går inte att nå")
    scenario.get_by_label("Rutinens text").fill("Journalia kan inte nås av någon.")
    scenario.get_by_label("Första stegets roll").select_option("verksamhetsspecialist")
    scenario.get_by_label("Första stegets text").fill("Rapportera omgående till SA.")
    page.get_by_role("button", name="Lägg till scenariot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journalia går inte att nå")
    sweep.check("Ett nytt scenario")
    page.get_by_role("group", name="Scenariot använder").get_by_label("Eskalering till SA").check()
    step = page.get_by_role("group", name="Steg 1", exact=True)
    step.get_by_label("Görs av").select_option("escalate")
    page.get_by_role("button", name="Spara scenariot").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Scenariot är sparat i utkastet.")
    page.get_by_role("group", name="Scenariot använder").get_by_label("Eskalering till SA").uncheck()
    page.get_by_role("button", name="Spara scenariot").click()
    expect(page.locator(".error-summary")).to_contain_text("scenariot använder inte eskalering till SA")
    sweep.check("Ett scenario med fel")

    page.get_by_role("link", name="Utkast till version 1").click()
    page.get_by_role("link", name="Triageguiden").click()
    page.get_by_role("group", name="Ny fråga").get_by_label("Fråga").fill("Kan förskrivarna nå Journalia?")
    page.get_by_role("button", name="Lägg till frågan").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Triageguiden är sparad i utkastet.")
    proposal = page.get_by_role("group", name="Nytt förslag")
    proposal.get_by_label("Fråga").select_option("kan_forskrivarna_na_journalia")
    proposal.get_by_label("Föreslår scenariot").select_option("journalia_gar_inte_att_na")
    page.get_by_role("button", name="Lägg till förslaget").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Triageguiden är sparad i utkastet.")
    sweep.check("Triageguiden")
    page.get_by_role("link", name="Utkast till version 1").click()
    expect(page.get_by_text("Triage: fråga ”Kan förskrivarna nå Journalia?” tillagd")).to_be_visible()
    sweep.assert_clean()
