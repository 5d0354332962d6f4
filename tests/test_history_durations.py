"""Durations and routine steps derived from hand-built timelines (review.reports)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from review import reports
from review.reports import StepStatus

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SA, VS, VA, KS = 2, 3, 4, 1


@dataclass
class Ev:
    kind: str
    at: datetime
    data: dict = field(default_factory=dict)
    actor_id: int | None = None
    message: str = ""
    note: str = ""
    actor_label: str = ""


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def reported(scenario="sesam_unreachable", began=None):
    return Ev("reported", T0, {"scenario": scenario, "began_at": (began or T0).isoformat()}, KS)


def move(minutes, name, frm, to, actor=VS, **extra):
    return Ev("transition", at(minutes), {"name": name, "from": frm, "to": to, **extra}, actor)


def task(minutes, step, scenario, task_id, due_minutes=None):
    data = {"task_id": task_id, "step": step, "scenario": scenario, "role": "verksamhetsspecialist"}
    if due_minutes is not None:
        data["due_at"] = at(due_minutes).isoformat()
    return Ev("task_created", at(minutes), data)


def done(minutes, step, task_id, actor=VS):
    return Ev("task_done", at(minutes), {"task_id": task_id, "step": step}, actor)


def test_durations_from_report_to_each_milestone():
    events = [
        reported(),
        move(4, "escalate", "reported", "escalated"),
        move(16, "acknowledge", "escalated", "acknowledged", actor=SA),
        Ev("prognosis", at(40), {"expected_at": at(180).isoformat()}, SA),
        move(150, "resolve", "acknowledged", "resolved", actor=SA),
        move(300, "close", "resolved", "closed", actor=VA, review={"what_happened": "Databasfel"}),
    ]
    d = reports.derive(events)
    assert d.duration("escalated") == timedelta(minutes=4)
    assert d.duration("acknowledged") == timedelta(minutes=16)
    assert d.duration("prognosis") == timedelta(minutes=40)
    assert d.duration("reserve") is None
    assert d.duration("resolved") == timedelta(minutes=150)
    assert d.duration("closed") == timedelta(minutes=300)
    assert d.escalation_to_ack == timedelta(minutes=12)
    assert d.state == "closed" and d.is_ended
    assert d.review == {"what_happened": "Databasfel"}


def test_events_out_of_order_are_read_in_time_order():
    events = [move(150, "resolve", "escalated", "resolved"), move(4, "escalate", "reported", "escalated"), reported()]
    d = reports.derive(events)
    assert d.duration("escalated") == timedelta(minutes=4)
    assert d.state == "resolved"


def test_no_prognosis_is_an_answer_but_not_a_prognosis():
    events = [
        reported(),
        move(3, "escalate", "reported", "escalated"),
        Ev("prognosis", at(20), {"expected_at": None}, SA),
        Ev("prognosis", at(90), {"expected_at": at(200).isoformat()}, SA),
    ]
    assert reports.derive(events).duration("prognosis") == timedelta(minutes=90)


def test_reclassified_incident_keeps_first_milestones_and_both_scenarios_steps():
    events = [
        reported("kundservice_link_loss"),
        task(0, "connect_service_mobiles", "kundservice_link_loss", 1, due_minutes=15),
        Ev("reclassified", at(10), {"from": "kundservice_link_loss", "to": "sesam_unreachable"}, VS),
        task(10, "report_to_sa", "sesam_unreachable", 2, due_minutes=15),
        move(12, "escalate", "reported", "escalated"),
        done(12, "report_to_sa", 2),
        move(30, "acknowledge", "escalated", "acknowledged", actor=SA),
        done(40, "connect_service_mobiles", 1, actor=KS),
        move(100, "resolve", "acknowledged", "resolved", actor=SA),
        move(120, "close", "resolved", "closed", actor=VA),
    ]
    d = reports.derive(events)
    assert d.reclassified
    assert d.first_scenario == "kundservice_link_loss"
    assert d.scenario == "sesam_unreachable"
    # Escalation is measured from the report, not from the reclassification.
    assert d.duration("escalated") == timedelta(minutes=12)
    assert d.duration("acknowledged") == timedelta(minutes=30)
    by_step = {(s.scenario, s.step_key): s for s in d.steps}
    assert by_step[("sesam_unreachable", "report_to_sa")].status == StepStatus.ON_TIME
    assert by_step[("kundservice_link_loss", "connect_service_mobiles")].status == StepStatus.LATE
    assert by_step[("kundservice_link_loss", "connect_service_mobiles")].late_by == timedelta(minutes=25)
    # Steps of either scenario that never became due are listed as not due.
    assert by_step[("sesam_unreachable", "publish_reserve_notice")].status == StepStatus.NOT_DUE
    assert d.followed_routine is False


def test_reserve_routine_started_early_by_hand():
    began = T0 - timedelta(minutes=30)
    events = [
        reported(began=began),
        move(5, "escalate", "reported", "escalated"),
        move(90, "activate_reserve_routine", "escalated", "reserve_routine", actor=VA),
        move(400, "resolve", "reserve_routine", "resolved", actor=SA),
    ]
    d = reports.derive(events, reserve_after=timedelta(hours=4))
    assert d.began_at == began
    assert d.duration("reserve") == timedelta(minutes=90)
    assert d.reserve_by_hand and d.reserve_early
    assert d.followed_routine is None  # not ended yet


def test_reserve_routine_started_by_the_timer_is_neither_by_hand_nor_early():
    events = [
        reported(),
        move(5, "escalate", "reported", "escalated"),
        move(240, "activate_reserve_routine", "escalated", "reserve_routine", actor=None),
    ]
    d = reports.derive(events, reserve_after=timedelta(hours=4))
    assert d.duration("reserve") == timedelta(hours=4)
    assert not d.reserve_by_hand and not d.reserve_early


def test_open_steps_of_a_cancelled_incident_count_as_skipped():
    events = [
        reported(),
        task(0, "report_to_sa", "sesam_unreachable", 7, due_minutes=5),
        move(3, "cancel", "reported", "cancelled", actor=VA),
    ]
    d = reports.derive(events)
    assert d.state == "cancelled" and d.ended_at == at(3)
    step = next(s for s in d.steps if s.step_key == "report_to_sa")
    assert step.status == StepStatus.SKIPPED


def test_due_time_falls_back_to_the_routine_when_the_event_lacks_it():
    events = [reported(), task(0, "report_to_sa", "sesam_unreachable", 1), done(9, "report_to_sa", 1)]
    step = next(s for s in reports.derive(events).steps if s.step_key == "report_to_sa")
    assert step.due_at == at(5)
    assert step.status == StepStatus.LATE


def test_notices_are_listed():
    events = [reported(), Ev("notification", at(1), {"channel": "email", "status": "sent"}, message="E-post till SA")]
    notices = reports.derive(events).notices
    assert [(n.channel, n.message) for n in notices] == [("email", "E-post till SA")]


def test_percentile_matches_percentile_cont():
    assert reports.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert reports.percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == 91.0
    assert reports.percentile([None, 5], 0.9) == 5.0
    assert reports.percentile([], 0.5) is None


def test_format_duration():
    assert reports.format_duration(None) == "–"
    assert reports.format_duration(14 * 60) == "14 min"
    assert reports.format_duration(timedelta(hours=2, minutes=5)) == "2 h 05 min"
