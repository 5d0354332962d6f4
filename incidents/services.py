"""Everything a person or a timer *does* to an incident, one function each.

Each function checks the person's permission on the server, locks the incident row, changes
it, and writes the timeline in one transaction. Views, the API, the admin and Celery tasks
all call these; none of them carries a rule of its own.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from routines import loader
from runbook import formatting, scenarios
from runbook.errors import ActionRefused, NeedsConfirmation
from runbook.scenarios import Role

from . import events, flows, offers, permissions, personal_data, preconditions, times
from .models import (
    Incident,
    ReserveOrder,
    State,
    Task,
    TimelineEvent,
)

# What pages offer (offers.py) is read from the same preconditions; the old names stay here.
from .timeline import log_event

logger = logging.getLogger(__name__)

SUMMARY_MAX = Incident._meta.get_field("summary").max_length
NOTE_MAX = 4000
REVIEW_MAX = 4000
# Uppföljning: what Verksamhetsansvarig writes before closing (what happened is required).
REVIEW_FIELDS = ("what_happened", "deviations", "actions")
# What a person may be asked to confirm before an action is done (NeedsConfirmation.key).
CONFIRM_RESERVE_NOW = "reservrutin-direkt"
CONFIRM_PERSONNUMMER = "personnummer"


def _confirm(warnings: list, confirmed: Iterable[str] | None) -> None:
    """Refuse with the warnings the person has not confirmed yet, if any."""
    unconfirmed = [(key, message) for key, message in warnings if key not in set(confirmed or ())]
    if unconfirmed:
        raise NeedsConfirmation(unconfirmed)


def _personnummer_warning(*texts: str) -> list:
    if any(personal_data.looks_like_personnummer(t) for t in texts):
        return [
            (
                CONFIRM_PERSONNUMMER,
                gettext_lazy(
                    "Texten ser ut att innehålla ett personnummer. Personuppgifter om patienter ska inte "
                    "skrivas här: texten visas i rapporter och exporter. Ta bort personnumret, eller "
                    "bekräfta att det inte är ett."
                ),
            )
        ]
    return []


def _check_open_rate(user: User | None, now: datetime) -> None:
    """One person opens at most OPEN_INCIDENT_LIMIT incidents in OPEN_INCIDENT_WINDOW."""
    limit, window = settings.OPEN_INCIDENT_LIMIT, settings.OPEN_INCIDENT_WINDOW
    if not limit or user is None or user.pk is None:
        return
    # When they arrived: a report kept on a device offline keeps the earlier time it was made.
    recent = Incident.objects.filter(reported_by=user, created_at__gte=now - window).count()
    if recent >= limit:
        raise ActionRefused(
            lambda: (
                _(
                    "Du har anmält %(n)d störningar de senaste %(minutes)d minuterna. Vänta en "
                    "stund, eller skriv i en pågående störning i stället."
                )
                % {"n": recent, "minutes": round(window.total_seconds() / 60)}
            ),
            code="rate_limited",
        )


def _time(check: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A time through its bounds (``times``), refused with the person's message."""
    try:
        return check(*args, **kwargs)
    except times.OutOfBounds as exc:
        refusal = exc
    raise ActionRefused(lambda: refusal.message, code="invalid")


def _require(user: User, codename: str) -> None:
    if not permissions.has(user, codename):
        raise ActionRefused(_("Du har inte behörighet att göra detta."), code="forbidden")


def _allowed(incident: Incident, action: str) -> None:
    """Refuse ``action`` (a name in ``preconditions.ACTIONS``) unless the incident allows it."""
    rule = preconditions.ACTIONS[action]
    if not rule.allowed(incident):
        raise ActionRefused(rule.refusal)


def _locked(incident_id: int) -> Incident:
    try:
        return Incident.objects.select_for_update().get(pk=incident_id)
    except Incident.DoesNotExist:
        raise ActionRefused(_("Störningen finns inte."), code="not_found") from None


