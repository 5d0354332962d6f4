"""A drill's scorecard in a real browser: WCAG 2.1 AA on a phone and a desktop screen (axe),
the leader's notes written through the page, and on paper no form and the ÖVNING mark."""

import pytest
from playwright.sync_api import expect

from incidents import drills, services
from tests.browser.test_accessibility import WIDTHS, Sweep, axe_source  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_scorecard_and_the_comparison_meet_wcag_and_take_the_leaders_notes(
    make_user,
    new_page,
    log_in,
    axe_source,
    watch,  # noqa: F811
):
    va = make_user("verksamhetsansvarig", username="ovningsledare")
    vs = make_user("verksamhetsspecialist")
    sa = make_user("systemansvarig")
    ks = make_user("kundservice", username="deltagare")
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, vs.pk, sa.pk], time_scale=60)
    services.escalate(vs, drill.pk)
    services.acknowledge(sa, drill.pk)
    services.record_prognosis(sa, drill.pk, None)
    services.resolve(sa, drill.pk)
    for task in drill.tasks.filter(done_at__isnull=True):
        services.complete_task(va, task.pk)
    services.close(va, drill.pk, review={"what_happened": "Övning"})
    running = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk], time_scale=10)

    page = new_page(viewport=WIDTHS["phone"])
    log_in(page, va.username)
    sweep = Sweep(page, axe_source, watch)
    sweep.visit(f"/ovningar/{drill.pk}/resultat/", "Resultat")
    sweep.visit(f"/ovningar/{running.pk}/resultat/", "Resultat, preliminärt")
    sweep.visit(f"/ovningar/jamfor/?ovning={drill.pk}", "Sida vid sida")

    page.goto(f"/ovningar/{drill.pk}/resultat/")
    expect(page.get_by_text("ÖVNING – inte en verklig störning")).to_be_visible()
    page.get_by_label("Anteckningar (vad gick bra, vad ska övas mer)").fill("x" * 4001)
    page.get_by_role("button", name="Spara anteckningarna").click()
    expect(page.locator("#notes-error")).to_contain_text("Anteckningar får vara högst 4000 tecken.")
    sweep.check("Resultat, anteckningar för långa")
    page.get_by_label("Anteckningar (vad gick bra, vad ska övas mer)").fill(
        "Kvittensen gick snabbt. Öva reservrutinen."
    )
    page.get_by_role("button", name="Spara anteckningarna").click()
    expect(page.get_by_text("Anteckningarna är sparade.")).to_be_visible()
    expect(page.locator(".leader-notes")).to_have_text("Kvittensen gick snabbt. Öva reservrutinen.")

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Spara anteckningarna")).to_be_hidden()
    expect(page.get_by_text("ÖVNING – inte en verklig störning")).to_be_visible()
    sweep.assert_clean()

    participant = new_page(viewport=WIDTHS["phone"])
    log_in(participant, ks.username)
    participant.goto(f"/ovningar/{drill.pk}/resultat/")
    expect(participant.get_by_text("Kvittensen gick snabbt. Öva reservrutinen.")).to_be_visible()
    expect(participant.get_by_role("button", name="Spara anteckningarna")).to_have_count(0)
