"""The language form in the header switches the whole page to English and back."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_header_language_form_switches_to_english(make_user, new_page, log_in, watch):
    make_user("kundservice", username="karin")
    page = new_page()
    log_in(page, "karin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pågående störningar")

    page.get_by_label("Språk").select_option("en")
    page.get_by_role("button", name="Byt språk").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ongoing disruptions")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Report a disruption").first).to_be_visible()

    page.get_by_label("Language").select_option("sv")
    page.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pågående störningar")
    watch.check()
