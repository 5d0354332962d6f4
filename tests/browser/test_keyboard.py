"""Keyboard only: every action on the incident page is reached with Tab and fired with Enter or
Space, in an order that follows the page, with the focus always visible; forms do what Enter
is expected to do, and after an action the focus is on its confirmation."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {
    tag: e.tagName.toLowerCase(), id: e.id, target: e.hasAttribute('data-kb-target'),
    name: (e.getAttribute('aria-label') || e.labels?.[0]?.innerText || e.innerText || e.value || '').trim().slice(0, 60),
    inMain: !!e.closest('main'),
    top: r.top + window.scrollY, left: r.left,
    visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
  };
}"""

# Everything in main a person can operate, as the page draws it now.
OPERABLE = """() => [...document.querySelectorAll(
  'main a[href], main button, main input:not([type=hidden]), main select, main textarea, main summary, main [tabindex]:not([tabindex="-1"])'
)].filter(e => !e.disabled && e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true})
   && !(e.type === 'radio' && !e.checked && document.querySelector(`input[type=radio][name="${e.name}"]:checked`)))
 .map(e => { e.setAttribute('data-kb-seen', ''); return e.tagName.toLowerCase() + '#' + (e.id || e.name || e.innerText.trim().slice(0, 40)); })"""


class Keyboard:
    def __init__(self, page):
        self.page = page

    def focused(self):
        return self.page.evaluate(FOCUSED)

    def tab_to(self, locator, limit=400):
        """Press Tab until ``locator`` has the focus; every stop on the way shows its focus."""
        expect(locator).to_have_count(1)
        locator.evaluate("e => e.setAttribute('data-kb-target', '')")
        try:
            for _ in range(limit):
                self.page.keyboard.press("Tab")
                now = self.focused()
                if now and now["inMain"]:
                    assert now["visible"], f"no visible focus on {now}"
                if now and now["target"]:
                    return now
            raise AssertionError(f"{locator} not reached with Tab in {limit} presses")
        finally:
            locator.evaluate("e => e.removeAttribute('data-kb-target')")

    def fire(self, locator, key="Enter"):
        """Reach a button or link with Tab and press it; the page that follows has loaded."""
        self.tab_to(locator)
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.wait_for_load_state()

    def type_into(self, locator, text):
        self.tab_to(locator)
        self.page.keyboard.type(text)

    def choose(self, locator):
        """A radio button: Tab reaches its group, the arrow keys the choice; or a checkbox: Space."""
        name = locator.get_attribute("name")
        if locator.get_attribute("type") == "radio":
            group = self.page.locator(f'input[type=radio][name="{name}"]')
            tabbable = group.locator(":scope:checked") if group.locator(":scope:checked").count() else group.first
            self.tab_to(tabbable)
            for _ in range(group.count()):
                if locator.evaluate("e => e === document.activeElement"):
                    break
                self.page.keyboard.press("ArrowDown")
            assert locator.evaluate("e => e === document.activeElement")
        else:
            self.tab_to(locator)
        self.page.keyboard.press("Space")
        expect(locator).to_be_checked()

    def type_datetime(self, locator, when):
        """A date-time picker, filled with digits and arrow keys as a person would.

        The picker's fields come in the browser's own order (year first in Swedish, month
        first and a 12-hour clock in American English): which one is found out on a scratch
        field first."""
        self.tab_to(locator)
        for keys in self._datetime_keys(when):
            (self.page.keyboard.press if keys in ("ArrowRight",) else self.page.keyboard.type)(keys)
        expect(locator).to_have_value(when.strftime("%Y-%m-%dT%H:%M"))

    def _datetime_keys(self, when):
        orders = [
            [f"{when:%Y}", "ArrowRight", f"{when:%m%d%H%M}"],
            [f"{when:%m%d%Y}", "ArrowRight", f"{when:%I%M}", "P" if when.hour >= 12 else "A"],
        ]
        scratch = self.page.context.new_page()
        try:
            for keys in orders:
                scratch.set_content('<input type="datetime-local" id="d">')
                scratch.focus("#d")
                for k in keys:
                    (scratch.keyboard.press if k == "ArrowRight" else scratch.keyboard.type)(k)
                if scratch.eval_on_selector("#d", "e => e.value") == when.strftime("%Y-%m-%dT%H:%M"):
                    return keys
        finally:
            scratch.close()
        raise AssertionError("this browser's date-time picker takes neither order")


def state_of(page):
    return page.locator("#incident-state").inner_text()


def assert_confirmation_has_focus(page, text):
    confirmation = page.locator(".messages")
    expect(confirmation).to_contain_text(text)
    expect(confirmation).to_be_focused()
    style = confirmation.evaluate("e => getComputedStyle(e).outlineStyle")
    assert style != "none", "the focused confirmation shows no focus"


