"""The per-incident summary row (``IncidentMetrics``) made from a derived timeline.

Pure: turns one incident's events into an unsaved row. The services write it when an
incident ends; ``rebuild_incident_metrics`` rewrites every row from the timeline.
"""

from . import reports
from .reports import StepStatus


def row_for(incident, events, model=None):
    """An unsaved metrics row for an ended incident (``model`` lets migrations pass theirs)."""
    if model is None:
        from .models import IncidentMetrics as model
    d = reports.derive(events, routine=incident.routine)
    search = [incident.summary, *d.notes]
    if d.review:
        search.extend(str(v) for v in d.review.values() if v)
    return model(
        incident_id=incident.pk,
        is_drill=incident.is_drill,
        # The target of "acknowledged in time": the pinned version's own, not a setting.
        ack_timeout_secs=int(incident.routine.duration("ack_timeout").total_seconds()),
        scenario=d.scenario or incident.scenario,
        first_scenario=d.first_scenario or incident.scenario,
        reclassified=d.reclassified,
        final_state=d.state,
        began_at=d.began_at or incident.began_at,
        reported_at=d.reported_at or incident.reported_at,
        ended_at=d.ended_at or incident.ended_at or incident.reported_at,
        escalated_at=d.escalated_at,
        acknowledged_at=d.acknowledged_at,
        first_prognosis_at=d.first_prognosis_at,
        reserve_at=d.reserve_at,
        resolved_at=d.resolved_at,
        closed_at=d.closed_at,
        had_reserve_routine=d.reserve_at is not None,
        reserve_by_hand=d.reserve_by_hand,
        reserve_early=d.reserve_early,
        secs_to_escalated=reports.seconds(d.duration("escalated")),
        secs_to_acknowledged=reports.seconds(d.duration("acknowledged")),
        secs_to_prognosis=reports.seconds(d.duration("prognosis")),
        secs_to_reserve=reports.seconds(d.duration("reserve")),
        secs_to_resolved=reports.seconds(d.duration("resolved")),
        secs_to_closed=reports.seconds(d.duration("closed")),
        secs_escalated_to_acknowledged=reports.seconds(d.escalation_to_ack),
        steps_on_time=d.count_steps(StepStatus.ON_TIME),
        steps_late=d.count_steps(StepStatus.LATE),
        steps_skipped=d.count_steps(StepStatus.SKIPPED),
        notices=min(len(d.notices), 32767),
        search_text="\n".join(s for s in search if s)[:20000],
    )
