"""Offline in a real browser: the network is switched off (Playwright's offline mode), a
disruption is reported, the tab is closed and opened again, the network comes back, and the
incident is on the server with the time it was made on the device."""

import re
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Contact, Incident

pytestmark = [
    pytest.mark.browser,
    # The live server runs in its own thread: data must be committed for it to see it.
    pytest.mark.django_db(transaction=True),
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PHONE = {"width": 375, "height": 667}

# True once the service worker has stored the routine pack and the report form.
KEPT_ON_DEVICE = """async () => {
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    if (await cache.match('/pa-enheten/') && await cache.match('/anmal/')) { return true; }
  }
  return false;
}"""

# What the device holds and how its service worker stands, for a failure's message.
STATE = """async () => {
  const out = {caches: {}};
  for (const name of await caches.keys()) {
    out.caches[name] = (await (await caches.open(name)).keys()).map(r => new URL(r.url).pathname);
  }
  const reg = await navigator.serviceWorker.getRegistration();
  out.worker = reg ? {active: reg.active && reg.active.state, installing: !!reg.installing, waiting: !!reg.waiting} : null;
  out.controlled = !!navigator.serviceWorker.controller;
  return JSON.stringify(out);
}"""


ACTIVE_NOT_CONTROLLING = """async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  return !!(reg && reg.active && reg.active.state === 'activated' && !navigator.serviceWorker.controller);
}"""


def wait_until_kept(page, seconds=30):
    """Until the service worker controls the page and has stored what the device keeps.

    A browser may leave a page that opened before its service worker was active uncontrolled
    until that page is loaded again (its ``clients.claim()`` can lose the race with the page's
    own load): then, as a person would, open the page once more."""
    deadline = time.monotonic() + seconds
    reload_after = time.monotonic() + 5
    while not page.evaluate(KEPT_ON_DEVICE) or not page.evaluate("() => !!navigator.serviceWorker.controller"):
        assert time.monotonic() < deadline, f"the service worker did not keep the pages: {page.evaluate(STATE)}"
        if reload_after and time.monotonic() > reload_after and page.evaluate(ACTIVE_NOT_CONTROLLING):
            page.reload()
            reload_after = None
        page.wait_for_timeout(100)


def test_disruption_reported_offline_survives_closing_the_tab_and_arrives_with_the_devices_time(
    make_user, new_page, log_in, watch
):
    make_user("kundservice", username="karin")
    page = new_page(viewport=PHONE)
    context = page.context
    # The device's clock says 38 minutes earlier than the server's: the report is "made" then,
    # and sent when the network is back, now.
    made = timezone.now() - timedelta(minutes=38)
    context.clock.install(time=made)
    log_in(page, "karin")
    wait_until_kept(page)

    context.set_offline(True)
    watch.offline = True
    page.goto("/anmal/")
    expect(page.locator(".offline-banner")).to_contain_text("Ingen kontakt med servern")
    page.get_by_role("group", name="Kan förskrivarna nå Sesam LMN?").get_by_label("Nej").check()
    page.get_by_role("button", name="Föreslå scenario").click()
    expect(page.get_by_label("Sesam LMN-server oåtkomlig för samtliga användare")).to_be_checked()
    page.get_by_label("Sammanfattning").fill("Ingen når Sesam LMN, regionens nät är nere")
    page.get_by_role("button", name="Anmäl störning", exact=True).click()
    expect(page.locator(".offline-note")).to_contain_text("Sparad på enheten kl.")
    expect(page.locator("#offline-outbox")).to_contain_text("Anmälan: Ingen når Sesam LMN")

    # What is typed but not yet sent is kept too.
    page.get_by_label("Sammanfattning").fill("Halvskriven andra anmälan")
    page.close()
    assert not Incident.objects.exists()

    # The tab is opened again, still offline: the app opens from the device.
    page = context.new_page()
    page.goto("/anmal/")
    expect(page.get_by_label("Sammanfattning")).to_have_value("Halvskriven andra anmälan")
    expect(page.locator("#offline-outbox")).to_contain_text("Anmälan: Ingen når Sesam LMN")
    page.reload()
    expect(page.locator("#offline-outbox")).to_contain_text("väntar på nätet")
    assert not Incident.objects.exists()

    context.set_offline(False)
    watch.offline = False
    sent = page.locator("#offline-outbox .offline-sent")
    expect(sent).to_contain_text("Skickad: Anmälan: Ingen når Sesam LMN", timeout=10_000)
    incident = Incident.objects.get()
    assert incident.summary == "Ingen når Sesam LMN, regionens nät är nere"
    assert incident.scenario == "sesam_unreachable"
    # Made on the device 38 minutes ago (to the second the button was pressed), not when it arrived.
    assert abs((incident.reported_at - made).total_seconds()) < 60
    assert timezone.now() - incident.reported_at > timedelta(minutes=37)

    sent.get_by_role("link", name="Öppna störningen").click()
    made_local = timezone.localtime(incident.reported_at, STOCKHOLM).strftime("%H:%M")
    sent_local = timezone.localtime(incident.offline_submissions.get().received_at, STOCKHOLM).strftime("%H:%M")
    expect(page.locator("#tidslinje")).to_contain_text(
        f"Registrerad offline på enhet kl. {made_local}, skickad {sent_local}"
    )
    reported = page.locator("#tidslinje li.event-reported time")
    expect(reported).to_have_attribute("datetime", timezone.localtime(incident.reported_at, STOCKHOLM).isoformat())
    # Sent once, whatever reloads follow.
    page.reload()
    page.goto("/")
    expect(page.locator("#offline-outbox")).to_be_hidden()
    assert Incident.objects.count() == 1


def test_a_copy_kept_on_the_device_says_how_old_it_is(make_user, new_page, log_in, watch):
    make_user("kundservice", username="karin")
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Erik Enhetschef", phone="040-33 44 55")
    page = new_page()
    log_in(page, "karin")
    wait_until_kept(page)
    # Chromium would offer to install it: its own check finds nothing missing.
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []  # a test's context is one
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest") and not manifest["errors"]
    cdp.detach()
    saved = page.evaluate(KEPT_ON_DEVICE.replace("return true;", "return (await cache.match('/pa-enheten/')).text();"))
    saved_at = re.search(r'data-saved-at="([^"]+)"', saved).group(1)
    page.close()

    # Three hours later, without a network.
    context = page.context
    context.clock.install(time=timezone.now() + timedelta(hours=3, minutes=5))
    context.set_offline(True)
    watch.offline = True
    page = context.new_page()
    page.goto("/pa-enheten/")
    shown = timezone.localtime(timezone.datetime.fromisoformat(saved_at), STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    expect(page.locator(".copy-age")).to_have_text(f"Sparad på enheten {shown}, 3 timmar gammal.")
    expect(page.locator("#kontakter")).to_contain_text("Erik Enhetschef")
    expect(page.locator("#samtalsmanus")).to_contain_text("Mer information och prognos finns på regionala driftinfo.")
    expect(page.locator("#snabbguide")).to_contain_text("Kan förskrivarna nå Sesam LMN?")

    # A day later it also says the copy may be out of date.
    context.clock.set_system_time(timezone.now() + timedelta(hours=26))
    page.reload()
    expect(page.locator(".copy-age")).to_contain_text("1 dag gammal. Kopian kan vara inaktuell.")

    # A page that needs the network opens the kept routine instead, and says so.
    page.goto("/storning/1/")
    expect(page.locator(".offline-banner")).to_contain_text("Sidan du bad om behöver nätet")
    expect(page.locator("#kontakter")).to_contain_text("040-33 44 55")


def test_call_typed_while_the_server_is_out_of_reach_is_kept_and_sent_once_it_answers(
    make_user, new_page, log_in, watch
):
    from incidents import services

    karin = make_user("kundservice", username="karin")
    incident = services.open_incident(karin, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    page = new_page()
    log_in(page, "karin")
    page.goto(f"/storning/{incident.pk}/#registrera-samtal")

    # The phone has a network, but the region's servers do not answer.
    def unreachable(route):
        route.abort("internetdisconnected")

    watch.offline = True
    page.route("**/healthz", unreachable)
    page.route("**/pa-enheten/skicka/", unreachable)
    page.get_by_label("Vad fungerar inte?").fill("Kan inte skicka förskrivningar")
    page.get_by_label("Antal förskrivare").fill("4")
    page.get_by_role("button", name="Spara samtal").click()
    expect(page.locator(".offline-note")).to_contain_text("Sparad på enheten kl.")
    expect(page.locator("#offline-outbox")).to_contain_text(
        f"Samtal till störning {incident.pk}: Kan inte skicka förskrivningar"
    )
    assert not incident.events.filter(kind="caller_report").exists()

    page.unroute("**/healthz")
    page.unroute("**/pa-enheten/skicka/")
    watch.offline = False
    page.reload()
    expect(page.locator("#offline-outbox .offline-sent")).to_contain_text("Skickad: Samtal till störning")
    page.reload()
    call = incident.events.get(kind="caller_report")
    assert call.data["prescribers"] == 4
    assert incident.events.filter(message__startswith="Samtal registrerat offline på enhet kl.").count() == 1
    expect(page.locator("#samtal")).to_contain_text("1 samtal, 4 förskrivare berörda.")
