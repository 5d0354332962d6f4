"""Anmäl störning with two routines, in a real browser on a phone: one tap picks the system,
its own questions propose its own scenario, and the report is an incident of that system.
With JavaScript and without it; axe finds nothing on the pages on the way."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOURNALIA = Path(__file__).resolve().parent.parent / "routines" / "journalia-v1.yaml"


@pytest.fixture
def journalia(va):
    from routines import portable
    from routines import services as routine_services

    draft = portable.import_file(va, JOURNALIA.read_text(encoding="utf-8"))
    return routine_services.publish(va, draft.pk, "Journalia får en egen rutin", revision=draft.revision)


def _report_in_journalia(page, sweep=None):
    page.goto("/anmal/")
    expect(page.get_by_role("heading", name="Vilket system gäller störningen?")).to_be_visible()
    if sweep:
        sweep.check("Anmäl störning: välj system")
    page.get_by_role("link", name="Journalia", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmäl störning i Journalia")
    expect(page.get_by_role("group", name="Kan Kundservice nå Sesam LMN?")).to_have_count(0)
    page.get_by_role("group", name="Går Journalia att nå?").get_by_label("Nej", exact=True).check()


def test_kundservice_picks_journalia_and_reports_in_its_routine(journalia, ks, new_page, log_in, axe_source, watch):
    from incidents.models import Incident

    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, ks.username)
    sweep = Sweep(page, axe_source, watch)
    _report_in_journalia(page, sweep)
    # The proposal comes from Journalia's own triage guide, as the answer is given.
    expect(page.locator(".proposal")).to_contain_text("Journalia går inte att nå")
    expect(page.get_by_label("Journalia går inte att nå")).to_be_checked()
    sweep.check("Anmäl störning i Journalia efter snabbguiden")
    page.get_by_label("Sammanfattning").fill("Journalia svarar inte för någon")
    page.get_by_role("button", name="Anmäl störning", exact=True).last.click()
    page.wait_for_url("**/storning/*/")
    expect(page.locator("#cockpit-scenario")).to_contain_text("Journalia går inte att nå")
    expect(page.locator("#cockpit-system")).to_have_text("System: Journalia")
    incident = Incident.objects.get()
    assert incident.pinned_version_id == journalia.pk
    page.goto("/")
    expect(page.locator(f"#live-incident-{incident.pk}")).to_contain_text("Journalia går inte att nå")
    sweep.check("Pågående störningar med två system")
    sweep.assert_clean()


def test_without_javascript_the_system_choice_and_the_proposal_still_work(journalia, ks, new_page, log_in):
    from incidents.models import Incident

    page = new_page(viewport=WIDTHS["phone"], java_script_enabled=False)
    log_in(page, ks.username)
    _report_in_journalia(page)
    page.get_by_role("button", name="Föreslå scenario").click()
    expect(page.locator(".proposal")).to_contain_text("Journalia går inte att nå")
    page.get_by_label("Sammanfattning").fill("Journalia svarar inte")
    page.get_by_role("button", name="Anmäl störning", exact=True).last.click()
    page.wait_for_url("**/storning/*/")
    assert Incident.objects.get().pinned_version_id == journalia.pk
