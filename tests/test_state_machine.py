"""The incident's state machine (DESIGN section 3) and the tasks it makes from the routine."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, Task, TimelineEvent
from incidents.services import ActionRefused

SCENARIOS = ("full_it_outage", "sesam_unreachable", "kundservice_link_loss", "telephony_fault")
STATES = (
    "reported",
    "escalated",
    "acknowledged",
    "awaiting_it",
    "reserve_routine",
    "resolved",
    "closed",
    "cancelled",
)
LIVE = {"reported", "escalated", "acknowledged", "awaiting_it", "reserve_routine"}


def allowed(name, scenario, state):
    """The transitions DESIGN section 3 allows, written out independently of the model."""
    return {
        "escalate": state == "reported" and scenario == "sesam_unreachable",
        "acknowledge": state == "escalated",
        "await_it": state == "reported" and scenario == "full_it_outage",
        "activate_reserve_routine": (
            state in {"reported", "escalated", "acknowledged"} and scenario == "sesam_unreachable"
        ),
        "resolve": state in LIVE,
        "close": state == "resolved",
        "cancel": state in {"reported", "escalated"},
    }[name]


TARGET = {
    "escalate": "escalated",
    "acknowledge": "acknowledged",
    "await_it": "awaiting_it",
    "activate_reserve_routine": "reserve_routine",
    "resolve": "resolved",
    "close": "closed",
    "cancel": "cancelled",
}


class _Undo(Exception):
    pass


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_transition_is_allowed_or_refused_from_each_state(scenario, state, incident_in, everyone, snapshot):
    incident = incident_in(scenario, state)
    for task in incident.tasks.filter(done_at__isnull=True):
        # Only so that "close" is judged by the state here; open tasks are tested below.
        if state == "resolved":
            services.complete_task(everyone, task.pk)
    before = snapshot(incident)
    wrong = []
    for name, target in TARGET.items():
        try:
            with transaction.atomic():
                try:
                    fired = services.fire(everyone, incident.pk, name, reason="Falsklarm", review="Genomgången.")
                except ActionRefused as refused:
                    if allowed(name, scenario, state):
                        wrong.append(f"{name} refused: {refused.message}")
                    elif refused.code != "conflict":
                        wrong.append(f"{name} refused with code {refused.code}")
                    elif snapshot(incident) != before:
                        wrong.append(f"{name} refused but changed the incident")
                    elif not (
                        "går inte när störningen har status" in refused.message or "redan kvitterad" in refused.message
                    ):
                        wrong.append(f"{name} refused without saying why: {refused.message}")
                else:
                    if not allowed(name, scenario, state):
                        wrong.append(f"{name} was allowed")
                    elif Incident.objects.get(pk=incident.pk).state != target:
                        wrong.append(f"{name} led to {fired.state}, not {target}")
                    elif fired.events.filter(kind="transition", data__name=name).count() != 1:
                        wrong.append(f"{name} did not write exactly one transition event")
                raise _Undo
        except _Undo:
            pass
    assert snapshot(incident) == before
    assert wrong == [], f"{scenario} in {state}"


def test_refused_transition_names_the_action_and_the_state(incident_in, vs):
    incident = incident_in("telephony_fault", "reported")
    with pytest.raises(ActionRefused) as refused:
        services.escalate(vs, incident.pk)
    assert refused.value.code == "conflict"
    assert refused.value.message == ("”Eskalera till systemansvarig” går inte när störningen har status ”Anmäld”.")


def test_close_is_refused_while_tasks_are_open_and_says_which(incident_in, va, snapshot):
    incident = incident_in("kundservice_link_loss", "resolved")
    before = snapshot(incident)
    with pytest.raises(ActionRefused) as refused:
        services.close(va, incident.pk, review="Genomgången.")
    assert refused.value.code == "conflict"
    # The ongoing duty (help IT troubleshoot) ended when service was restored; what is left
    # is listed whole, each with its role.
    open_tasks = list(incident.tasks.filter(done_at__isnull=True))
    assert len(open_tasks) == 4
    assert refused.value.message.startswith("Kan inte avslutas än: 4 uppgifter är inte klara:")
    for task in open_tasks:
        assert task.text in refused.value.message
    assert "Telefoniansvarig: Lavinmeddelande läggs in på telefonslingan." in refused.value.message
    assert snapshot(incident) == before


def test_close_is_refused_while_reserve_orders_are_not_entered_in_sesam(incident_in, ks, va, snapshot):
    incident = incident_in("sesam_unreachable", "reserve_routine")
    order = services.log_reserve_order(
        ks, incident.pk, reference="LMN-0042", product_area="diabetes", prescriber_unit="VC Lund"
    )
    services.resolve(va, incident.pk)
    # Entering the orders is done by marking them entered, not by a tick.
    for task in incident.tasks.filter(done_at__isnull=True).exclude(step_key="enter_reserve_orders"):
        services.complete_task(va, task.pk)
    before = snapshot(incident)

    with pytest.raises(ActionRefused) as refused:
        services.close(va, incident.pk, review="Genomgången.")
    assert refused.value.code == "conflict"
    # The step of entering them stays open until they are: both are named.
    assert refused.value.message.startswith(
        "Kan inte avslutas än: 1 uppgift är inte klar: Kundservice: Driften är återställd: för in de akuta"
    )
    assert refused.value.message.endswith("1 akut förskrivning under reservrutinen är inte inlagd i Sesam LMN.")
    assert snapshot(incident) == before

    services.mark_order_entered(ks, order.pk)
    assert services.close(va, incident.pk, review="Genomgången.").state == "closed"


def test_cancel_needs_a_reason_and_keeps_it(incident_in, vs, snapshot):
    incident = incident_in("sesam_unreachable", "escalated")
    before = snapshot(incident)
    with pytest.raises(ActionRefused) as refused:
        services.cancel(vs, incident.pk, reason="  ")
    assert refused.value.message == "Skäl till makulering måste fyllas i."
    assert snapshot(incident) == before

    cancelled = services.cancel(vs, incident.pk, reason="Förskrivarens nätverk, inte Sesam")
    assert cancelled.state == "cancelled"
    assert cancelled.cancel_reason == "Förskrivarens nätverk, inte Sesam"
    assert cancelled.ended_at is not None


# --- tasks made from the routine --------------------------------------------------------


def open_steps(incident):
    return sorted(incident.tasks.filter(done_at__isnull=True).values_list("step_key", flat=True))


def all_steps(incident):
    return sorted(incident.tasks.values_list("step_key", flat=True))


@pytest.mark.parametrize(
    "scenario, steps",
    [
        ("full_it_outage", ["await_instructions"]),
        ("sesam_unreachable", ["help_it_troubleshoot", "inform_callers", "report_to_sa"]),
        (
            "kundservice_link_loss",
            ["connect_service_mobiles", "help_it_troubleshoot", "lavin_on", "request_driftinfo"],
        ),
        ("telephony_fault", ["lavin_on", "request_driftinfo"]),
    ],
)
def test_report_makes_the_scenarios_first_tasks(open_incident, scenario, steps):
    incident = open_incident(scenario=scenario)
    assert open_steps(incident) == steps
    routine_roles = dict(incident.tasks.values_list("step_key", "role"))
    if "lavin_on" in steps:
        assert routine_roles["lavin_on"] == "telefoniansvarig"


def test_sesam_unreachable_tasks_follow_the_routine_to_the_end(open_incident, vs, sa, ks, va):
    incident = open_incident(scenario="sesam_unreachable")

    services.escalate(vs, incident.pk)
    assert "contact_vendor" in open_steps(incident)
    assert "report_to_sa" not in open_steps(incident)

    services.acknowledge(sa, incident.pk)
    assert "give_prognosis" in open_steps(incident)

    services.record_prognosis(sa, incident.pk, None)
    assert "give_prognosis" not in open_steps(incident)

    services.activate_reserve_routine(va, incident.pk)
    assert {"publish_reserve_notice", "take_urgent_orders"} <= set(open_steps(incident))
    assert "enter_reserve_orders" not in all_steps(incident)

    services.resolve(sa, incident.pk)
    task = Task.objects.get(incident=incident, step_key="enter_reserve_orders")
    assert task.role == "kundservice"
    assert task.is_done  # no urgent order was taken: there is nothing to enter


def test_orders_to_enter_are_asked_for_only_after_a_reserve_routine(open_incident, vs, sa):
    incident = open_incident(scenario="sesam_unreachable")
    services.escalate(vs, incident.pk)
    services.resolve(sa, incident.pk)
    assert "enter_reserve_orders" not in all_steps(incident)


def test_full_it_outage_waits_for_it_and_then_records_instructions(open_incident, vs):
    incident = open_incident(scenario="full_it_outage")
    services.await_it(vs, incident.pk)
    assert open_steps(incident) == ["record_it_instructions"]
    done = Task.objects.get(incident=incident, step_key="await_instructions")
    assert done.done_by == vs


@pytest.mark.parametrize("scenario", ["kundservice_link_loss", "telephony_fault"])
def test_resolving_asks_telephony_to_take_the_broadcast_message_off(open_incident, sa, scenario):
    incident = open_incident(scenario=scenario)
    services.resolve(sa, incident.pk)
    task = Task.objects.get(incident=incident, step_key="lavin_off")
    assert task.role == "telefoniansvarig"
    assert not task.is_done


def test_escalating_completes_report_to_sa_in_the_name_of_who_escalated(open_incident, vs):
    incident = open_incident(scenario="sesam_unreachable")
    services.escalate(vs, incident.pk)
    task = Task.objects.get(incident=incident, step_key="report_to_sa")
    assert task.is_done
    assert task.done_by == vs
    done_event = incident.events.get(kind=TimelineEvent.Kind.TASK_DONE, data__step="report_to_sa")
    assert done_event.actor == vs


def test_recording_a_prognosis_completes_give_prognosis_in_sas_name(open_incident, vs, sa):
    incident = open_incident(scenario="sesam_unreachable")
    services.escalate(vs, incident.pk)
    services.acknowledge(sa, incident.pk)
    services.record_prognosis(sa, incident.pk, timezone.now() + timedelta(hours=2))
    task = Task.objects.get(incident=incident, step_key="give_prognosis")
    assert task.is_done
    assert task.done_by == sa


def test_task_due_time_follows_the_routines_limit(open_incident):
    before = timezone.now()
    incident = open_incident(scenario="sesam_unreachable")
    report_to_sa = Task.objects.get(incident=incident, step_key="report_to_sa")
    inform_callers = Task.objects.get(incident=incident, step_key="inform_callers")
    assert before + timedelta(minutes=5) <= report_to_sa.due_at <= timezone.now() + timedelta(minutes=5)
    assert inform_callers.due_at is None


# --- reclassification -------------------------------------------------------------------


def test_reclassifying_adds_the_new_scenarios_tasks_and_loses_nothing(open_incident, ks, vs, snapshot):
    incident = open_incident(scenario="kundservice_link_loss")
    services.complete_task(ks, Task.objects.get(incident=incident, step_key="connect_service_mobiles").pk)
    services.add_note(ks, incident.pk, "Förskrivare på VC Ystad når inte heller Sesam")
    before = snapshot(incident)

    services.reclassify(vs, incident.pk, "sesam_unreachable", note="Gäller alla förskrivare")

    after = snapshot(incident)
    assert after["scenario"] == "sesam_unreachable"
    assert after["state"] == "reported"
    assert set(before["tasks"]) <= set(after["tasks"]), "a task was lost or changed"
    assert before["events"] == after["events"][: len(before["events"])], "an event was lost or changed"
    new_tasks = set(incident.tasks.filter(scenario="sesam_unreachable").values_list("step_key", flat=True))
    assert {"report_to_sa", "inform_callers"} <= new_tasks
    reclassified = incident.events.get(kind=TimelineEvent.Kind.RECLASSIFIED)
    assert reclassified.note == "Gäller alla förskrivare"
    # The new scenario's next steps follow as usual.
    services.escalate(vs, incident.pk)
    assert "contact_vendor" in open_steps(incident)


def test_reclassifying_after_escalation_adds_tasks_for_every_state_reached(incident_in, vs, sa):
    incident = incident_in("sesam_unreachable", "acknowledged")
    services.reclassify(vs, incident.pk, "kundservice_link_loss")
    new_tasks = set(incident.tasks.filter(scenario="kundservice_link_loss").values_list("step_key", flat=True))
    assert {"connect_service_mobiles", "request_driftinfo", "lavin_on"} <= new_tasks
    assert "lavin_off" not in new_tasks
    assert Incident.objects.get(pk=incident.pk).state == "acknowledged"


def test_reclassifying_an_ended_incident_is_refused(incident_in, vs, snapshot):
    incident = incident_in("telephony_fault", "cancelled")
    before = snapshot(incident)
    with pytest.raises(ActionRefused) as refused:
        services.reclassify(vs, incident.pk, "sesam_unreachable")
    assert refused.value.code == "conflict"
    assert refused.value.message == "Scenario kan bara bytas medan störningen pågår."
    assert snapshot(incident) == before


def test_reclassifying_does_not_repeat_a_duty_both_scenarios_share(open_incident, vs):
    incident = open_incident(scenario="kundservice_link_loss")
    shared = Task.objects.get(incident=incident, step_key="help_it_troubleshoot")
    services.complete_task(vs, shared.pk)

    services.reclassify(vs, incident.pk, "sesam_unreachable")

    assert incident.tasks.filter(step_key="help_it_troubleshoot").count() == 1
    assert "help_it_troubleshoot" not in open_steps(incident)


def test_pressing_avsluta_with_open_tasks_shows_what_is_left(incident_in, va, client_as, snapshot):
    incident = incident_in("telephony_fault", "resolved")
    before = snapshot(incident)
    response = client_as(va).post(
        reverse("incidents:transition", args=[incident.pk, "close"]),
        {"what_happened": "Kabelfel i telefonväxeln."},
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert "Kan inte avslutas än: 3 uppgifter är inte klara:" in page
    assert "Driften är återställd: ta bort lavinmeddelandet från telefonslingan." in page
    assert snapshot(incident) == before


def test_pressing_eskalera_twice_tells_the_second_press_it_is_too_late(open_incident, vs, client_as):
    incident = open_incident(scenario="sesam_unreachable")
    client = client_as(vs)
    url = reverse("incidents:transition", args=[incident.pk, "escalate"])
    assert client.post(url).status_code == 302
    again = client.post(url)
    assert again.status_code == 409
    assert (
        "”Eskalera till systemansvarig” går inte när störningen har status ”Eskalerad till SA”."
        in again.content.decode()
    )
    assert incident.events.filter(kind="transition", data__name="escalate").count() == 1
