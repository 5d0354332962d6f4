"""The notices' texts in a browser, on a phone: Verksamhetsspecialist changes the notice on
Vårdgivare Skåne in the draft, an empty SMS text is refused at its place, and the draft page
says what changed in words. Every page on the way meets WCAG 2.1 AA (axe)."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTAL = "Notis ”Vårdgivare Skåne: publicera”"
NEW = "{system} är nere. {reserve_notice}: ring Kundservice Hjälpmedel."


def test_a_specialist_edits_a_notice_text_on_a_phone(make_user, new_page, log_in, axe_source, watch):  # noqa: F811
    make_user("verksamhetsspecialist", username="vera")
    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, "vera")
    sweep = Sweep(page, axe_source, watch)
    page.goto("/rutin/versioner/")
    page.get_by_role("button", name="Ändra rutinen (öppna utkastet)").click()
    page.get_by_role("link", name="Meddelanderegler").click()
    expect(page.get_by_role("heading", name="Texterna som skickas")).to_be_visible()
    sweep.check("Meddelanderegler och texter")

    portal = page.get_by_role("group", name=PORTAL, exact=True)
    portal.get_by_label("text", exact=True).fill(NEW)
    page.get_by_role("button", name="Spara texterna").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Texterna är sparade i utkastet.")

    sms = page.get_by_role("group", name="Notis ”SMS: eskalering”", exact=True)
    sms.get_by_label("vad som hänt").fill("")
    page.get_by_role("button", name="Spara texterna").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Notis ”SMS: eskalering”, vad som hänt: minst en text behövs"
    )
    sweep.check("Texterna med fel")

    page.get_by_role("link", name="Utkast till version 2").first.click()
    expect(page.get_by_text(f"{PORTAL}, text: ”{{system}} går inte att nå.", exact=False)).to_be_visible()
    sweep.check("Utkastet med ändrad text")


def test_a_specialist_adds_a_notice_rule_on_a_phone_and_a_bad_one_is_refused(
    make_user,
    new_page,
    log_in,
    axe_source,
    watch,  # noqa: F811
):
    make_user("verksamhetsspecialist", username="vera")
    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, "vera")
    sweep = Sweep(page, axe_source, watch)
    page.goto("/rutin/versioner/")
    page.get_by_role("button", name="Ändra rutinen (öppna utkastet)").click()
    page.get_by_role("link", name="Meddelanderegler").click()

    new = page.get_by_role("group", name="Ny regel", exact=True)
    new.get_by_label("Händelse").select_option(label="Prognosen har passerat")
    new.get_by_label("Kanal och meddelande").select_option("email:prognosis_passed")
    new.get_by_role("group", name="Gäller scenarierna").get_by_label("Fullskaligt IT-haveri i Region Skåne").uncheck()
    new.get_by_label("När (text på regelsidan)").fill("Prognosen har passerat")
    new.get_by_label("Varför (rutinens ord)").fill("Enhetschefen påminns om prognosen.")
    page.get_by_role("button", name="Lägg till regeln").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Meddelanderegel 22, mottagare: e-post och SMS behöver mottagare"
    )
    sweep.check("Ny regel utan mottagare")

    new = page.get_by_role("group", name="Ny regel", exact=True)
    new.get_by_label("Enhetschef för SA").check()
    page.get_by_role("button", name="Lägg till regeln").click()
    expect(page.locator("#bekraftelse")).to_contain_text("Regeln är tillagd i utkastet.")
    sweep.check("Regeln tillagd")

    page.get_by_role("link", name="Utkast till version 2").first.click()
    expect(page.get_by_text("Ny meddelanderegel: Prognosen har passerat, E-post")).to_be_visible()
