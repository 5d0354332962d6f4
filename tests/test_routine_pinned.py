"""Every incident keeps the routine version it was reported under: publishing version 2 (a
step said differently, the reserve routine after 3 hours, SA's acknowledgement within 10
minutes) changes only incidents reported after it. The live incident of version 1 keeps its
tasks, deadlines, reclassification and report; the new one follows version 2 in all of them."""

import copy
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services, timers
from incidents.models import DutyHours, State, Timer
from routines import services as routine_services
from routines.models import Routine
from runbook import scenarios

pytestmark = pytest.mark.django_db

SESAM = scenarios.SESAM_UNREACHABLE.key
V1_REPORT_TO_SA = str(scenarios.SESAM_UNREACHABLE.step("report_to_sa").instruction)
V2_REPORT_TO_SA = "Anmäl genast till systemansvarig på regionala IT-funktionen och skriv vem du talade med."


@pytest.fixture
def sa_always_on_duty():
    DutyHours.objects.all().delete()
    DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(0), end=time(23, 59, 59)) for d in range(7))


def publish_version_2(va):
    routine = Routine.objects.get(key="sesam-lmn")
    draft = routine_services.start_draft(va, routine)
    document = copy.deepcopy(draft.document)
    sesam = next(s for s in document["scenarios"] if s["key"] == SESAM)
    next(step for step in sesam["steps"] if step["key"] == "report_to_sa")["instruction"] = V2_REPORT_TO_SA
    document["durations"] = {"reserve_routine_after": 3 * 3600, "ack_timeout": 10 * 60}
    draft = routine_services.save_draft(va, draft.pk, document, revision=draft.revision)
    return routine_services.publish(va, draft.pk, "Reservrutin efter 3 timmar", revision=draft.revision)


def escalate(vs, incident):
    """Escalate; returns the moments just before and after."""
    before = timezone.now()
    services.escalate(vs, incident.pk)
    return before, timezone.now()


def task_text(incident, step):
    return incident.tasks.get(scenario=SESAM, step_key=step).text


def pending(incident, kind):
    return incident.timers.get(kind=kind, state=Timer.State.PENDING).due_at


def test_publishing_version_2_changes_only_incidents_reported_after_it(
    sa_always_on_duty, open_incident, vs, va, client
):
    old = open_incident(SESAM)
    old_escalated = escalate(vs, old)

    publish_version_2(va)

    new = open_incident(SESAM)
    new_escalated = escalate(vs, new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.pinned_version.number, new.pinned_version.number) == (1, 2)

    # Tasks: each in its own version's words.
    assert task_text(old, "report_to_sa") == V1_REPORT_TO_SA
    assert task_text(new, "report_to_sa") == V2_REPORT_TO_SA

    # Deadlines: the reserve routine 4 h / 3 h after the start, acknowledgement 15 / 10 min.
    assert pending(old, Timer.Kind.RESERVE_ROUTINE) == old.began_at + timedelta(hours=4)
    assert pending(new, Timer.Kind.RESERVE_ROUTINE) == new.began_at + timedelta(hours=3)
    assert old_escalated[0] + timedelta(minutes=15) <= pending(old, Timer.Kind.ACK_TIMEOUT)
    assert pending(old, Timer.Kind.ACK_TIMEOUT) <= old_escalated[1] + timedelta(minutes=15)
    assert new_escalated[0] + timedelta(minutes=10) <= pending(new, Timer.Kind.ACK_TIMEOUT)
    assert pending(new, Timer.Kind.ACK_TIMEOUT) <= new_escalated[1] + timedelta(minutes=10)

    # Reclassifying the old incident away and back uses its own version: 4 hours again.
    services.reclassify(vs, old.pk, scenarios.KUNDSERVICE_LINK_LOSS.key)
    assert not old.timers.filter(kind=Timer.Kind.RESERVE_ROUTINE, state=Timer.State.PENDING).exists()
    services.reclassify(vs, old.pk, SESAM)
    assert pending(old, Timer.Kind.RESERVE_ROUTINE) == old.began_at + timedelta(hours=4)

    # The 3 hours pass: only the new incident goes to the reserve routine; then the 4 hours.
    timers.fire_due_timers(now=new.began_at + timedelta(hours=3, minutes=1))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (State.ESCALATED, State.RESERVE_ROUTINE)
    timers.fire_due_timers(now=old.began_at + timedelta(hours=4, minutes=1))
    old.refresh_from_db()
    assert old.state == State.RESERVE_ROUTINE
    assert old.events.filter(message__startswith="4 timmar utan prognos").exists()
    assert new.events.filter(message__startswith="3 timmar utan prognos").exists()

    # Both reports: each holds its incident to its own version.
    client.force_login(va)
    old_report = client.get(reverse("review:incident_report", args=[old.pk])).content.decode()
    new_report = client.get(reverse("review:incident_report", args=[new.pk])).content.decode()
    assert "Reservrutinen aktiverades automatiskt efter 4 h 00 min utan prognos." in old_report
    assert "Reservrutinen aktiverades automatiskt efter 3 h 00 min utan prognos." in new_report
    assert V2_REPORT_TO_SA in new_report and V2_REPORT_TO_SA not in old_report
    assert "Rutinens version</dt><dd>2024-1<" in old_report.replace("\n", "")
