"""The app ticks the steps it did itself; closing asks only what a person must confirm."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.models import DutyHours, Task, TimelineEvent
from incidents.services import ActionRefused
from notifications import services as notify
from tests.notify_helpers import point_at_stubs

pytestmark = pytest.mark.django_db


@pytest.fixture
def stubs(settings, live_server, monkeypatch):
    point_at_stubs(settings, live_server.url)
    monkeypatch.setattr(notify, "enqueue", lambda ids: None)  # these tests deliver by hand
    return live_server.url


@pytest.fixture
def sa_always_on_duty(db):
    DutyHours.objects.all().delete()
    DutyHours.objects.bulk_create(DutyHours(weekday=d, start=time(0), end=time(23, 59, 59)) for d in range(7))


def _open_steps(incident):
    return sorted(t.step_key for t in incident.tasks.filter(done_at__isnull=True))


def test_closing_a_sesam_incident_asks_only_what_a_person_must_confirm(
    stubs, sa_always_on_duty, open_incident, vs, sa, va, ks
):
    incident = open_incident("sesam_unreachable")
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.activate_reserve_routine(va, incident.pk)
    notify.sweep()
    # The notice on Vårdgivare Skåne was delivered: the app ticked that step, saying what.
    publish = incident.tasks.get(step_key="publish_reserve_notice")
    assert publish.is_done and publish.done_by is None
    done = incident.events.get(kind=TimelineEvent.Kind.TASK_DONE, data__task_id=publish.pk)
    assert done.data["via"] == "delivery" and "Reservrutin för akuta förskrivningar gäller" in done.note

    order = services.log_reserve_order(
        ks, incident.pk, reference="LMN-0042", product_area="diabetes", prescriber_unit="VC Lund"
    )
    services.resolve(sa, incident.pk)
    notify.sweep()
    enter = incident.tasks.get(step_key="enter_reserve_orders")
    with pytest.raises(ActionRefused):  # done by marking the orders, not by a tick
        services.complete_task(ks, enter.pk)
    services.mark_order_entered(ks, order.pk)
    enter.refresh_from_db()
    assert enter.is_done and enter.done_by == ks
    # Informing callers and taking urgent orders ended with the disruption; a prognosis can
    # no longer be given. Left: what only a person knows.
    assert _open_steps(incident) == ["contact_vendor"]
    for step in ("inform_callers", "take_urgent_orders", "help_it_troubleshoot"):
        assert incident.tasks.get(step_key=step).is_done
    give = incident.tasks.get(step_key="give_prognosis")
    assert give.is_done and give.done_by is None
    assert incident.events.filter(data__task_id=give.pk, data__moot=True).exists()

    services.complete_task(vs, incident.tasks.get(step_key="contact_vendor").pk)
    services.close(va, incident.pk, review="Genomgången.")


def test_lavinmeddelande_delivered_ticks_its_steps_on_and_off(stubs, open_incident, vs):
    incident = open_incident("telephony_fault")
    notify.sweep()
    assert incident.tasks.get(step_key="lavin_on").is_done
    assert incident.tasks.get(step_key="request_driftinfo").is_done
    services.resolve(vs, incident.pk)
    assert not incident.tasks.get(step_key="lavin_off").is_done  # not yet delivered
    notify.sweep()
    assert incident.tasks.get(step_key="lavin_off").is_done
    assert _open_steps(incident) == []


def test_a_step_done_by_an_action_cannot_be_ticked_by_hand(open_incident, vs, sa, va):
    incident = open_incident("sesam_unreachable")
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    give = incident.tasks.get(step_key="give_prognosis")
    for person in (sa, va, vs):
        with pytest.raises(ActionRefused) as refused:
            services.complete_task(person, give.pk)
        assert "Ange prognos" in refused.value.message
    give.refresh_from_db()
    assert not give.is_done

    # A repeated reminder behaves as its first: refused by hand, done by the prognosis.
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(seconds=1))
    first = Task.objects.create(
        incident=incident,
        scenario="sesam_unreachable",
        step_key="renew_prognosis~2",
        role="systemansvarig",
        text="Prognosen har passerat",
        created_at=timezone.now(),
    )
    with pytest.raises(ActionRefused):
        services.complete_task(sa, first.pk)
    services.record_prognosis(sa, incident.pk, None)
    first.refresh_from_db()
    assert first.is_done


def test_reporting_to_sa_by_hand_is_refused_and_ends_as_not_done_when_it_no_longer_can_be(open_incident, vs, va):
    incident = open_incident("sesam_unreachable")
    report = incident.tasks.get(step_key="report_to_sa")
    with pytest.raises(ActionRefused):
        services.complete_task(vs, report.pk)
    services.activate_reserve_routine(va, incident.pk)  # straight to the reserve routine
    report.refresh_from_db()
    assert report.is_done and report.done_by is None
    from review import reports

    derived = reports.derive(list(incident.events.all()))
    status = {s.step_key: s.status for s in derived.steps}
    assert status["report_to_sa"] == "skipped"


def test_the_page_offers_the_action_not_a_tick_for_a_step_an_action_does(open_incident, vs, client):
    from django.urls import reverse

    incident = open_incident("sesam_unreachable")
    client.force_login(vs)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Görs med ”Eskalera till systemansvarig”" in page
    assert "Klar: Hjälpmedel ska omedelbart" not in page