def _clean_text(value: str | None, field_label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        # PostgreSQL cannot store NUL; the page forms refuse it too, this covers the API.
        raise ActionRefused(
            lambda: _("%(field)s innehåller otillåtna tecken.") % {"field": _(field_label)},
            code="invalid",
        )
    if required and not value:
        raise ActionRefused(lambda: _("%(field)s måste fyllas i.") % {"field": _(field_label)}, code="invalid")
    if len(value) > max_length:
        raise ActionRefused(
            lambda: _("%(field)s får vara högst %(n)d tecken.") % {"field": _(field_label), "n": max_length},
            code="invalid",
        )
    return value


# --- reporting -------------------------------------------------------------------------


@transaction.atomic
def open_incident(
    user: User,
    *,
    scenario: str,
    summary: str,
    began_at: datetime | None = None,
    triage: dict | None = None,
    note: str = "",
    reported_at: datetime | None = None,
    confirmed: Iterable[str] = (),
    routine: str | None = None,
) -> Incident:
    """Anmäl störning. Kundservice's report is itself the routine's internal escalation.

    ``routine`` is the key of the routine (the IT system) the disruption is in: the app's own
    when not named. The incident is pinned to that routine's version in force.

    ``reported_at`` is when the report was made, if not now: a report kept on a device while
    the network was down (``offline.services``, which checks that time's bounds).

    A start so early that the reserve routine's deadline has passed starts the reserve
    routine, and its public notice, at once: the person is told and must confirm
    (``confirmed``), as for a summary that looks like it holds a personnummer.
    """
    _require(user, "report_incident")
    try:
        version = loader.in_force(routine)
    except loader.NoVersionInForce:
        raise ActionRefused(
            _("Okänd rutin: det finns ingen publicerad rutin med den nyckeln."), code="invalid", field="routine"
        ) from None
    if scenario not in version.scenarios:
        raise ActionRefused(
            lambda: _("Okänt scenario: %(system)s har inget scenario med den nyckeln.") % {"system": version.system},
            code="invalid",
            field="scenario",
        )
    summary = _clean_text(summary, _("Sammanfattning"), SUMMARY_MAX)
    note = _clean_text(note, _("Anteckning"), NOTE_MAX, required=False)
    real_now = timezone.now()
    now = _time(times.recorded_at, reported_at, real_now) or real_now
    began_at = _time(times.began_at, began_at, now) or now
    _check_open_rate(user, real_now)
    warnings = _personnummer_warning(summary, note)
    reserve_after = loader.duration(version, "reserve_routine_after")
    if times.reserve_deadline_passed(version.scenario(scenario), began_at, reserve_after, real_now):
        warnings.append(
            (
                CONFIRM_RESERVE_NOW,
                lambda: (
                    _(
                        "Störningen började för mer än %(after)s sedan. Reservrutinen för akuta förskrivningar "
                        "och dess notis på Vårdgivare Skåne startar direkt när du anmäler. Bekräfta att "
                        "starttiden stämmer."
                    )
                    % {"after": formatting.duration_words(reserve_after)}
                ),
            )
        )
    _confirm(warnings, confirmed)

    return create_incident(
        user,
        version,
        scenario=scenario,
        summary=summary,
        began_at=began_at,
        reported_at=now,
        note=note,
        triage=triage,
    )


def create_incident(
    user: User,
    version: loader.Loaded,
    *,
    scenario: str,
    summary: str,
    began_at: datetime,
    reported_at: datetime,
    note: str = "",
    triage: dict | None = None,
    is_drill: bool = False,
    time_scale: int = 1,
    before_report: Callable[[Incident], object] | None = None,
) -> Incident:
    """Make the incident, pinned to ``version``, and start its routine: for the services
    that have checked the person and the input (``open_incident``, ``drills.start_drill``).
    ``before_report`` is called with the new incident before its first timeline entry, which
    sets off its first notices (a drill's participants are known to them)."""
    incident = Incident.objects.create(
        pinned_version_id=version.id,
        routine_version=version.label,
        scenario=scenario,
        summary=summary,
        began_at=began_at,
        reported_at=reported_at,
        reported_by=user,
        is_drill=is_drill,
        time_scale=time_scale,
    )
    if before_report is not None:
        before_report(incident)
    text = _("Övning startad: %(scenario)s") if is_drill else _("Störning anmäld: %(scenario)s")
    log_event(
        incident,
        TimelineEvent.Kind.REPORTED,
        text % {"scenario": incident.scenario_def.title},
        actor=user,
        note=note,
        data={"scenario": scenario, "began_at": began_at.isoformat(), "triage": triage or {}}
        | ({"drill": True, "time_scale": time_scale} if is_drill else {}),
        at=reported_at,
    )
    flows.on_state_reached(incident, State.REPORTED, actor=user)
    return incident


# --- transitions -----------------------------------------------------------------------


def _refusal_for_state(incident: Incident, name: str) -> Callable[[], str]:
    """Why ``name`` cannot be fired now, as a message worked out in the reader's language."""
    if name == "close":
        facts = incident.close_blocker_facts()
        if incident.state == State.RESOLVED and (facts[0] or facts[1]):
            # The facts as they are now, worded when read, in the reader's language.
            return lambda: (
                _("Kan inte avslutas än: %(reasons)s")
                % {"reasons": " ".join(str(b) for b in incident.close_blockers(facts))}
            )
    if name == "cancel" and incident.is_drill:
        return lambda: _("En övning makuleras inte: övningsledaren avbryter den med ”Avbryt övningen”.")
    if name == "acknowledge" and incident.state == State.ACKNOWLEDGED:
        ack = (
            incident.events.filter(
                kind=events.Kind.TRANSITION, **{f"data__{events.NAME}": events.Transition.ACKNOWLEDGE}
            )
            .order_by("-at")
            .first()
        )
        if ack:
            return lambda: (
                _("Eskaleringen är redan kvitterad av %(who)s kl. %(time)s.")
                % {
                    "who": ack.actor_label,
                    "time": timezone.localtime(ack.at).strftime("%H:%M"),
                }
            )
    state = State(incident.state)
    return lambda: (
        _("”%(action)s” går inte när störningen har status ”%(state)s”.")
        % {
            "action": offers.transition_label(name),
            "state": state.label,
        }
    )


@transaction.atomic
def fire(
    user: User | None,
    incident_id: int,
    name: str,
    *,
    note: str = "",
    reason: str = "",
    review: dict | None = None,
    now: datetime | None = None,
) -> Incident:
    """Fire one transition of the state machine on behalf of a person (or the system).

    Closing needs a review (``review``); closing and cancelling end the incident, which the
    review side hears of in the same transaction (``flows.on_ended_record_changed``).
    """
    if name not in permissions.TRANSITION_PERMISSIONS:
        raise ActionRefused(_("Okänd åtgärd."), code="invalid")
    note = _clean_text(note, _("Anteckning"), NOTE_MAX, required=False)
    incident = _locked(incident_id)
    if user is not None and not permissions.may_fire(user, incident, name):
        raise ActionRefused(
            lambda: _("Du har inte behörighet att ”%(action)s”.") % {"action": offers.transition_label(name)},
            code="forbidden",
        )
    if name == "cancel":
        reason = _clean_text(reason, _("Skäl till makulering"), 500)
    method = getattr(incident, name)
    if name == "close" and can_proceed(method):
        review = _clean_review(review)
    if not can_proceed(method):
        raise ActionRefused(_refusal_for_state(incident, name), code="conflict")

    previous = incident.state
    method()
    if name == "cancel":
        incident.cancel_reason = reason
    try:
        # A savepoint, so that the transaction can still read who won after a lost race.
        with transaction.atomic():
            incident.save()
    except ConcurrentTransition:
        raise ActionRefused(_refusal_for_state(Incident.objects.get(pk=incident_id), name)) from None

    log_event(
        incident,
        TimelineEvent.Kind.TRANSITION,
        _("%(action)s – status: %(state)s")
        % {"action": offers.transition_label(name), "state": incident.get_state_display()},
        actor=user,
        note=reason if name == "cancel" and not note else note,
        data={events.NAME: name, "from": previous, "to": incident.state}
        | ({"review": review} if name == "close" else {}),
        at=now,
    )
    flows.on_transition(incident, name, previous, actor=user)
    return incident


def escalate(user: User, incident_id: int, note: str = "") -> Incident:
    return fire(user, incident_id, "escalate", note=note)


def acknowledge(user: User, incident_id: int, note: str = "") -> Incident:
    return fire(user, incident_id, "acknowledge", note=note)


def await_it(user: User, incident_id: int, note: str = "") -> Incident:
    return fire(user, incident_id, "await_it", note=note)


def activate_reserve_routine(user: User, incident_id: int, note: str = "") -> Incident:
    return fire(user, incident_id, "activate_reserve_routine", note=note)


def resolve(user: User, incident_id: int, note: str = "") -> Incident:
    return fire(user, incident_id, "resolve", note=note)


def close(user: User, incident_id: int, review: dict | None, note: str = "") -> Incident:
    """Avsluta after review: ``review`` is a mapping of REVIEW_FIELDS, or the text of what happened."""
    return fire(user, incident_id, "close", note=note, review=review)


def _clean_review(review: dict | None) -> dict:
    if isinstance(review, str) or review is None:
        review = {"what_happened": review or ""}
    labels = {
        "what_happened": _("Vad hände"),
        "deviations": _("Avvikelser från rutinen"),
        "actions": _("Åtgärder"),
    }
    return {
        key: _clean_text(review.get(key), labels[key], REVIEW_MAX, required=key == "what_happened")
        for key in REVIEW_FIELDS
    }


def cancel(user: User, incident_id: int, reason: str) -> Incident:
    return fire(user, incident_id, "cancel", reason=reason)


# --- prognosis, notes, contacts -------------------------------------------------------


@transaction.atomic
def record_prognosis(user: User, incident_id: int, expected_at: datetime | None, note: str = "") -> Incident:
    """Ange prognos: a time when Sesam LMN is expected back, or None for "Ingen prognos"."""
    _require(user, preconditions.ACTIONS["prognosis"].permission)
    note = _clean_text(note, _("Anteckning"), NOTE_MAX, required=False)
    incident = _locked(incident_id)
    _allowed(incident, "prognosis")
    now = timezone.now()
    expected_at = _time(times.prognosis, expected_at, now)

    if expected_at is None:
        incident.prognosis_kind = Incident.PrognosisKind.NONE
        incident.prognosis_at = None
        message = _("Ingen prognos")
    else:
        incident.prognosis_kind = Incident.PrognosisKind.AT
        incident.prognosis_at = expected_at
        message = _("Prognos: åter %(time)s") % {"time": timezone.localtime(expected_at).strftime("%Y-%m-%d %H:%M")}
    incident.save(update_fields=["prognosis_kind", "prognosis_at", "updated_at"])
    log_event(
        incident,
        TimelineEvent.Kind.PROGNOSIS,
        message,
        actor=user,
        note=note,
        data={"expected_at": expected_at.isoformat() if expected_at else None},
        at=now,
    )
    flows.on_action(incident, "record_prognosis", actor=user)
    return incident


@transaction.atomic
def add_note(user: User, incident_id: int, text: str, confirmed: Iterable[str] = ()) -> TimelineEvent:
    _require(user, preconditions.ACTIONS["note"].permission)
    text = _clean_text(text, _("Anteckning"), NOTE_MAX)
    _confirm(_personnummer_warning(text), confirmed)
    incident = _locked(incident_id)
    _allowed(incident, "note")
    return log_event(incident, TimelineEvent.Kind.NOTE, _("Anteckning"), actor=user, note=text)


@transaction.atomic
def log_caller_report(
    user: User,
    incident_id: int,
    *,
    functions: str,
    error_message: str = "",
    prescribers: int = 1,
    since: datetime | None = None,
    at: datetime | None = None,
    confirmed: Iterable[str] = (),
) -> TimelineEvent:
    """What a calling prescriber reports, gathered for SA (routine section 1).

    ``at`` is when the call was registered, if not now (a report kept on a device offline).
    """
    _require(user, preconditions.ACTIONS["caller_report"].permission)
    functions = _clean_text(functions, _("Vad fungerar inte"), 500)
    error_message = _clean_text(error_message, _("Felmeddelande"), 500, required=False)
    if isinstance(prescribers, bool) or not isinstance(prescribers, int) or not 1 <= prescribers <= 10000:
        raise ActionRefused(_("Antal förskrivare måste vara ett heltal från 1."), code="invalid")
    incident = _locked(incident_id)
    _allowed(incident, "caller_report")
    at = _time(times.recorded_at, at)
    since = _time(times.caller_since, since, incident.began_at, at)
    _confirm(_personnummer_warning(functions, error_message), confirmed)
    data = {
        "functions": functions,
        "error_message": error_message,
        "prescribers": prescribers,
        "since": since.isoformat() if since else None,
    }
    return log_event(
        incident,
        TimelineEvent.Kind.CALLER_REPORT,
        _("Samtal: %(functions)s (%(n)d förskrivare)") % {"functions": functions, "n": prescribers},
        actor=user,
        note=error_message,
        data=data,
        at=at,
    )


@transaction.atomic
def record_it_contact(user: User, incident_id: int, *, servicedesk_ref: str = "", vendor_contact: str = "") -> Incident:
    """SA records the Servicedesk/Ritz ticket and the contact with the system vendor."""
    _require(user, preconditions.ACTIONS["it_contact"].permission)
    servicedesk_ref = _clean_text(servicedesk_ref, _("Ärendenummer"), 60, required=False)
    vendor_contact = _clean_text(vendor_contact, _("Leverantörskontakt"), 200, required=False)
    if not servicedesk_ref and not vendor_contact:
        raise ActionRefused(_("Fyll i ärendenummer eller leverantörskontakt."), code="invalid")
    incident = _locked(incident_id)
    _allowed(incident, "it_contact")
    parts = []
    if servicedesk_ref:
        incident.servicedesk_ref = servicedesk_ref
        parts.append(_("Ärende hos Servicedesk/Ritz: %(ref)s") % {"ref": servicedesk_ref})
    if vendor_contact:
        incident.vendor_contact = vendor_contact
        parts.append(_("Kontakt med systemleverantör: %(c)s") % {"c": vendor_contact})
    incident.save(update_fields=["servicedesk_ref", "vendor_contact", "updated_at"])
    log_event(
        incident,
        TimelineEvent.Kind.IT_CONTACT,
        "; ".join(str(p) for p in parts),
        actor=user,
        data={"servicedesk_ref": servicedesk_ref, "vendor_contact": vendor_contact},
    )
    return incident


@transaction.atomic
def reclassify(user: User, incident_id: int, scenario: str, note: str = "") -> Incident:
    """Byt scenario while live: the new scenario's tasks are added, nothing done is lost."""
    _require(user, preconditions.ACTIONS["reclassify"].permission)
    note = _clean_text(note, _("Anteckning"), NOTE_MAX, required=False)
    incident = _locked(incident_id)
    # The scenarios of the incident's own routine version, not of the one in force now.
    version = incident.routine
    if scenario not in version.scenarios:
        raise ActionRefused(_("Okänt scenario."), code="invalid")
    _allowed(incident, "reclassify")
    if incident.scenario == scenario:
        raise ActionRefused(_("Störningen har redan det scenariot."), code="invalid")
    previous = incident.scenario
    incident.scenario = scenario
    incident.save(update_fields=["scenario", "updated_at"])
    log_event(
        incident,
        TimelineEvent.Kind.RECLASSIFIED,
        _("Nytt scenario: %(new)s (tidigare %(old)s)")
        % {"new": version.scenario(scenario).title, "old": version.scenario(previous).title},
        actor=user,
        note=note,
        data={"from": previous, "to": scenario},
    )
    flows.on_reclassified(incident, previous, actor=user)
    return incident


# --- tasks -----------------------------------------------------------------------------


@transaction.atomic
def complete_task(user: User, task_id: int, incident_id: int | None = None) -> Task:
    """Klarmarkera. Given ``incident_id`` (the page or API path it was asked through), a task
    of another incident is not found, so that no id from elsewhere can be ticked."""
    try:
        task = Task.objects.select_related("incident").get(pk=task_id)
    except Task.DoesNotExist:
        raise ActionRefused(_("Uppgiften finns inte."), code="not_found") from None
    if incident_id is not None and task.incident_id != incident_id:
        raise ActionRefused(_("Uppgiften finns inte."), code="not_found")
    incident = _locked(task.incident_id)
    task = Task.objects.select_for_update().get(pk=task_id)
    if not permissions.may_complete_task(user, task):
        raise ActionRefused(
            lambda: (
                _("Uppgiften är %(role)ss; du har inte behörighet att klarmarkera den.")
                % {"role": Role.label(task.role)}
            ),
            code="forbidden",
        )
    if task.is_done:
        raise ActionRefused(_("Uppgiften är redan klarmarkerad."))
    done_by = preconditions.done_by_action(task)
    if done_by:
        # Ticking it would say it was done when it was not: the action itself does it.
        label = offers.action_label(done_by)
        raise ActionRefused(
            lambda: (
                _("Uppgiften blir klar när någon gör ”%(action)s”; den kan inte klarmarkeras för hand.")
                % {"action": label}
            ),
        )
    if not preconditions.still_owed(task, incident):
        raise ActionRefused(_(preconditions.ENDED))
    flows.mark_task_done(task, actor=user)
    _refigure_if_ended(incident)
    return task


# --- reserve-routine orders --------------------------------------------------------------


@transaction.atomic
def log_reserve_order(
    user: User, incident_id: int, *, reference: str, product_area: str, prescriber_unit: str
) -> ReserveOrder:
    """Registrera en akut förskrivning som tagits under reservrutinen (no patient data)."""
    _require(user, preconditions.ACTIONS["reserve_order"].permission)
    reference = _clean_text(reference, _("Blankettens referens"), 60)
    if personal_data.looks_like_personnummer(reference, checksum=False):
        raise ActionRefused(
            _("Referensen ser ut som ett personnummer. Ange blankettens löpnummer i stället."),
            code="invalid",
        )
    prescriber_unit = _clean_text(prescriber_unit, _("Förskrivarens enhet"), 200)
    if product_area not in ReserveOrder.ProductArea.values:
        raise ActionRefused(_("Okänt produktområde."), code="invalid")
    incident = _locked(incident_id)
    _allowed(incident, "reserve_order")
    order = ReserveOrder.objects.create(
        incident=incident,
        reference=reference,
        product_area=product_area,
        prescriber_unit=prescriber_unit,
        logged_by=user,
    )
    log_event(
        incident,
        TimelineEvent.Kind.RESERVE_ORDER,
        _("Akut förskrivning registrerad: %(ref)s (%(area)s)")
        % {"ref": reference, "area": order.get_product_area_display()},
        actor=user,
        data={"order_id": order.pk, "reference": reference, "product_area": product_area},
    )
    return order


@transaction.atomic
def mark_order_entered(user: User, order_id: int, incident_id: int | None = None) -> ReserveOrder:
    """The urgent order has been entered into Sesam LMN after service came back.
    Given ``incident_id``, an order of another incident is not found."""
    _require(user, preconditions.ACTIONS["order_entered"].permission)
    try:
        order = ReserveOrder.objects.get(pk=order_id)
    except ReserveOrder.DoesNotExist:
        raise ActionRefused(_("Förskrivningen finns inte."), code="not_found") from None
    if incident_id is not None and order.incident_id != incident_id:
        raise ActionRefused(_("Förskrivningen finns inte."), code="not_found")
    incident = _locked(order.incident_id)
    order = ReserveOrder.objects.select_for_update().get(pk=order_id)
    if order.entered_in_sesam:
        raise ActionRefused(_("Förskrivningen är redan inlagd i Sesam LMN."))
    _allowed(incident, "order_entered")
    order.entered_in_sesam = True
    order.entered_at = timezone.now()
    order.save(update_fields=["entered_in_sesam", "entered_at"])
    log_event(
        incident,
        TimelineEvent.Kind.RESERVE_ORDER,
        _("Akut förskrivning %(ref)s inlagd i Sesam LMN") % {"ref": order.reference},
        actor=user,
        data={"order_id": order.pk, "entered": True},
    )
    if not incident.reserve_orders.filter(entered_in_sesam=False).exists():
        flows.on_action(incident, scenarios.ALL_ORDERS_ENTERED, actor=user)
    return order


# --- tasks made by other apps ------------------------------------------------------------

MANUAL_SCENARIO = preconditions.MANUAL_SCENARIO


@transaction.atomic
def steps_delivered(incident_id: int, channel: str, action: str, what: str) -> None:
    """A message the app sent was delivered: the routine's steps it does are marked done by
    the system, with what was delivered (``flows.steps_delivered``)."""
    incident = _locked(incident_id)
    flows.steps_delivered(incident, channel, action, what)
    _refigure_if_ended(incident)


@transaction.atomic
def settle_manual_task(incident: Incident, *, key: str, via: str = "app") -> Task | None:
    """The app did after all what a manual task asked a person to do (a notice sent again),
    or made it obsolete (``via="superseded"``: a later notice replaced the one that failed):
    the task, if still open, is marked done by the system. Returns it, or None."""
    task = (
        Task.objects.select_for_update()
        .filter(incident=incident, scenario=MANUAL_SCENARIO, step_key=key[:60], done_at__isnull=True)
        .first()
    )
    if task is None:
        return None
    if via == "superseded":
        flows.mark_task_done(
            task,
            via=via,
            message=_("Uppgiften behövs inte längre, ett senare meddelande har skickats: %(text)s")
            % {"text": task.short_text()},
        )
    else:
        flows.mark_task_done(task, via=via)
    _refigure_if_ended(_locked(incident.pk))
    return task


@transaction.atomic
def add_manual_task(incident: Incident, role: str, text: str, *, reason: str = "", key: str) -> Task:
    """A task outside the routine's steps, made by the system for a named role.

    Used when something the app does on its own could not be done (a notice that could not
    be delivered) and a person must do it by hand. ``key`` makes it once-only per cause.
    """
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}")
    now = timezone.now()
    task, created = Task.objects.get_or_create(
        incident=incident,
        scenario=MANUAL_SCENARIO,
        step_key=key[:60],
        defaults={"role": role, "text": str(text), "created_at": now},
    )
    if created:
        log_event(
            incident,
            TimelineEvent.Kind.TASK_CREATED,
            _("Ny uppgift för %(role)s: %(text)s") % {"role": Role.label(role), "text": task.short_text()},
            note=str(reason),
            data={"task_id": task.pk, "step": task.step_key, "role": role, "manual": True},
            at=now,
        )
        _refigure_if_ended(_locked(incident.pk))
    return task


def _refigure_if_ended(incident: Incident) -> None:
    """A task made or done after the incident ended: its figures, taken when it ended, are
    taken again. ``incident`` is read (locked) in this transaction, not a copy from before."""
    flows.on_ended_record_changed(incident)
