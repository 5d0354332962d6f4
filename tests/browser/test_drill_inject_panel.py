"""The drill leader's inject panel in a real browser: on a phone, clean under axe (WCAG 2.1
AA), "SA svarar inte" pressed, the page says it was done and the timeline shows the injection
and SA's fallback; a participant's page never shows the panel."""

from datetime import time

import pytest
from playwright.sync_api import expect

from incidents import drills, services
from incidents.models import DutyHours
from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 - the fixture
from timer_support import restore_seed_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_leader_injects_sa_no_answer_from_the_drills_page(make_user, new_page, log_in, axe_source, watch):  # noqa: F811
    restore_seed_data()
    # SA on duty whenever the test runs: the escalation waits for an acknowledgement.
    DutyHours.objects.all().delete()
    DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(0), end=time(23, 59, 59)) for d in range(7))
    leader = make_user("verksamhetsansvarig", username="ledaren")
    vs = make_user("verksamhetsspecialist", username="ville")
    sa = make_user("systemansvarig", username="sam")
    drill = drills.start_drill(leader, scenario="sesam_unreachable", participants=[vs.pk, sa.pk], time_scale=2)
    services.escalate(vs, drill.pk)
    url = f"/storning/{drill.pk}/"

    participant = new_page(viewport=WIDTHS["phone"])
    log_in(participant, "ville")
    participant.goto(url)
    expect(participant.locator("#tidslinje")).to_be_visible()
    expect(participant.locator("#inspel")).to_have_count(0)

    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, "ledaren")
    page.goto(url)
    panel = page.locator("#inspel")
    expect(panel.get_by_role("button", name="SA svarar inte")).to_be_visible()
    sweep = Sweep(page, axe_source, watch)
    sweep.check("Övningens sida med inspel")

    panel.get_by_label("Anteckning till inspelet ”SA svarar inte” (valfritt)").fill("SA är på lunch")
    panel.get_by_role("button", name="SA svarar inte").click()

    expect(page.locator("#bekraftelse")).to_contain_text("Inspelet är gjort: SA svarar inte")
    timeline = page.locator("#tidslinje")
    expect(timeline).to_contain_text("Inspel: SA svarar inte")
    expect(timeline).to_contain_text("SA är på lunch")
    expect(timeline).to_contain_text("enhetschef för SA kontaktas")
    expect(panel.get_by_role("button", name="SA svarar inte")).to_have_count(0)
    sweep.check("Övningens sida efter ett inspel")
    sweep.assert_clean()
    # The participant's page follows, still without the panel.
    participant.goto(url)
    expect(participant.locator("#tidslinje")).to_contain_text("Inspel: SA svarar inte")
    expect(participant.locator("#inspel")).to_have_count(0)
