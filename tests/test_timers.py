"""Durable deadlines: the 4-hour reserve routine, SA's duty hours, acknowledgement and
prognosis reminders (DESIGN section 4). Time is moved with time-machine; the sweep is the
same service the beat-driven task calls."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from incidents import selectors, services, tasks, timers
from incidents.models import Contact, DutyHours, Incident, State, Task, TimelineEvent, Timer
from runbook import health
from timer_support import restore_seed_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seed_data(db):
    # Office hours and the Servicedesk contact as the migrations make them, even after
    # another module's transactional test has flushed the database.
    restore_seed_data()


STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A Tuesday morning in November: SA is on duty under the default office hours.
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 0, tzinfo=STOCKHOLM)
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=STOCKHOLM)
FOUR_HOURS = timedelta(hours=4)


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


def timer_events(incident, name):
    return list(incident.events.filter(kind=TimelineEvent.Kind.TIMER, data__timer=name))


def activations(incident):
    return incident.events.filter(kind=TimelineEvent.Kind.TRANSITION, data__name="activate_reserve_routine")


def fresh(incident):
    return Incident.objects.get(pk=incident.pk)


# --- the reserve routine -------------------------------------------------------------------


def test_sesam_unreachable_gets_reserve_deadline_four_hours_after_it_began(clock, open_incident):
    began = timezone.now() - timedelta(hours=1)
    incident = open_incident(began_at=began)
    timer = incident.timers.get()
    assert timer.kind == Timer.Kind.RESERVE_ROUTINE and timer.state == Timer.State.PENDING
    assert timer.due_at == began + FOUR_HOURS


def test_other_scenarios_get_no_reserve_deadline(clock, open_incident):
    for key in ("full_it_outage", "kundservice_link_loss", "telephony_fault"):
        assert not open_incident(scenario=key).timers.exists()


def test_reserve_routine_activates_when_due_without_prognosis(clock, open_incident):
    incident = open_incident()
    clock.shift(FOUR_HOURS - timedelta(seconds=1))
    assert timers.fire_due_timers() == {}
    assert fresh(incident).state == State.REPORTED

    clock.shift(timedelta(seconds=1))
    assert timers.fire_due_timers() == {"activated": 1}
    incident = fresh(incident)
    assert incident.state == State.RESERVE_ROUTINE
    assert len(timer_events(incident, "reserve_routine")) == 1
    transition = activations(incident).get()
    assert transition.actor is None and transition.actor_label == "Systemet"
    steps = set(incident.tasks.values_list("step_key", flat=True))
    assert {"publish_reserve_notice", "take_urgent_orders"} <= steps
    timer = incident.timers.get()
    assert timer.state == Timer.State.FIRED and timer.outcome == "activated"

    # Sweeping again, later, changes nothing.
    clock.shift(timedelta(minutes=5))
    assert timers.fire_due_timers() == {}
    assert activations(incident).count() == 1


def test_ingen_prognos_counts_as_missing(clock, open_incident, sa):
    incident = open_incident()
    services.record_prognosis(sa, incident.pk, None)
    clock.shift(FOUR_HOURS)
    timers.fire_due_timers()
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_valid_prognosis_holds_reserve_routine_until_it_passes(clock, open_incident, sa):
    incident = open_incident()
    back_at = timezone.now() + timedelta(hours=5)
    services.record_prognosis(sa, incident.pk, back_at)

    clock.shift(FOUR_HOURS)
    assert timers.fire_due_timers() == {"held_by_prognosis": 1}
    assert fresh(incident).state == State.REPORTED
    assert len(timer_events(incident, "reserve_routine_held")) == 1
    assert not timer_events(incident, "reserve_routine")
    assert incident.timers.pending().get(kind=Timer.Kind.RESERVE_ROUTINE).due_at == back_at

    clock.move_to(back_at)
    counts = timers.fire_due_timers()
    assert counts == {"reminded": 1, "activated": 1}
    incident = fresh(incident)
    assert incident.state == State.RESERVE_ROUTINE
    assert len(timer_events(incident, "prognosis_passed")) == 1
    assert activations(incident).count() == 1


def test_held_reserve_routine_activates_at_once_when_sa_then_says_ingen_prognos(clock, open_incident, sa):
    incident = open_incident()
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(hours=6))
    clock.shift(FOUR_HOURS)
    timers.fire_due_timers()
    clock.shift(timedelta(minutes=10))
    services.record_prognosis(sa, incident.pk, None)
    assert timers.fire_due_timers() == {"activated": 1}
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_prognosis_that_passed_before_the_deadline_counts_as_missing(clock, open_incident, sa):
    incident = open_incident()
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(hours=1))
    clock.shift(FOUR_HOURS)
    counts = timers.fire_due_timers()
    assert counts == {"reminded": 1, "activated": 1}
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_deadline_runs_from_when_the_disruption_began(clock, open_incident):
    incident = open_incident(began_at=timezone.now() - timedelta(hours=3, minutes=50))
    clock.shift(timedelta(minutes=10))
    timers.fire_due_timers()
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_incident_reported_after_four_hours_activates_at_next_sweep(clock, open_incident):
    incident = open_incident(began_at=timezone.now() - timedelta(hours=5), confirmed=[services.CONFIRM_RESERVE_NOW])
    assert incident.timers.get().due_at <= timezone.now()
    timers.fire_due_timers()
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_manual_activation_cancels_the_timer(clock, open_incident, va):
    incident = open_incident()
    clock.shift(timedelta(hours=1))
    services.activate_reserve_routine(va, incident.pk)
    timer = incident.timers.get()
    assert timer.state == Timer.State.CANCELLED and timer.outcome == "manual"
    clock.shift(FOUR_HOURS)
    assert timers.fire_due_timers() == {}
    assert activations(incident).count() == 1
    assert not timer_events(incident, "reserve_routine")


def test_resolved_or_cancelled_incident_has_no_pending_deadline(clock, open_incident, vs, sa):
    resolved = open_incident()
    services.escalate(vs, resolved.pk)
    services.record_prognosis(sa, resolved.pk, timezone.now() + timedelta(hours=1))
    services.resolve(sa, resolved.pk)
    cancelled = open_incident()
    services.cancel(vs, cancelled.pk, "Falsklarm")
    assert not Timer.objects.pending().exists()
    clock.shift(timedelta(hours=5))
    assert timers.fire_due_timers() == {}


def test_reclassifying_to_sesam_unreachable_starts_the_clock_from_when_it_began(clock, open_incident, vs):
    incident = open_incident(scenario="kundservice_link_loss", began_at=timezone.now() - timedelta(hours=1))
    assert not incident.timers.exists()
    services.reclassify(vs, incident.pk, "sesam_unreachable")
    assert incident.timers.get().due_at == incident.began_at + FOUR_HOURS
    services.reclassify(vs, incident.pk, "telephony_fault")
    assert not incident.timers.pending().exists()


def test_reserve_deadline_across_october_dst_change_is_four_real_hours(open_incident):
    # 25 October 2026: clocks go back from 03:00 CEST to 02:00 CET.
    began = datetime(2026, 10, 25, 0, 30, tzinfo=STOCKHOLM)
    with time_machine.travel(began, tick=False) as clock:
        incident = open_incident()
        due = incident.timers.get().due_at
        assert due - began == FOUR_HOURS
        # 00:30 CEST + 4 real hours is 03:30 CET on the wall clock (not 04:30).
        assert timezone.localtime(due).strftime("%H:%M %Z") == "03:30 CET"
        assert "03:30" in str(incident.timers.get().clock_text())

        clock.move_to(datetime(2026, 10, 25, 3, 29, 59, tzinfo=STOCKHOLM))
        assert timers.fire_due_timers() == {}
        clock.move_to(datetime(2026, 10, 25, 3, 30, tzinfo=STOCKHOLM))
        assert timers.fire_due_timers() == {"activated": 1}


# --- SA's duty hours and the fallback ----------------------------------------------------


@pytest.mark.parametrize(
    "local, on_duty",
    [
        (datetime(2026, 11, 24, 8, 0), True),  # Tuesday, start of the day
        (datetime(2026, 11, 24, 16, 29), True),
        (datetime(2026, 11, 24, 16, 30), False),  # end is exclusive
        (datetime(2026, 11, 24, 7, 59), False),
        (datetime(2026, 11, 28, 10, 0), False),  # Saturday
        (datetime(2026, 5, 14, 10, 0), False),  # Thursday, Kristi himmelsfärdsdag
        (datetime(2026, 12, 25, 10, 0), False),  # Friday, juldagen
        (datetime(2026, 6, 6, 10, 0), False),  # nationaldagen (a Saturday this year)
        (datetime(2026, 6, 19, 10, 0), False),  # Friday, midsommarafton
        (datetime(2026, 12, 24, 10, 0), False),  # Thursday, julafton
        (datetime(2026, 12, 31, 10, 0), False),  # Thursday, nyårsafton
        (datetime(2026, 12, 23, 10, 0), True),  # Wednesday before julafton
        (datetime(2026, 1, 5, 10, 0), True),  # Monday, trettondagsafton: a working day
        (datetime(2026, 4, 30, 10, 0), True),  # Thursday, valborgsmässoafton: a working day
    ],
)
def test_sa_duty_hours_are_office_hours_in_swedish_time_without_public_holidays(local, on_duty):
    assert selectors.sa_on_duty(local.replace(tzinfo=STOCKHOLM)) is on_duty


def test_sa_duty_hours_are_read_in_stockholm_time_whatever_the_zone_given():
    # 07:30 UTC on a winter Tuesday is 08:30 in Stockholm.
    assert selectors.sa_on_duty(datetime(2026, 11, 24, 7, 30, tzinfo=ZoneInfo("UTC")))
    # 06:30 UTC in summer is 08:30 CEST.
    assert selectors.sa_on_duty(datetime(2026, 6, 9, 6, 30, tzinfo=ZoneInfo("UTC")))


def test_duty_hours_are_editable(db):
    DutyHours.objects.create(weekday=DutyHours.Weekday.SATURDAY, start=time(9), end=time(12))
    assert selectors.sa_on_duty(SATURDAY)


def test_sa_off_duty_escalates_to_unit_manager_and_servicedesk(open_incident, vs):
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45")
    with time_machine.travel(SATURDAY, tick=False) as clock:
        incident = open_incident()
        services.escalate(vs, incident.pk)
        [event] = timer_events(incident, "sa_fallback")
        assert event.data["reason"] == "off_duty"
        assert "040-123 45" in event.note
        task = incident.tasks.get(step_key="servicedesk_incident")
        assert "Skapa incident hos Servicedesk (30 000 eller Ritz)" in task.text
        assert not incident.timers.filter(kind=Timer.Kind.ACK_TIMEOUT).exists()
        clock.shift(timedelta(hours=1))
        timers.fire_due_timers()
        assert len(timer_events(incident, "sa_fallback")) == 1
        assert incident.tasks.filter(step_key__startswith="servicedesk_incident").count() == 1


def test_sa_off_duty_on_a_weekday_holiday(open_incident, vs):
    with time_machine.travel(datetime(2026, 5, 14, 10, 0, tzinfo=STOCKHOLM), tick=False):
        incident = open_incident()
        services.escalate(vs, incident.pk)
        assert timer_events(incident, "sa_fallback")[0].data["reason"] == "off_duty"


def test_acknowledged_in_time_cancels_the_ack_deadline(clock, open_incident, vs, sa):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    timer = incident.timers.get(kind=Timer.Kind.ACK_TIMEOUT)
    assert timer.due_at == timezone.now() + timedelta(minutes=15)
    clock.shift(timedelta(minutes=10))
    services.acknowledge(sa, incident.pk)
    assert incident.timers.get(kind=Timer.Kind.ACK_TIMEOUT).state == Timer.State.CANCELLED
    clock.shift(timedelta(minutes=30))
    timers.fire_due_timers()
    assert not timer_events(incident, "sa_fallback")


def test_unacknowledged_escalation_contacts_unit_manager_once(clock, open_incident, vs, sa):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert timers.fire_due_timers() == {}
    clock.shift(timedelta(seconds=1))
    assert timers.fire_due_timers() == {"fallback": 1}
    [event] = timer_events(incident, "sa_fallback")
    assert event.data["reason"] == "ack_timeout" and event.actor_label == "Systemet"
    assert incident.tasks.filter(step_key="servicedesk_incident").count() == 1
    # A late acknowledgement is still welcome; nothing is sent twice.
    services.acknowledge(sa, incident.pk)
    clock.shift(timedelta(hours=1))
    timers.fire_due_timers()
    assert len(timer_events(incident, "sa_fallback")) == 1


# --- prognosis passed ------------------------------------------------------------------------


def test_prognosis_passed_reminds_sa_with_event_and_task(clock, open_incident, vs, sa):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(minutes=30))
    clock.shift(timedelta(minutes=30))
    assert timers.fire_due_timers() == {"reminded": 1}
    assert len(timer_events(incident, "prognosis_passed")) == 1
    task = incident.tasks.get(step_key="renew_prognosis")
    assert task.role == "systemansvarig" and not task.is_done

    # A new prognosis does the reminder; when that one passes too, a fresh reminder.
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(minutes=30))
    assert Task.objects.get(pk=task.pk).is_done
    clock.shift(timedelta(minutes=30))
    timers.fire_due_timers()
    assert len(timer_events(incident, "prognosis_passed")) == 2
    assert incident.tasks.filter(step_key="renew_prognosis~2", done_at__isnull=True).exists()


def test_changed_prognosis_replaces_the_reminder(clock, open_incident, sa):
    incident = open_incident()
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(minutes=30))
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(hours=2))
    assert incident.timers.pending().get(kind=Timer.Kind.PROGNOSIS_PASSED).due_at == timezone.now() + timedelta(hours=2)
    clock.shift(timedelta(minutes=31))
    assert timers.fire_due_timers() == {}


def test_no_reminder_once_service_is_back(clock, open_incident, sa):
    incident = open_incident()
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(minutes=30))
    services.resolve(sa, incident.pk)
    clock.shift(timedelta(hours=1))
    timers.fire_due_timers()
    assert not timer_events(incident, "prognosis_passed")


# --- the sweep -------------------------------------------------------------------------------


def test_sweep_task_writes_heartbeat_and_fires_due_deadlines(clock, open_incident):
    incident = open_incident()
    clock.shift(FOUR_HOURS)
    tasks.sweep()
    assert health.last_beat() == timezone.now()
    assert fresh(incident).state == State.RESERVE_ROUTINE


def test_one_broken_deadline_does_not_stop_the_others(clock, open_incident, monkeypatch):
    first, second = open_incident(), open_incident()
    real = timers._FIRINGS[Timer.Kind.RESERVE_ROUTINE]

    def broken_for_first(incident, timer, now):
        if incident.pk == first.pk:
            raise RuntimeError("boom")
        return real(incident, timer, now)

    monkeypatch.setitem(timers._FIRINGS, Timer.Kind.RESERVE_ROUTINE, broken_for_first)
    clock.shift(FOUR_HOURS)
    assert timers.fire_due_timers() == {"error": 1, "activated": 1}
    assert first.timers.get().state == Timer.State.PENDING  # rolled back, tried again next sweep
    assert fresh(second).state == State.RESERVE_ROUTINE


def test_idle_sweep_reads_pending_deadlines_through_the_partial_index(require_postgres):
    sql, params = (
        Timer.objects.due(timezone.now()).order_by("due_at", "id").values_list("pk")[:200].query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "timer_pending_due" in plan


# --- what people see ---------------------------------------------------------------------------


def test_incident_page_shows_clocks_and_contacts(clock, client, open_incident, ks):
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45")
    incident = open_incident()
    client.force_login(ks)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Klockor" in page
    assert "Reservrutin aktiveras 13:00 om prognos saknas" in page
    assert "om 4 h 0 min" in page
    assert "Eva Enhetschef" in page and 'href="tel:040-12345"' in page
    assert "Servicedesk Region Skåne" in page and "30 000" in page


def test_live_list_shows_each_pending_deadline(clock, client, open_incident, vs, ks):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    client.force_login(ks)
    page = client.get(reverse("incidents:live")).content.decode()
    assert "Reservrutin aktiveras 13:00 om prognos saknas" in page
    assert "Enhetschef för SA kontaktas 09:15 om eskaleringen inte kvitteras" in page
    assert "om 15 min" in page


def test_stale_scheduler_shows_banner_and_fails_readyz(clock, client, ks, settings):
    settings.SECURE_SSL_REDIRECT = False
    health.beat(now=timezone.now())
    client.force_login(ks)
    assert "Schemaläggaren" not in client.get(reverse("incidents:live")).content.decode()
    clock.shift(settings.TIMER_SWEEP_INTERVAL * 3 + timedelta(seconds=1))
    assert "Schemaläggaren (beat) har inte körts sedan" in client.get(reverse("incidents:live")).content.decode()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"].startswith("stale")


def test_a_deleted_heartbeat_reads_as_never_run(db):
    from runbook.models import Heartbeat

    health.beat()
    assert health.scheduler_stale() is None
    Heartbeat.objects.all().delete()
    assert health.scheduler_stale() == "never"
