"""WCAG 2.1 AA, measured: axe-core checks every page of the app, for every role, on a phone
and on a desktop screen, and finds nothing.

axe-core comes from the npm registry (tests/browser/node, installed by ``make browser-deps``).
The app's Content-Security-Policy allows no inline script, so axe is not put in as a script
tag: Playwright evaluates its source in the page (as the DevTools console would), and the
page's CSP stays as it is in production.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import missing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
ROLES = ["kundservice", "verksamhetsspecialist", "systemansvarig", "verksamhetsansvarig", "telefoniansvarig"]

# What axe no longer checks (WCAG 2.2 dropped 4.1.1) but a label or a script still trips on:
# an id used twice; and a form the browser would check itself, in its own language and
# before the server's Swedish messages (every form here says novalidate).
PAGE_RULES = """() => {
  const seen = {};
  document.querySelectorAll('[id]').forEach(e => { seen[e.id] = (seen[e.id] || 0) + 1; });
  const constrained = '[required], [min], [max], [pattern], [maxlength], input[type=email], input[type=url],'
    + ' input[type=number], input[type=date], input[type=datetime-local]';
  return {
    duplicate_ids: Object.keys(seen).filter(id => seen[id] > 1),
    browser_checked_forms: [...document.querySelectorAll('form:not([novalidate])')]
      .filter(f => f.querySelector(constrained)).map(f => f.getAttribute('action') || '(this page)'),
  };
}"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' – ' + n.failureSummary.split('\\n').slice(0, 2).join(' ')),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        missing("needs axe-core from the npm registry (make browser-deps)")
    return AXE.read_text(encoding="utf-8")


class Sweep:
    """Runs axe on page after page and gathers what it finds, so one run reports them all."""

    def __init__(self, page, axe_source, watch):
        # The sweep opens 404s, 403s and forms sent back with 400 on purpose.
        watch.error_pages_expected = True
        self.page = page
        self.axe_source = axe_source
        self.found = []
        self.checked = []

    def check(self, what):
        """The page as it is now, on a phone and on a desktop screen."""
        page = self.page
        page.wait_for_load_state()
        # Hidden parts count too: open every collapsed section (its form, its list).
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        rules = page.evaluate(PAGE_RULES)
        for rule, offenders in rules.items():
            if offenders:
                self.found.append(f"{what} ({page.url}): {rule}: {', '.join(offenders)}")
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            violations = page.evaluate(RUN_AXE, WCAG_21_AA)
            self.checked.append((what, width))
            for v in violations:
                nodes = "\n      ".join(v["nodes"])
                self.found.append(f"{what}, {width} ({page.url}): {v['id']} [{v['impact']}] {v['help']}\n      {nodes}")

    def visit(self, path, what=None):
        self.page.goto(path)
        self.check(what or path)

    def assert_clean(self):
        assert not self.found, f"{len(self.found)} WCAG 2.1 AA violations:\n" + "\n".join(self.found)


@pytest.fixture
def disruptions(incident_in, everyone, settings):
    """An incident in each state the routine reaches, with what the pages then show."""
    from incidents import services
    from incidents.models import ReserveOrder
    from notifications import ack

    settings.STUBS_ENABLED = True
    made = {
        state: incident_in("sesam_unreachable", state)
        for state in (
            "reported",
            "escalated",
            "acknowledged",
            "reserve_routine",
            "resolved",
            "closed",
            "cancelled",
        )
    }
    made["awaiting_it"] = incident_in("full_it_outage", "awaiting_it")
    made["telephony"] = incident_in("telephony_fault", "escalated")
    reserve = made["reserve_routine"]
    services.log_reserve_order(
        everyone,
        reserve.pk,
        reference="B-1001",
        product_area=ReserveOrder.ProductArea.choices[0][0],
        prescriber_unit="Vårdcentral Öst",
    )
    services.log_caller_report(
        everyone, reserve.pk, functions="Inloggning", error_message="Timeout", prescribers=3, since=None
    )
    services.record_prognosis(everyone, made["acknowledged"].pk, timezone.now() + timedelta(hours=2), note="Omstart")
    services.add_note(everyone, made["acknowledged"].pk, "Leverantören är kontaktad.")
    made["ack_token"] = lambda user: ack.make_token(user, made["escalated"])
    # Övningar: one running (shown apart in the live list), one broken off (in Historik's drills).
    from incidents import drills

    made["drill"] = drills.start_drill(
        everyone, scenario="sesam_unreachable", participants=[everyone.pk], time_scale=30
    )
    services.escalate(everyone, made["drill"].pk)
    ended = drills.start_drill(everyone, scenario="telephony_fault", participants=[everyone.pk])
    made["drill_ended"] = drills.break_off(everyone, ended.pk, "Avbruten för en verklig störning")
    return made


def pages_for_everyone(made):
    """Every page a signed-in person can open; a role not allowed one gets the 403 page."""
    pages = [
        ("/", "Pågående störningar"),
        ("/anmal/", "Anmäl störning"),
        ("/historik/", "Historik"),
        ("/historik/?fran=inte-ett-datum", "Historik med fel i filtret"),
        ("/historik/nyckeltal/", "Nyckeltal"),
        ("/kontakter/", "Kontakter"),
        ("/meddelanden/regler/", "Meddelanderegler"),
        ("/tokens/", "API-nycklar"),
        ("/pa-enheten/", "Rutinen på enheten"),
        ("/rutin/", "Rutinen"),
        ("/rutin/versioner/", "Rutinens versioner"),
        ("/tillganglighet/", "Tillgänglighetsredogörelse"),
        ("/ovningar/plan/", "Övningsplan"),
        ("/finns-inte/", "404"),
        ("/stubs/sms/", "Stubbe SMS"),
        ("/kvittera/ogiltig/", "Kvitteringslänk ogiltig"),
        (f"/storning/{made['closed'].pk}/rapport/", "Rapport"),
        ("/ovningar/", "Övningar"),
        ("/historik/?ovningar=on", "Historik, övningar"),
        (f"/storning/{made['drill_ended'].pk}/rapport/", "Rapport för en övning"),
    ]
    for state, incident in made.items():
        if hasattr(incident, "pk"):
            pages.append((f"/storning/{incident.pk}/", f"Störningssidan, {state}"))
    return pages


