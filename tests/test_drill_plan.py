"""Övningsplan: Verksamhetsansvarig sets how often each scenario is drilled (yearly unless
set); the live list shows when each was last drilled and when the next is due, and an
overdue drill is Verksamhetsansvarig's task until a drill has been carried through."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import drill_plan, drills, services
from incidents.models import DrillPlan
from routines.models import Routine

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=STOCKHOLM)
PLAN = reverse("drills:plan")
LIVE = reverse("incidents:live")
TELEPHONY = "Störningar i telefonin"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=True)
    cache.clear()


def _drill(leader, everyone, scenario="telephony_fault", *, carried_through=True, reclassified_to=None):
    """A drill of ``scenario`` started now: run through to Avslutad, or left running."""
    incident = drills.start_drill(leader, scenario=scenario, participants=[everyone.pk])
    if reclassified_to:
        services.reclassify(everyone, incident.pk, reclassified_to)
    if carried_through:
        services.resolve(everyone, incident.pk)
        for task in incident.tasks.filter(done_at__isnull=True):
            services.complete_task(everyone, task.pk)
        services.close(everyone, incident.pk, review="Övningen följde rutinen.")
    return incident


def _line(scenario):
    return next(line for line in drill_plan.plan() if line.scenario == scenario)


def _plan_section(html):
    return re.search(r'<section class="drill-plan".*?</section>', html, re.S).group(0)


def _plan_line(html, scenario):
    return re.search(rf'<li data-scenario="{scenario}">.*?</li>', _plan_section(html), re.S).group(0)


def test_every_scenario_is_drilled_yearly_until_planned_otherwise_and_never_drilled_is_due_now(client_as, ks):
    lines = drill_plan.plan()
    assert {line.scenario for line in lines} == {
        "full_it_outage",
        "sesam_unreachable",
        "kundservice_link_loss",
        "telephony_fault",
    }
    assert all(line.interval_days == 365 and line.is_default for line in lines)
    assert all(line.last_drill is None and line.next_due is None and line.overdue for line in lines)
    page = client_as(ks).get(LIVE).content.decode()
    line = _plan_line(page, "telephony_fault")
    assert "övas varje år" in line and "aldrig övad" in line and "Dags att öva" in line


def test_verksamhetsansvarig_sets_an_interval_on_the_plan_page(client_as, va):
    client = client_as(va)
    assert client.get(PLAN).status_code == 200
    assert f'href="{PLAN}"' in client.get(reverse("drills:index")).content.decode()

    response = client.post(PLAN, {"rutin": "sesam-lmn", "scenario": "telephony_fault", "intervall": "91"}, follow=True)
    assert "Övningsplanen är sparad: Störningar i telefonin övas varje kvartal." in response.content.decode()
    row = DrillPlan.objects.get(scenario="telephony_fault")
    assert (row.interval_days, row.set_by, row.routine.key) == (91, va, "sesam-lmn")

    client.post(PLAN, {"rutin": "sesam-lmn", "scenario": "telephony_fault", "intervall": "dagar", "dagar": " 45 "})
    assert DrillPlan.objects.get(scenario="telephony_fault").interval_days == 45
    page = client.get(PLAN).content.decode()
    card = re.search(r'<li class="card[^"]*" id="plan-sesam-lmn-telephony_fault".*?</li>', page, re.S).group(0)
    assert "var 45:e dag" in card and va.get_full_name() in card
    assert 'name="dagar"' in card and 'value="45"' in card
    # Others keep the yearly default.
    assert _line("sesam_unreachable").interval_days == 365


def test_verksamhetsspecialist_reads_the_plan_but_cannot_change_it_and_others_may_not_see_it(
    client_as, vs, ks, sa, tel
):
    client = client_as(vs)
    page = client.get(PLAN)
    assert page.status_code == 200 and 'name="intervall"' not in page.content.decode()
    assert client.post(PLAN, {"scenario": "telephony_fault", "intervall": "30"}).status_code == 403
    assert not DrillPlan.objects.exists()
    for person in (ks, sa, tel):
        assert client_as(person).get(PLAN).status_code == 403
        assert client_as(person).post(PLAN, {"scenario": "telephony_fault", "intervall": "30"}).status_code == 403
    assert not DrillPlan.objects.exists()
    with pytest.raises(drill_plan.ActionRefused):
        drill_plan.set_interval(vs, scenario="telephony_fault", interval_days=30)


def test_bad_input_is_refused_in_swedish_and_nothing_is_saved(client_as, va):
    client = client_as(va)
    client.post(PLAN, {"rutin": "sesam-lmn", "scenario": "telephony_fault", "intervall": "182"})
    refused = [
        ({"intervall": "dagar", "dagar": "6"}, "Intervallet ska vara ett helt antal dagar från 7 till 1095."),
        ({"intervall": "dagar", "dagar": "1096"}, "Intervallet ska vara ett helt antal dagar från 7 till 1095."),
        ({"intervall": "dagar", "dagar": "en gång"}, "Intervallet ska vara ett helt antal dagar från 7 till 1095."),
        ({"intervall": "dagar", "dagar": ""}, "Intervallet ska vara ett helt antal dagar från 7 till 1095."),
        ({"intervall": "ofta"}, "Intervallet ska vara ett helt antal dagar från 7 till 1095."),
        ({"intervall": "30", "scenario": "no_such_scenario"}, "Okänt scenario."),
        ({"intervall": "30", "rutin": "ingen-sadan"}, "Okänd rutin."),
    ]
    for data, message in refused:
        response = client.post(PLAN, {"rutin": "sesam-lmn", "scenario": "telephony_fault", **data})
        assert response.status_code == 400, data
        assert message in response.content.decode()
    assert list(DrillPlan.objects.values_list("scenario", "interval_days")) == [("telephony_fault", 182)]
    # What was typed comes back beside the refusal.
    response = client.post(
        PLAN, {"rutin": "sesam-lmn", "scenario": "telephony_fault", "intervall": "dagar", "dagar": "1096"}
    )
    assert 'value="1096"' in response.content.decode()

    # Below the service, the database refuses an interval out of bounds and a second row.
    routine = Routine.objects.get(key="sesam-lmn")
    for days, scenario in ((6, "sesam_unreachable"), (1096, "sesam_unreachable"), (30, "telephony_fault")):
        with pytest.raises(IntegrityError), transaction.atomic():
            DrillPlan.objects.create(routine=routine, scenario=scenario, interval_days=days, set_by=va)


def test_a_drill_400_days_ago_is_overdue_on_the_live_list_and_a_task_for_verksamhetsansvarig(
    client_as, time_machine, va, vs, ks, everyone
):
    time_machine.move_to(NOW - timedelta(days=400), tick=True)
    _drill(va, everyone)
    time_machine.move_to(NOW, tick=True)

    line = _line("telephony_fault")
    assert line.last_drill.isoformat() == "2025-10-21" and line.next_due.isoformat() == "2026-10-21"
    assert line.overdue
    page = client_as(ks).get(LIVE).content.decode()
    shown = _plan_line(page, "telephony_fault")
    assert "senast övad 2025-10-21" in shown and "nästa senast 2026-10-21" in shown and "Dags att öva" in shown
    # Apart from the live list, which has no disruption.
    assert "Inga pågående störningar just nu." in page
    assert "Planera och genomför övning" not in page

    task = "Planera och genomför övning: Störningar i telefonin (senast övad 2025-10-21)"
    page = client_as(va).get(LIVE).content.decode()
    assert re.search(rf'<a href="[^"]+">{re.escape(task)}</a>', _plan_section(page))
    assert task not in client_as(vs).get(LIVE).content.decode()

    # A drill carried through today: done, next due in a year, no task left.
    _drill(va, everyone)
    line = _line("telephony_fault")
    assert (line.last_drill.isoformat(), line.next_due.isoformat(), line.overdue) == ("2026-11-25", "2027-11-25", False)
    page = client_as(va).get(LIVE).content.decode()
    assert "Planera och genomför övning: Störningar i telefonin" not in page
    shown = _plan_line(page, "telephony_fault")
    assert "senast övad 2026-11-25" in shown and "Dags att öva" not in shown


def test_the_next_drill_is_due_the_interval_after_the_last(va, everyone):
    _drill(va, everyone)
    drill_plan.set_interval(va, scenario="telephony_fault", interval_days=7)
    assert _line("telephony_fault").next_due.isoformat() == "2026-12-02"


def test_a_drill_broken_off_or_still_running_is_not_a_drill_done(client_as, va, everyone):
    broken = _drill(va, everyone, carried_through=False)
    drills.break_off(va, broken.pk, "En verklig störning kom emellan")
    _drill(va, everyone, carried_through=False)

    line = _line("telephony_fault")
    assert line.last_drill is None and line.overdue
    page = client_as(va).get(LIVE).content.decode()
    assert "Planera och genomför övning: Störningar i telefonin (aldrig övad)" in page
    assert "En övning räknas som gjord när den har avslutats; en avbruten övning räknas inte." in page


def test_a_drill_counts_for_the_scenario_it_was_started_as(va, everyone):
    _drill(va, everyone, scenario="sesam_unreachable", reclassified_to="telephony_fault")
    assert _line("sesam_unreachable").last_drill.isoformat() == "2026-11-25"
    assert _line("telephony_fault").last_drill is None


def _poll(client, held=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIVE, headers={"HX-Request": "true", **(held or {})})
    return response, len(queries)


def test_the_live_list_poll_does_not_read_the_plan_and_the_page_does_not_grow_with_drill_history(
    client_as, va, everyone
):
    client = client_as(va)
    first, render_before = _poll(client)
    assert "drill-plan" not in first.content.decode()
    held = {"If-None-Match": first["ETag"]}
    _unchanged, unchanged_before = _poll(client, held)

    client.get(LIVE)
    with CaptureQueriesContext(connection) as page_queries:
        client.get(LIVE)
    one_drill_page = None
    for n in range(3):
        _drill(va, everyone, scenario=["telephony_fault", "kundservice_link_loss", "telephony_fault"][n])
        drill_plan.set_interval(va, scenario="telephony_fault", interval_days=30 + n)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIVE)
        assert page.status_code == 200
        if one_drill_page is None:
            one_drill_page = len(queries)
        assert len(queries) == one_drill_page
    # Plans and drills cost the whole page nothing more than it paid with none.
    assert one_drill_page == len(page_queries)

    # A closed drill leaves the live list as it was: its poll is unchanged, at the same cost.
    again, unchanged_after = _poll(client, held)
    assert again.status_code == 204 and unchanged_after == unchanged_before
    cache.clear()
    rendered, render_after = _poll(client)
    assert "drill-plan" not in rendered.content.decode()
    assert render_after == render_before
