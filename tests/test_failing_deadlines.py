"""A deadline that keeps failing to fire is seen: timeline, task, pages and /readyz."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import timers
from incidents.models import State, TimelineEvent, Timer

pytestmark = pytest.mark.django_db


def test_a_deadline_that_keeps_failing_is_told_after_three_sweeps(open_incident, va, client, settings):
    incident = open_incident("sesam_unreachable")
    timer = incident.timers.get(kind=Timer.Kind.RESERVE_ROUTINE)
    Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now() - timedelta(seconds=1))
    reserve_after = settings.RESERVE_ROUTINE_AFTER
    settings.RESERVE_ROUTINE_AFTER = None  # a real fault: firing it now raises

    def alerts():
        return incident.events.filter(kind=TimelineEvent.Kind.TIMER, data__timer="failing")

    for _ in range(2):
        assert timers.fire_due_timers()["error"] == 1
    timer.refresh_from_db()
    assert (timer.state, timer.attempts) == ("pending", 2) and "NoneType" in timer.last_error
    assert not alerts().exists() and not incident.tasks.filter(scenario="manual").exists()

    timers.fire_due_timers()
    [alert] = alerts()
    assert alert.message.startswith("Tidsfristen kunde inte utlösas (3 försök): Reservrutin aktiveras")
    task = incident.tasks.get(scenario="manual", step_key=f"timer-failing-{timer.pk}")
    assert task.role == "verksamhetsspecialist" and not task.is_done

    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Tidsfristen kunde inte utlösas (3 försök)" in page
    live = client.get(reverse("incidents:live")).content.decode()
    assert "Tidsfristen kunde inte utlösas (3 försök)" in live
    assert client.get("/readyz").json()["deadlines"] == "1 failing to fire"

    timers.fire_due_timers()  # still failing: counted, but told once
    assert alerts().count() == 1 and incident.tasks.filter(scenario="manual").count() == 1

    settings.RESERVE_ROUTINE_AFTER = reserve_after  # repaired: the next sweep fires it
    timers.fire_due_timers()
    incident.refresh_from_db()
    assert incident.state == State.RESERVE_ROUTINE
    assert client.get("/readyz").json()["deadlines"] == "ok"
