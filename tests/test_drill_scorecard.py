"""Resultat: a drill's scorecard shows each step of the routine, who did it and when, against
its time limit, all scaled back to the routine's real time; what was missed, the path the
drill took (SA's fallback), the leader's notes; drills side by side; who may see it; the PDF."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import squeezed
from django.db import IntegrityError, transaction
from django.urls import reverse

from drills import scorecard
from incidents import drills, services
from incidents.models import Drill, Incident, Task
from incidents.timers import fire_due_timers
from review import reports

pytestmark = pytest.mark.django_db

# A working Wednesday morning: SA is on duty, so escalating arms the 15-minute acknowledgement.
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


@pytest.fixture
def clock(time_machine, duty_hours):
    """clock(s): the drill's clock stands at T0 + s seconds (the drill's own, compressed, time)."""
    time_machine.move_to(T0, tick=False)

    def move(seconds, start=T0):
        moment = start + timedelta(seconds=seconds)
        time_machine.move_to(moment, tick=False)
        return moment

    return move


def _task(incident, step):
    return Task.objects.get(incident=incident, step_key=step)


def _run_sesam_drill(clock, va, vs, sa, ks):
    """A 30x drill of sesam_unreachable: escalated at once, SA does not acknowledge within the
    (scaled) 15 minutes, so the fallback runs; SA acknowledges late and never gives a prognosis;
    the reserve routine starts by its timer; service is restored and the drill closed."""
    clock(0)
    drill = drills.start_drill(
        va, scenario="sesam_unreachable", participants=[ks.pk, sa.pk, vs.pk], time_scale=30, summary="Höstens övning"
    )
    clock(5)
    services.escalate(vs, drill.pk)  # 2.5 min of the routine's 5
    moment = clock(30)
    assert fire_due_timers(now=moment) == {}  # the 15 minutes (30 s here) have not passed
    moment = clock(36)
    assert fire_due_timers(now=moment)["fallback"] == 1
    clock(41)
    services.acknowledge(sa, drill.pk)  # 36 s after escalating: 18 min, beyond the 15
    clock(50)
    services.complete_task(vs, _task(drill, "contact_vendor").pk)  # 45 s: 22.5 min of 30
    clock(86)
    services.complete_task(vs, _task(drill, "servicedesk_incident").pk)  # due at 66 s: 20 s late
    clock(100)
    services.complete_task(vs, _task(drill, "help_it_troubleshoot").pk)
    moment = clock(480)  # 8 minutes: the routine's 4 hours without a prognosis
    assert fire_due_timers(now=moment)["activated"] == 1
    clock(500)
    services.complete_task(va, _task(drill, "publish_reserve_notice").pk)
    clock(520)
    services.resolve(sa, drill.pk)
    clock(525)
    # No enhetschef is in Kontakter: the fallback left a task to phone one (outside the steps).
    for task in drill.tasks.filter(done_at__isnull=True, scenario="manual"):
        services.complete_task(vs, task.pk)
    clock(530)
    services.close(va, drill.pk, review={"what_happened": "Övningen gick enligt plan"})
    drill.refresh_from_db()
    assert drill.state == "closed"
    return drill


def _card(drill):
    return scorecard.build(scorecard.drill_for_scorecard(drill.pk))


def test_each_step_scaled_back_to_real_time_with_what_was_missed_and_the_fallback_path(
    clock, va, vs, sa, ks, client_as
):
    drill = _run_sesam_drill(clock, va, vs, sa, ks)

    card = _card(drill)
    assert not card.preliminary and not card.broken_off
    outcome = {s.step_key: s.outcome for s in card.steps}
    assert outcome == {
        "report_to_sa": "met",
        "inform_callers": "missed",  # nobody ticked it: the app ended it when the drill ended
        "help_it_troubleshoot": "met",
        "servicedesk_incident": "late",
        "contact_vendor": "met",
        "give_prognosis": "missed",  # SA never gave one; it could no longer be given
        "publish_reserve_notice": "met",
        "take_urgent_orders": "missed",
        "enter_reserve_orders": "met",
    }
    # In routine order, per role, and the late step 20 s late in a 30x drill: 10 minutes.
    assert [s.step_key for s in card.steps][:3] == ["report_to_sa", "inform_callers", "help_it_troubleshoot"]
    late = card.step("servicedesk_incident")
    assert late.late_by == timedelta(minutes=10)
    assert late.limit == timedelta(minutes=15) and late.taken == timedelta(minutes=25)
    assert late.done_by.startswith(vs.first_name)
    assert card.step("report_to_sa").taken == timedelta(minutes=2, seconds=30)
    assert card.step("report_to_sa").limit == timedelta(minutes=5)
    assert [n.step_key for n in card.not_reached] == ["renew_prognosis"]
    assert card.score_text == "5 av 9 steg i tid"
    # The incident report's durations, in the routine's time.
    assert card.duration("escalated") == timedelta(minutes=2, seconds=30)
    assert card.duration("acknowledged") == timedelta(minutes=20, seconds=30)
    assert card.duration("reserve") == timedelta(hours=4)
    assert card.duration("resolved") == timedelta(hours=4, minutes=20)
    assert card.duration("prognosis") is None
    assert card.escalation_to_ack == timedelta(minutes=18)
    # The fallback path: not acknowledged within the routine's 15 minutes, at 18 minutes in.
    assert card.fallback is not None and card.fallback.after_start == timedelta(minutes=18)
    assert card.reserve_by_timer is True

    page = client_as(va).get(reverse("drills:scorecard", args=[drill.pk]))
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.content.decode())
    assert "ÖVNING" in text
    assert "5 av 9 steg i tid" in text
    assert "Så räknas poängen" in text
    assert "Inga inspel gjordes i den här övningen." in text
    assert "10 min efter tidsgränsen" in text
    assert "25 min av 15 min" in text
    assert "aldrig utfört" not in text  # every missed step here was ended by the app
    assert "ingen gjorde steget; appen avslutade uppgiften" in text
    assert "Steg som inte blev aktuella" in text
    assert "SA:s reservväg togs:" in text and "inte kvitterad inom 15 min" in text
    assert "Reservrutinen aktiverades av tidsfristen (4 h 00 min utan prognos)" in text
    assert "18 min (rutinens gräns 15 min)" in text
    assert "Preliminärt resultat" not in text


def test_an_injected_sa_no_answer_shows_the_fallback_path_and_how_it_was_answered(clock, va, vs, sa, ks, client_as):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk, sa.pk], time_scale=30)
    clock(5)
    services.escalate(vs, drill.pk)
    clock(15)
    drills.inject(va, drill.pk, "sa_no_answer")  # the 15 minutes have not passed: SA "does not answer"
    clock(25)
    services.complete_task(vs, _task(drill, "servicedesk_incident").pk)  # 10 s: 5 min in real time
    clock(30)
    services.acknowledge(sa, drill.pk)

    card = _card(drill)
    assert card.preliminary
    [injection] = card.injections
    assert injection.label == "SA svarar inte" and injection.after_start == timedelta(minutes=7, seconds=30)
    assert injection.answered_after == timedelta(minutes=5)
    assert injection.answered_by.startswith(vs.first_name)
    assert card.fallback is not None and card.fallback.injected_by == "SA svarar inte"
    assert card.step("servicedesk_incident").outcome == "met"
    assert card.escalation_to_ack == timedelta(minutes=12, seconds=30)

    text = re.sub(r"\s+", " ", client_as(vs).get(reverse("drills:scorecard", args=[drill.pk])).content.decode())
    assert "Inspel: SA svarar inte" in text
    assert "Besvarat efter 5 min av" in text
    assert "efter inspelet ”SA svarar inte”" in text
    assert "SA:s reservväg togs:" in text


def test_a_running_drill_shows_a_preliminary_card(clock, va, ks, client_as):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    clock(20)  # the 5 minutes to report to SA (10 s here) have passed
    card = _card(drill)
    assert card.preliminary
    assert card.step("report_to_sa").outcome == "open" and card.step("report_to_sa").overdue
    assert card.score_text == "0 av 3 steg i tid"
    page = client_as(ks).get(reverse("drills:scorecard", args=[drill.pk]))
    assert "Preliminärt resultat" in page.content.decode()
    assert "Pågår</strong> – tidsgränsen har passerat" in page.content.decode()


def test_a_broken_off_drill_has_a_card_with_its_reason_and_what_it_never_did(clock, va, vs, ks):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk, vs.pk], time_scale=30)
    clock(5)
    services.escalate(vs, drill.pk)
    clock(60)
    drills.break_off(va, drill.pk, "Verklig störning pågår")
    card = _card(drill)
    assert card.broken_off and not card.preliminary
    assert card.step("report_to_sa").outcome == "met"
    assert card.step("contact_vendor").outcome == "missed"
    assert card.ended_at is not None and card.lasted == timedelta(minutes=30)


def test_the_leaders_notes_are_bounded_and_written_only_by_the_business_side(clock, va, vs, ks, client_as):
    clock(0)
    drill = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk], time_scale=10)
    url = reverse("drills:scorecard_notes", args=[drill.pk])

    response = client_as(va).post(url, {"notes": "  SA hittade inte länken; öva kvittensen.  "})
    assert response.status_code == 302
    assert Drill.objects.get(pk=drill.pk).notes == "SA hittade inte länken; öva kvittensen."
    page = client_as(va).get(reverse("drills:scorecard", args=[drill.pk])).content.decode()
    assert "SA hittade inte länken; öva kvittensen." in page

    too_long = client_as(vs).post(url, {"notes": "x" * (scorecard.NOTES_MAX + 1)})
    assert too_long.status_code == 400
    assert f"Anteckningar får vara högst {scorecard.NOTES_MAX} tecken." in too_long.content.decode()
    # A participant sees the card but may not write the notes.
    assert client_as(ks).post(url, {"notes": "Mitt eget"}).status_code == 403
    assert Drill.objects.get(pk=drill.pk).notes == "SA hittade inte länken; öva kvittensen."
    # What slips past the service, the database refuses.
    with pytest.raises(IntegrityError), transaction.atomic():
        Drill.objects.filter(pk=drill.pk).update(notes="x" * (scorecard.NOTES_MAX + 1))


def test_only_the_business_side_and_the_participants_see_a_card(clock, va, vs, ks, sa, tel, make_user, client_as):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    url = reverse("drills:scorecard", args=[drill.pk])
    other_ks = make_user("kundservice")
    for user, status in ((va, 200), (vs, 200), (ks, 200), (sa, 403), (tel, 403), (other_ks, 403)):
        assert client_as(user).get(url).status_code == status, user
        assert client_as(user).get(url, {"ladda-ner": "1"}).status_code in ((200,) if status == 200 else (403,))
    assert client_as(ks).get(reverse("drills:compare"), {"scenario": "sesam_unreachable"}).status_code == 403
    real = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    assert client_as(va).get(reverse("drills:scorecard", args=[real.pk])).status_code == 404
    anonymous = client_as(va)
    anonymous.logout()
    assert anonymous.get(url).status_code == 302  # to the sign-in page


def test_the_drills_page_and_its_incident_page_lead_those_who_may_see_it_to_the_card(
    clock, va, vs, ks, make_user, client_as
):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    link = reverse("drills:scorecard", args=[drill.pk])
    page = reverse("incidents:detail", args=[drill.pk])
    other_ks = make_user("kundservice")
    # The page is kept rendered per kind of viewer: a participant and another of the same role differ.
    for user, offered in ((ks, True), (other_ks, False), (ks, True), (vs, True)):
        assert (link in client_as(user).get(page).content.decode()) is offered, user
    assert "Övningens resultat hittills (preliminärt)" in client_as(ks).get(page).content.decode()
    assert link in client_as(va).get(reverse("drills:index")).content.decode()
    clock(60)
    drills.break_off(va, drill.pk, "Klart")
    assert "Övningens resultat</a>" in client_as(ks).get(page).content.decode()


def test_drills_of_a_scenario_side_by_side_in_real_time(clock, va, vs, sa, ks, client_as):
    first = _run_sesam_drill(clock, va, vs, sa, ks)
    # A second drill, a week later at 60x: escalated and acknowledged in time, a prognosis given.
    later = T0 + timedelta(days=7)
    clock(0, later)
    second = drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk, sa.pk], time_scale=60)
    clock(2, later)
    services.escalate(vs, second.pk)  # 2 min
    clock(6, later)
    services.acknowledge(sa, second.pk)  # 6 min from the start
    clock(10, later)
    services.record_prognosis(sa, second.pk, later + timedelta(seconds=100))
    clock(40, later)
    services.resolve(sa, second.pk)  # 40 min
    clock(45, later)
    for task in second.tasks.filter(done_at__isnull=True):
        services.complete_task(va, task.pk)
    services.close(va, second.pk, review={"what_happened": "Bättre"})
    # Neither another scenario's drill nor a real incident is compared.
    clock(0, later + timedelta(days=1))
    other = drills.start_drill(va, scenario="telephony_fault", participants=[ks.pk])
    drills.break_off(va, other.pk, "Fel scenario")
    services.open_incident(ks, scenario="sesam_unreachable", summary="Verklig")
    # A drill of sesam_unreachable whose phones "went down" (reclassified) still drilled it.
    clock(0, later + timedelta(days=2))
    phones = drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk], time_scale=30)
    drills.inject(va, phones.pk, "telephony_down")
    assert Incident.objects.get(pk=phones.pk).scenario != "sesam_unreachable"
    drills.break_off(va, phones.pk, "Slut på tid")

    comparison = scorecard.compare("sesam_unreachable", scorecard.drill_for_scorecard(second.pk))
    assert [c.incident.pk for c in comparison.cards] == [first.pk, second.pk]
    durations = dict(comparison.duration_rows)
    assert durations[str(reports.DURATIONS[1][1])] == ["21 min", "6 min"]  # to acknowledged
    assert durations[str(reports.DURATIONS[4][1])] == ["4 h 20 min", "40 min"]  # to restored
    rows = {text[:30]: cells for text, _role, cells in comparison.step_rows}
    ack_row = next(cells for text, cells in rows.items() if text.startswith("Ange prognos"))
    assert ack_row[0] == ("Missad", "missed") and ack_row[1][1] == "met"

    page = client_as(vs).get(reverse("drills:compare"), {"ovning": second.pk})
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.content.decode())
    assert "ÖVNING" in text
    for expected in ("version 2024-1", "30×", "60×", "5 av 9 steg i tid", "4 h 20 min", "40 min"):
        assert expected in text, expected
    assert f"#{other.pk}" not in text
    by_scenario = client_as(va).get(reverse("drills:compare"), {"scenario": "sesam_unreachable"})
    assert by_scenario.status_code == 200 and f"#{first.pk}" in by_scenario.content.decode()
    assert f"#{phones.pk}" in by_scenario.content.decode()
    assert [c.incident.pk for c in scorecard.compare("sesam_unreachable").cards] == [first.pk, second.pk, phones.pk]
    assert [c.incident.pk for c in scorecard.compare("telephony_fault").cards] == [other.pk]
    assert client_as(va).get(reverse("drills:compare"), {"scenario": "nope"}).status_code == 400
    assert Incident.objects.drills().count() == 4


def test_the_card_downloads_as_a_pdf_on_a4_like_the_incident_report(clock, va, vs, sa, ks, client_as, pdf_text):
    drill = _run_sesam_drill(clock, va, vs, sa, ks)
    scorecard.record_notes(va, drill.pk, "Öva SA:s kvittens igen")
    response = client_as(ks).get(reverse("drills:scorecard", args=[drill.pk]), {"ladda-ner": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="ovning-{drill.pk}-resultat.pdf"' in response["Content-Disposition"]
    assert pdf_text.info(response.content)["Page size"].strip() == "595.276 x 841.89 pts (A4)"
    text = squeezed(pdf_text(response.content))
    for expected in (
        "ÖVNING",
        f"Övning #{drill.pk}",
        "5 av 9 steg i tid",
        "10 min efter tidsgränsen",
        "SA:s reservväg togs:",
        "Öva SA:s kvittens igen",
        "Steg som inte blev aktuella",
    ):
        assert squeezed(expected) in text, expected
    assert squeezed("Spara anteckningarna") not in text


def test_the_card_reads_in_english_with_the_swedish_record_marked_as_such(clock, va, vs, ks, client):
    clock(0)
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[ks.pk], time_scale=30)
    clock(5)
    services.escalate(vs, drill.pk)
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    text = re.sub(r"\s+", " ", client.get(reverse("drills:scorecard", args=[drill.pk])).content.decode())
    assert '<html lang="en">' in text
    assert "1 of 4 steps on time" in text and "How the score is counted" in text
    # The timeline is written in Swedish whatever the reader reads: said so for screen readers.
    assert '<span lang="sv">Eskalera till systemansvarig' in text
