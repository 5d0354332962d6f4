"""Incidents over the JSON API: parse, call a service or a selector, shape the answer.

Every change goes through ``services`` (which checks permissions and state) and every read
through ``selectors``; a refusal is a ``services.ActionRefused`` that ``runbook.api`` turns
into the one error shape.
"""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Path, Query, Router
from ninja.responses import Status

from routines import loader
from runbook.scenarios import Role

from . import offers, permissions, selectors, services
from .models import Incident
from .schemas import (
    ERRORS,
    MAX_ID,
    READ_ERRORS,
    IncidentFilters,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    PrognosisIn,
    TaskOut,
    TransitionIn,
    TransitionName,
)
from .services import ActionRefused
from .timeline import in_record_language

router = Router(tags=["incidents"])


def _require_view(user):
    if not permissions.has(user, "view_incident"):
        raise ActionRefused(_("Du har inte behörighet att se störningar."), code="forbidden")


def _known_keys(routine, scenario):
    """A filter names a routine and a scenario that exist (in a version in force), or is refused."""
    if not routine and not scenario:
        return
    systems = [v for v in loader.routines_in_force() if not routine or v.routine_key == routine]
    if routine and not systems:
        raise ActionRefused(
            _("Okänd rutin: det finns ingen publicerad rutin med den nyckeln."), code="invalid", field="routine"
        )
    if scenario and not any(scenario in v.scenarios for v in systems):
        raise ActionRefused(_("Okänt scenario."), code="invalid", field="scenario")


def _person(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _prognosis(incident, now):
    kind = incident.prognosis_kind
    passed = incident.is_live and incident.prognosis_passed(now)
    if kind == Incident.PrognosisKind.AT:
        label = timezone.localtime(incident.prognosis_at).strftime("%Y-%m-%d %H:%M")
    else:
        label = str(incident.get_prognosis_kind_display())
    return {"kind": kind, "label": label, "expected_at": incident.prognosis_at, "passed": passed}


def _summary(incident, now):
    routine = incident.routine
    return {
        "id": incident.pk,
        "routine": routine.routine_key,
        "system": routine.system,
        "scenario": incident.scenario,
        "scenario_title": str(incident.scenario_def.title),
        "state": incident.state,
        "state_label": str(incident.get_state_display()),
        "summary": incident.summary,
        "began_at": incident.began_at,
        "reported_at": incident.reported_at,
        "reported_by": _person(incident.reported_by),
        "ended_at": incident.ended_at,
        "prognosis": _prognosis(incident, now),
        "is_drill": incident.is_drill,
        "time_scale": incident.time_scale,
    }


def _task(task):
    return {
        "id": task.pk,
        "role": task.role,
        "role_label": str(Role.label(task.role)),
        "text": task.text,
        "due_at": task.due_at,
        "done": task.is_done,
        "done_at": task.done_at,
        "done_by": _person(task.done_by) if task.done_by_id else None,
    }


def _detail(user, incident_id):
    try:
        incident = selectors.incident_for_page(incident_id)
    except Incident.DoesNotExist:
        raise ActionRefused(_("Störningen finns inte."), code="not_found") from None
    now = timezone.now()
    return {
        **_summary(incident, now),
        "routine_version": incident.routine_version,
        "servicedesk_ref": incident.servicedesk_ref,
        "vendor_contact": incident.vendor_contact,
        "cancel_reason": incident.cancel_reason,
        "timers": selectors.timers_of(incident),
        "tasks": [_task(t) for t in incident.tasks.all()],
        "timeline": [
            {
                "id": e.pk,
                "at": e.at,
                "kind": e.kind,
                "actor": e.actor_label,
                "message": e.message,
                "note": e.note,
            }
            for e in incident.events.all()
        ],
        "notifications": selectors.notifications_of(incident),
        "transitions": [
            {"name": name, "label": offers.transition_label(name)}
            for name in offers.available_transitions(user, incident)
        ],
    }


@router.post("", response={201: IncidentOut, **ERRORS}, summary="Open an incident", operation_id="openIncident")
def open_incident(request: HttpRequest, data: IncidentIn):
    """Anmäl störning: open an incident in a scenario. Its first tasks are made at once."""
    with in_record_language():
        incident = services.open_incident(
            request.auth,
            routine=data.routine,
            scenario=data.scenario,
            summary=data.summary,
            began_at=data.began_at,
            note=data.note,
            confirmed=data.confirm,
        )
    return Status(201, _detail(request.auth, incident.pk))


@router.get("", response={200: IncidentPage, **READ_ERRORS}, summary="List incidents", operation_id="listIncidents")
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]):
    """Incidents, newest report first, filtered and paginated (`limit`, `offset`)."""
    _require_view(request.auth)
    _known_keys(filters.routine, filters.scenario)
    incidents = selectors.filtered_incidents(
        state=filters.state,
        routine=filters.routine,
        scenario=filters.scenario,
        phase=filters.phase,
        opened_after=filters.opened_after,
        opened_before=filters.opened_before,
        drills=filters.drill,
    )
    now = timezone.now()
    page = incidents[filters.offset : filters.offset + filters.limit]
    return {
        "count": incidents.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_summary(i, now) for i in page],
    }


