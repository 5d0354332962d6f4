"""Inspel: while a drill runs its leader makes things go wrong from the incident page — SA does
not answer, the prognosis passes, the telephony goes down, a prescriber calls — through the
same services and timer engine as when it happens for real, each on the timeline; and the
scorecard's reading of how each was answered (``drills.injections``)."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents import drills, events, services, timers
from incidents.models import DutyHours, Incident, State, TimelineEvent, Timer
from runbook.errors import ActionRefused
from timer_support import restore_seed_data

pytestmark = pytest.mark.django_db

# A Tuesday morning in November: SA is on duty, so an escalation waits for SA's acknowledgement.
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
SCALE = 30  # the 15-minute acknowledgement in 30 seconds, the 4 hours in 8 minutes
PANEL = 'id="inspel"'


@pytest.fixture(autouse=True)
def _seed_data(db):
    restore_seed_data()


@pytest.fixture
def clock():
    # Ticking: an injection's entry is stamped when it was asked for, what it set off after.
    with time_machine.travel(TUESDAY_MORNING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def drill(clock, va, vs, ks, sa, tel):
    return drills.start_drill(
        va, scenario="sesam_unreachable", participants=[vs.pk, ks.pk, sa.pk, tel.pk], time_scale=SCALE
    )


def inject(client, user, incident, kind, note=""):
    client.force_login(user)
    return client.post(reverse("drills:inject", args=[incident.pk, kind]), {"note": note})


def page(client, user, incident):
    client.force_login(user)
    response = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def timeline(incident):
    return list(TimelineEvent.objects.filter(incident=incident).order_by("at", "id"))


def injected(incident):
    return [e for e in timeline(incident) if e.kind == TimelineEvent.Kind.INJECTED]


def fallbacks(incident):
    return TimelineEvent.objects.filter(incident=incident, kind="timer", data__timer=events.SA_FALLBACK)


def test_sa_no_answer_fires_the_fallback_now_and_the_ack_deadline_never_again(client, clock, drill, va, vs):
    services.escalate(vs, drill.pk)
    deadline = Timer.objects.get(incident=drill, kind=Timer.Kind.ACK_TIMEOUT)
    assert "SA svarar inte" in page(client, va, drill)

    response = inject(client, va, drill, "sa_no_answer", note="SA är på lunch")

    assert response.status_code == 302
    [fallback] = fallbacks(drill)
    assert fallback.data["reason"] == events.NOT_ACKNOWLEDGED
    task = drill.tasks.get(step_key="servicedesk_incident")
    assert not task.is_done
    deadline.refresh_from_db()
    assert deadline.state == Timer.State.FIRED and deadline.outcome == "fallback"
    # The timeline says the injection first, then what it set off.
    [entry] = injected(drill)
    assert entry.message == "Inspel: SA svarar inte" and entry.note == "SA är på lunch"
    assert timeline(drill).index(entry) < timeline(drill).index(fallback)
    assert fallback.pk in entry.data["caused"] and task.pk in entry.data["tasks"]
    assert "Inspel: SA svarar inte" in page(client, vs, drill)

    # The original deadline (15 minutes, here 30 seconds) comes and goes: the sweep fires
    # nothing, no second fallback.
    assert deadline.due_at < timezone.now() + timedelta(minutes=1)
    clock.shift(timedelta(minutes=1))
    assert timers.fire_due_timers() == {}
    assert fallbacks(drill).count() == 1
    assert drill.tasks.filter(step_key__startswith="servicedesk_incident").count() == 1
    # And it is done: SA has fallen back already.
    response = inject(client, va, drill, "sa_no_answer")
    assert response.status_code == 302 and len(injected(drill)) == 1


def test_prognosis_passes_now_with_its_reminder_and_the_reserve_routine_it_held(client, clock, drill, va, vs, sa):
    services.escalate(vs, drill.pk)
    services.acknowledge(sa, drill.pk)
    clock.shift(timedelta(minutes=5))
    services.record_prognosis(sa, drill.pk, timezone.now() + timedelta(hours=1))
    said = drill.events.get(kind=TimelineEvent.Kind.PROGNOSIS)
    clock.shift(timedelta(minutes=4))  # past the drill's 4 hours: the prognosis holds the reserve routine
    assert timers.fire_due_timers() == {"held_by_prognosis": 1}
    clock.shift(timedelta(minutes=1))

    response = inject(client, va, drill, "prognosis_passes")

    assert response.status_code == 302
    incident = Incident.objects.get(pk=drill.pk)
    assert timezone.now() - timedelta(seconds=5) < incident.prognosis_at <= timezone.now()
    assert incident.prognosis_passed()
    assert drill.events.filter(kind="timer", data__timer=events.PROGNOSIS_PASSED).count() == 1
    assert drill.tasks.filter(step_key="renew_prognosis", done_at=None).exists()
    # As when a holding prognosis passes for real: the reserve routine starts.
    assert incident.state == State.RESERVE_ROUTINE
    # What SA said stays on the timeline as said; the injection says it was moved.
    assert TimelineEvent.objects.get(pk=said.pk).message == said.message
    [entry] = injected(drill)
    assert entry.message.startswith("Inspel: prognosen") and entry.data["prognosis_was"]

    # The prognosis' old time comes: nothing fires a second time.
    clock.shift(timedelta(hours=1))
    assert timers.fire_due_timers() == {}
    assert drill.events.filter(kind="timer", data__timer=events.PROGNOSIS_PASSED).count() == 1


def test_telephony_down_reclassifies_the_drill_and_its_telephony_steps_appear(client, clock, drill, va):
    response = inject(client, va, drill, "telephony_down")

    assert response.status_code == 302
    assert Incident.objects.get(pk=drill.pk).scenario == "telephony_fault"
    reclassified = drill.events.get(kind=TimelineEvent.Kind.RECLASSIFIED)
    assert reclassified.data == {"from": "sesam_unreachable", "to": "telephony_fault"}
    made = drill.tasks.filter(scenario="telephony_fault")
    assert made.filter(step_key="lavin_on").exists()
    [entry] = injected(drill)
    assert entry.message == "Inspel: telefonin går ner"
    assert set(entry.data["tasks"]) == set(made.values_list("pk", flat=True))
    # Done once: the drill is about the telephony now.
    inject(client, va, drill, "telephony_down")
    assert len(injected(drill)) == 1


def test_a_prescriber_calls_and_the_call_is_logged_as_any_call(client, clock, drill, va, vs):
    response = inject(client, va, drill, "caller")

    assert response.status_code == 302
    [call] = drill.events.filter(kind=TimelineEvent.Kind.CALLER_REPORT)
    assert call.message.startswith("Samtal: ") and call.data["prescribers"] == 1
    [entry] = injected(drill)
    assert "Förskrivare, vårdcentral (övning)" in entry.message
    assert entry.data["caused"] == [call.pk]
    # Shown where the callers' reports are gathered for SA.
    assert "Kan inte öppna Sesam LMN" in page(client, vs, drill)


def test_only_the_drills_leader_injects_and_sees_the_panel(client, clock, drill, make_user, va, vs, ks, sa):
    services.escalate(vs, drill.pk)
    other_va = make_user("verksamhetsansvarig")
    # Kept renderings of the page are per kind of viewer: the leader's is never shown to another.
    assert PANEL in page(client, va, drill)
    for person in (other_va, vs, ks, sa):
        assert PANEL not in page(client, person, drill)
    assert PANEL in page(client, va, drill)

    for person in (other_va, vs, ks, sa):
        for kind in events.Injection.ALL:
            assert inject(client, person, drill, kind).status_code == 403
    assert not injected(drill) and not fallbacks(drill).exists()
    assert Incident.objects.get(pk=drill.pk).scenario == "sesam_unreachable"
    assert not drill.events.filter(kind=TimelineEvent.Kind.CALLER_REPORT).exists()


def test_an_injection_that_does_not_apply_now_changes_nothing(client, clock, drill, va, vs):
    # Not escalated: SA has nothing to leave unanswered; no prognosis to pass.
    offered = [kind for kind, _label in drills.available_injections(va, drill)]
    assert offered == ["telephony_down", "caller"]
    before = len(timeline(drill))
    for kind in ("sa_no_answer", "prognosis_passes", "no_such_thing"):
        response = inject(client, va, drill, kind)
        assert response.status_code == 302
    assert len(timeline(drill)) == before
    follow = client.get(response.url)
    assert "Okänt inspel" in follow.content.decode()

    # Broken off: nothing more is injected, and the panel is gone.
    drills.break_off(va, drill.pk, "Klart för idag")
    after = len(timeline(drill))
    for kind in events.Injection.ALL:
        inject(client, va, drill, kind)
    assert len(timeline(drill)) == after
    assert PANEL not in page(client, va, drill)


def test_a_real_incident_takes_no_injection(clock, open_incident, va):
    real = open_incident()
    assert drills.available_injections(va, real) == []
    with pytest.raises(ActionRefused):
        drills.inject(va, real.pk, "caller")
    assert not real.events.filter(kind=TimelineEvent.Kind.INJECTED).exists()


def test_injections_say_when_and_how_each_was_answered(client, clock, drill, va, vs, ks, sa):
    services.escalate(vs, drill.pk)
    inject(client, va, drill, "sa_no_answer")
    inject(client, va, drill, "caller")
    clock.shift(timedelta(seconds=20))
    task = drill.tasks.get(step_key="servicedesk_incident")
    services.complete_task(vs, task.pk)
    clock.shift(timedelta(seconds=10))
    services.log_caller_report(ks, drill.pk, functions="Kan inte spara förskrivning")

    sa_no_answer, caller = drills.injections(Incident.objects.get(pk=drill.pk))

    assert sa_no_answer.kind == "sa_no_answer" and sa_no_answer.label == "SA svarar inte"
    assert sa_no_answer.at - TUESDAY_MORNING < timedelta(seconds=5)
    assert any("enhetschef" in c for c in sa_no_answer.caused)
    answer = sa_no_answer.answer
    assert answer.who.startswith(vs.first_name) and answer.what.startswith("Uppgift klar")
    assert timedelta(seconds=20) <= answer.after < timedelta(seconds=25)
    assert answer.after_real == answer.after * SCALE  # the routine's real time: 10 minutes
    assert caller.label == "ett samtal från en förskrivare"
    assert caller.answer.what.startswith("Samtal: Kan inte spara") and caller.answer.who.startswith(ks.first_name)
    assert timedelta(seconds=30) <= caller.answer.after < timedelta(seconds=35)

    # Not answered yet: said so, not made up.
    inject(client, va, drill, "telephony_down")
    *_, telephony = drills.injections(Incident.objects.get(pk=drill.pk))
    assert telephony.kind == "telephony_down" and telephony.answer is None
    assert len(telephony.caused) >= 2  # the new scenario, its tasks


@pytest.mark.django_db(transaction=True)
def test_sa_no_answer_racing_the_sweep_falls_back_once(require_postgres, make_user):
    """The leader presses "SA svarar inte" just as the sweep reaches the deadline: whichever
    comes first fires it, the other finds it gone; SA's fallback comes once."""
    restore_seed_data()
    DutyHours.objects.all().delete()
    DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(0), end=time(23, 59, 59)) for d in range(7))
    leader, vs = make_user("verksamhetsansvarig"), make_user("verksamhetsspecialist")
    drills_made = []
    for _n in range(4):
        drill = drills.start_drill(leader, scenario="sesam_unreachable", participants=[vs.pk], time_scale=SCALE)
        services.escalate(vs, drill.pk)
        drills_made.append(drill)
    errors, refused = [], []
    start = threading.Barrier(2)

    def press():
        try:
            start.wait()
            for drill in drills_made:
                try:
                    drills.inject(leader, drill.pk, "sa_no_answer")
                except ActionRefused:
                    refused.append(drill.pk)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def sweep():
        try:
            start.wait()
            for _drill in drills_made:
                timers.fire_due_timers(now=timezone.now() + timedelta(minutes=1))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press), threading.Thread(target=sweep)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for drill in drills_made:
        assert fallbacks(drill).count() == 1
        [deadline] = Timer.objects.filter(incident=drill, kind=Timer.Kind.ACK_TIMEOUT)
        assert deadline.state == Timer.State.FIRED and deadline.outcome == "fallback"
        # Injected only where the leader came first, and then it caused the fallback.
        entries = injected(drill)
        assert len(entries) == (0 if drill.pk in refused else 1)
        if entries:
            assert fallbacks(drill).get().pk in entries[0].data["caused"]


def test_the_panel_and_its_refusals_speak_english_to_an_english_reader(client, clock, drill, va):
    client.force_login(va)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    content = client.get(reverse("incidents:detail", args=[drill.pk])).content.decode()
    assert "Injections in the drill" in content and "The telephony goes down" in content

    response = client.post(reverse("drills:inject", args=[drill.pk, "sa_no_answer"]), follow=True)
    assert "applies only when the drill is escalated to SA" in response.content.decode()
    response = client.post(reverse("drills:inject", args=[drill.pk, "caller"]), follow=True)
    assert "The injection is made: A call from a prescriber" in response.content.decode()
    # The timeline is written in the routine's language, whoever pressed.
    assert injected(drill)[0].message.startswith("Inspel: ett samtal från en förskrivare")
