"""Several sweeps at once (several workers, or a sweep slower than the interval) share the
due deadlines through row locks and fire each exactly once. Commits, so needs PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents import services, timers
from incidents.models import Incident, State, TimelineEvent
from timer_support import restore_seed_data


def fresh(incident):
    return Incident.objects.get(pk=incident.pk)


def activations(incident):
    return incident.events.filter(kind=TimelineEvent.Kind.TRANSITION, data__name="activate_reserve_routine")


def timer_events(incident, name):
    return list(incident.events.filter(kind=TimelineEvent.Kind.TIMER, data__timer=name))


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_fire_each_deadline_once(require_postgres, make_user, settings):
    restore_seed_data()
    settings.OPEN_INCIDENT_LIMIT = 0  # one person opens all thirty
    ks = make_user("kundservice")
    began = timezone.now() - timedelta(hours=5)
    incidents = [
        services.open_incident(
            ks,
            scenario="sesam_unreachable",
            summary=f"Nr {n}",
            began_at=began,
            confirmed=[services.CONFIRM_RESERVE_NOW],
        )
        for n in range(30)
    ]
    errors = []

    def sweep():
        try:
            timers.fire_due_timers()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for incident in incidents:
        assert fresh(incident).state == State.RESERVE_ROUTINE
        assert activations(incident).count() == 1
        assert len(timer_events(incident, "reserve_routine")) == 1