@router.get(
    "/{incident_id}",
    response={200: IncidentOut, **READ_ERRORS},
    summary="Read an incident",
    operation_id="readIncident",
)
def read_incident(request: HttpRequest, incident_id: int = Path(..., ge=1, le=MAX_ID)):
    """State, scenario, prognosis, timers, tasks, timeline, notifications and the
    transitions the caller may fire now."""
    _require_view(request.auth)
    return _detail(request.auth, incident_id)


@router.post(
    "/{incident_id}/transitions/{name}",
    response={200: IncidentOut, **ERRORS},
    summary="Fire a transition",
    operation_id="fireTransition",
)
def fire_transition(
    request: HttpRequest,
    incident_id: int = Path(..., ge=1, le=MAX_ID),
    name: TransitionName = Path(...),
    data: TransitionIn | None = Body(None),
):
    """Fire `name` (e.g. `escalate`, `acknowledge`, `resolve`). 403 when your role may not,
    409 when the incident's state does not allow it. For `cancel` the note is the reason;
    `close` needs a `review`."""
    note = data.note if data is not None else ""
    review = data.review.dict() if data is not None and data.review is not None else None
    with in_record_language():
        if name == "cancel":
            services.cancel(request.auth, incident_id, reason=note)
        else:
            services.fire(request.auth, incident_id, name, note=note, review=review)
    return _detail(request.auth, incident_id)


@router.put(
    "/{incident_id}/prognosis",
    response={200: IncidentOut, **ERRORS},
    summary="Record a prognosis",
    operation_id="recordPrognosis",
)
def record_prognosis(request: HttpRequest, data: PrognosisIn, incident_id: int = Path(..., ge=1, le=MAX_ID)):
    """Ange prognos: when Sesam LMN is expected back, or `null` for “Ingen prognos”."""
    with in_record_language():
        services.record_prognosis(request.auth, incident_id, data.expected_at, note=data.note)
    return _detail(request.auth, incident_id)


@router.post(
    "/{incident_id}/tasks/{task_id}/done",
    response={200: TaskOut, **ERRORS},
    summary="Complete a task",
    operation_id="completeTask",
)
def complete_task(
    request: HttpRequest,
    incident_id: int = Path(..., ge=1, le=MAX_ID),
    task_id: int = Path(..., ge=1, le=MAX_ID),
):
    """Klarmarkera: a task of your role (Verksamhetsansvarig and -specialist: any task)."""
    with in_record_language():
        task = services.complete_task(request.auth, task_id, incident_id=incident_id)
    return _task(task)