def test_enter_in_began_at_reports_the_disruption_and_focus_moves_to_the_confirmation(make_user, new_page, log_in):
    from incidents.models import Incident

    make_user("kundservice", username="karin")
    page = new_page(viewport=PHONE)
    log_in(page, "karin")
    keys = Keyboard(page)
    page.goto("/anmal/")
    keys.choose(page.get_by_role("group", name="Kan förskrivarna nå Sesam LMN?").get_by_label("Nej", exact=True))
    expect(page.locator(".proposal")).to_contain_text("Sesam LMN-server oåtkomlig")
    keys.choose(page.get_by_role("radio", name=re.compile("Sesam LMN-server oåtkomlig")))
    keys.type_into(page.get_by_label("Sammanfattning"), "Förskrivare når inte Sesam LMN sedan lunch.")
    began = timezone.localtime(timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    keys.type_datetime(page.get_by_label("Störningen började"), began)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/storning/\d+/$"))
    assert_confirmation_has_focus(page, "Störningen är anmäld")
    incident = Incident.objects.get()
    assert incident.began_at == began
    assert incident.summary == "Förskrivare når inte Sesam LMN sedan lunch."


def test_a_summary_shows_its_limit_while_typing_and_an_overlong_one_comes_back_whole(
    make_user, new_page, log_in, watch
):
    from incidents.models import Incident

    watch.error_pages_expected = True  # the refused report comes back with 400

    make_user("kundservice", username="karin")
    page = new_page(viewport=PHONE)
    log_in(page, "karin")
    page.goto("/anmal/")
    page.get_by_role("radio", name=re.compile("Sesam LMN-server oåtkomlig")).check()
    summary = page.get_by_label("Sammanfattning")
    expect(page.locator("#id_summary_count")).to_have_text("0 av 500 tecken")
    pasted = "Förskrivarna kommer inte in i Sesam LMN. " * 13  # 533 characters
    summary.fill(pasted)
    expect(page.locator("#id_summary_count")).to_have_text(
        "533 av 500 tecken: 33 för många. Korta texten innan du skickar."
    )
    assert summary.input_value() == pasted, "the browser cut the pasted text"
    page.get_by_role("button", name="Anmäl störning").click()
    page.wait_for_load_state()
    expect(page.locator("#id_summary_error")).to_contain_text("Högst 500 tecken (texten har 532)")
    expect(summary).to_be_focused()
    assert summary.input_value().strip() == pasted.strip()
    assert not Incident.objects.exists()


def test_every_action_on_the_incident_page_works_from_the_keyboard(incident_in, everyone, new_page, log_in):
    incident = incident_in("sesam_unreachable", "escalated")
    other = incident_in("sesam_unreachable", "reported")
    page = new_page(viewport=PHONE)
    log_in(page, everyone.username)
    page.on("dialog", lambda dialog: dialog.accept())
    keys = Keyboard(page)
    page.goto(f"/storning/{incident.pk}/")

    # From the top, Tab stops at everything that can be operated, each with a visible focus,
    # in the order the page reads on a phone: never back up the screen.
    operable = set(page.evaluate(OPERABLE))
    assert len(operable) > 15
    reached, tops = [], []
    page.keyboard.press("Tab")
    first = keys.focused()
    for _ in range(500):
        now = keys.focused()
        if now and now["inMain"]:
            assert now["visible"], f"no visible focus on {now}"
            reached.append(
                page.evaluate(
                    "() => { const e = document.activeElement; return e.tagName.toLowerCase() + '#' + "
                    "(e.id || e.name || e.innerText.trim().slice(0, 40)); }"
                )
            )
            tops.append((now["top"], now["name"]))
        page.keyboard.press("Tab")
        if keys.focused() == first:
            break
    assert operable <= set(reached), f"not reached with Tab: {operable - set(reached)}"
    for (above, above_name), (below, below_name) in zip(tops, tops[1:], strict=False):
        assert below >= above - 8, f"Tab goes back up the page: {above_name!r} ({above}) → {below_name!r} ({below})"

    # SA acknowledges, with Enter; the confirmation has the focus.
    keys.fire(page.get_by_role("button", name="Kvittera", exact=True))
    assert state_of(page) == "Kvitterad"
    assert_confirmation_has_focus(page, "Kvittera: klart.")

    # A prognosis through the radio buttons and the date-time picker, sent with Space.
    form = page.locator("#prognos-form")
    keys.choose(form.get_by_label("Åter vid tidpunkt"))
    back = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    keys.type_datetime(form.get_by_label("Förväntas åter"), back)
    keys.type_into(form.get_by_label("Anteckning (valfritt)"), "Omstart av servern")
    keys.fire(form.get_by_role("button", name="Ange prognos"), key="Space")
    assert_confirmation_has_focus(page, "Prognosen är registrerad.")
    expect(page.locator("#incident-prognosis")).to_contain_text(back.strftime("%Y-%m-%d %H:%M"))

    # A call, in a collapsed section opened with Enter, with its own date-time picker.
    keys.tab_to(page.locator("#registrera-samtal > summary"))
    page.keyboard.press("Enter")
    calls = page.locator("#registrera-samtal")
    expect(calls).to_have_attribute("open", "")
    keys.type_into(calls.get_by_label("Vad fungerar inte?"), "Inloggningen")
    since = timezone.localtime(timezone.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    keys.type_datetime(calls.get_by_label("Sedan när (valfritt)"), since)
    keys.fire(calls.get_by_role("button", name="Spara samtal"))
    assert_confirmation_has_focus(page, "Samtalet är registrerat.")

    # The Servicedesk ticket, a note on the timeline, a task.
    it = page.locator("#it-kontakt")
    keys.type_into(it.get_by_label("Ärendenummer hos Servicedesk/Ritz"), "RITZ-4711")
    keys.fire(it.get_by_role("button", name="Spara"))
    assert_confirmation_has_focus(page, "Uppgifterna är sparade.")
    timeline = page.locator("#tidslinje")
    keys.type_into(timeline.get_by_label("Anteckning"), "Leverantören ringer tillbaka.")
    keys.fire(timeline.get_by_role("button", name="Spara anteckning"))
    assert_confirmation_has_focus(page, "Anteckningen är sparad.")
    expect(timeline).to_contain_text("Leverantören ringer tillbaka.")
    keys.fire(page.locator("#uppgifter").get_by_role("button", name=re.compile("^Klar")).first)
    assert_confirmation_has_focus(page, "Uppgiften är klarmarkerad.")

    # The reserve routine by hand, with a note; an urgent order, its product area chosen with
    # the arrow keys; then marked entered in Sesam LMN.
    keys.type_into(page.get_by_label("Anteckning till ”Aktivera reservrutin” (valfritt)"), "Beslutat med SA")
    keys.fire(page.get_by_role("button", name="Aktivera reservrutin"))
    assert state_of(page) == "Reservrutin aktiv"
    orders = page.locator("#reservrutin")
    keys.type_into(orders.get_by_label("Blankettens referens"), "B-2001")
    keys.tab_to(orders.get_by_label("Produktområde"))
    page.keyboard.press("ArrowDown")
    keys.type_into(orders.get_by_label("Förskrivarens enhet"), "Vårdcentral Norr")
    keys.fire(orders.get_by_role("button", name="Registrera akut förskrivning"))
    assert_confirmation_has_focus(page, "Den akuta förskrivningen är registrerad.")
    keys.fire(page.locator("#reservrutin").get_by_role("button", name="Inlagd i Sesam LMN"))
    assert_confirmation_has_focus(page, "markerad som inlagd i Sesam LMN")

    # Service is back; every open task is ticked; the review is written and the incident closed.
    keys.fire(page.get_by_role("button", name="Driften återställd"))
    assert state_of(page) == "Åtgärdad"
    klar = page.locator("#uppgifter").get_by_role("button", name=re.compile("^Klar"))
    while klar.count():
        keys.fire(klar.first)
    keys.type_into(page.get_by_label("Vad hände"), "Servern startades om; reservrutinen användes en timme.")
    keys.fire(page.get_by_role("button", name="Avsluta"))
    assert state_of(page) == "Avslutad"
    assert_confirmation_has_focus(page, "Störningen är avslutad.")

    # Another one turns out to be a false alarm: opened, given a reason and cancelled by keyboard
    # (the question before an irreversible action is answered too).
    page.goto(f"/storning/{other.pk}/")
    keys.tab_to(page.get_by_text("Falsklarm? Makulera störningen"))
    page.keyboard.press("Enter")
    keys.type_into(page.get_by_label("Skäl till makulering"), "Dubbelanmälan")
    keys.fire(page.get_by_role("button", name="Makulera"))
    assert state_of(page) == "Makulerad"
    assert_confirmation_has_focus(page, "Störningen är makulerad.")


def test_the_wide_figures_table_can_be_scrolled_from_the_keyboard(make_user, new_page, log_in):
    make_user("verksamhetsansvarig", username="vera")
    page = new_page(viewport=PHONE)
    log_in(page, "vera")
    page.goto("/historik/nyckeltal/")
    region = page.get_by_role("region", name="Störningar per månad och scenario, tabell")
    keys = Keyboard(page)
    keys.tab_to(region)
    assert region.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: nothing to scroll"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-wrap[role=region]').scrollLeft > 0")