def sweep_interactions(sweep, role, made):
    """Pages as they look after something was done on them."""
    page = sweep.page
    page.goto("/anmal/")
    if page.get_by_role("heading", level=1).inner_text() == "Anmäl störning":
        page.get_by_role("group", name="Kan förskrivarna nå Sesam LMN?").get_by_label("Nej", exact=True).check()
        expect(page.locator(".proposal")).to_be_visible()
        sweep.check("Anmäl störning efter snabbguiden")
        page.get_by_role("button", name="Anmäl störning").click()
        expect(page.locator(".field-error").first).to_be_visible()
        sweep.check("Anmäl störning med fel")
    page.goto("/")
    page.locator(".drill-plan-details summary").click()
    expect(page.locator(".drill-plan-list")).to_be_visible()
    sweep.check("Pågående störningar med övningsplanen öppen")
    if role == "verksamhetsansvarig":
        page.goto("/ovningar/plan/")
        card = page.locator("#plan-sesam-lmn-telephony_fault")
        card.get_by_label("Hur ofta ska Störningar i telefonin övas?").select_option("dagar")
        card.get_by_label("Antal dagar").fill("2")
        card.get_by_role("button", name="Spara").click()
        expect(page.locator(".field-error").first).to_be_visible()
        sweep.check("Övningsplan med fel")
    page.goto("/tokens/")
    page.get_by_role("button", name="Skapa nyckel").click()
    sweep.check("API-nycklar med en ny nyckel")
    if role == "systemansvarig":
        page.goto(f"/kvittera/{made['ack_token'](sweep.user)}/")
        sweep.check("Kvittera via länk")
        page.goto(f"/storning/{made['acknowledged'].pk}/")
        form = page.locator("#prognos-form")
        form.get_by_label("Åter vid tidpunkt").check()
        form.get_by_role("button", name="Ange prognos").click()
        sweep.check("Störningssidan med fel i prognosen")
        page.goto(f"/storning/{made['escalated'].pk}/")
        page.get_by_role("button", name="Kvittera", exact=True).click()
        sweep.check("Störningssidan efter en åtgärd")
    if role == "verksamhetsansvarig":
        page.goto("/ovningar/")
        page.get_by_role("button", name="Starta övning").click()
        expect(page.locator(".field-error").first).to_be_visible()
        sweep.check("Övningar med fel i startformuläret")
        page.goto(f"/storning/{made['drill'].pk}/")
        page.get_by_role("button", name="Avbryt övningen").click()
        expect(page.locator("#avbryt-ovning .field-error")).to_be_visible()
        sweep.check("Övningens sida utan skäl till avbrott")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_meets_wcag_21_aa_for_each_role(role, make_user, disruptions, new_page, log_in, axe_source, watch):
    user = make_user(role, username=f"axe-{role}")
    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, user.username)
    sweep = Sweep(page, axe_source, watch)
    sweep.user = user
    for path, what in pages_for_everyone(disruptions):
        sweep.visit(path, what)
    sweep_interactions(sweep, role, disruptions)
    assert len(sweep.checked) >= 2 * 25
    sweep.assert_clean()


def test_public_pages_meet_wcag_21_aa(new_page, axe_source, watch, settings):
    page = new_page(viewport=WIDTHS["phone"])
    sweep = Sweep(page, axe_source, watch)
    for path, what in [
        ("/logga-in/", "Logga in"),
        ("/tillganglighet/", "Tillgänglighetsredogörelse"),
        ("/finns-inte/", "404 utan inloggning"),
    ]:
        sweep.visit(path, what)
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill("ingen")
    page.get_by_label("Lösenord").fill("fel-lösenord")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    sweep.check("Logga in med fel")
    # With the region's sign-in configured the page offers it first (nothing is fetched to draw it).
    settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = "http://127.0.0.1:9/", "runbook"
    page.goto("/logga-in/")
    expect(page.get_by_role("link", name=re.compile("Logga in med SITHS"))).to_be_visible()
    sweep.check("Logga in med regionens inloggning")
    sweep.assert_clean()


def test_a_violation_is_found_and_reported(new_page, axe_source, watch):
    """The sweep fails on a real violation: an unlabelled field and an image without text."""
    page = new_page()
    page.goto("/tillganglighet/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<input type="text"><img src="/static/img/favicon.svg">\')'
    )
    sweep = Sweep(page, axe_source, watch)
    sweep.check("sida med fel")
    found = "\n".join(sweep.found)
    assert re.search(r"\blabel\b", found) and "image-alt" in found, found


def test_a_duplicate_id_and_a_form_the_browser_checks_are_found(new_page, axe_source, watch):
    page = new_page()
    page.goto("/logga-in/")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<p id="id_username">x</p><form action="/x/"><input name="n" required></form>\')'
    )
    sweep = Sweep(page, axe_source, watch)
    sweep.check("sida med fel")
    found = "\n".join(sweep.found)
    assert "duplicate_ids: id_username" in found and "browser_checked_forms: /x/" in found, found
