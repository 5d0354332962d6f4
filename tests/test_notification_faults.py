"""A notice reaches a person or says that it did not; a fault in notices never blocks the routine."""

from datetime import timedelta

import pytest

from incidents import services
from incidents.models import Contact, DutyHours, State, Task, TimelineEvent
from notifications import rules
from notifications import services as notify
from notifications.models import Channel, Notification
from notifications.rules import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def sa_off_duty(db):
    DutyHours.objects.all().delete()  # no duty hours at all: SA is never on duty


def _texts(incident, kind=None):
    events = incident.events.all() if kind is None else incident.events.filter(kind=kind)
    return [f"{e.message} {e.note}" for e in events]


def _nothing_claims_a_person_was_told(incident):
    said = " ".join(_texts(incident)) + " ".join(t.text for t in incident.tasks.all())
    assert "har fått besked" not in said


def test_unit_manager_without_email_becomes_a_call_task_and_nothing_says_they_were_told(open_incident, vs, sa_off_duty):
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45")
    incident = open_incident()
    services.escalate(vs, incident.pk)

    call = Task.objects.get(incident=incident, text="Ring enhetschefen för SA: Eva Enhetschef, 040-123 45")
    assert call.role == "verksamhetsspecialist" and not call.is_done
    assert any(
        "Kan inte nås per e-post (ingen e-postadress): Ring enhetschefen för SA: Eva Enhetschef, 040-123 45" in t
        for t in _texts(incident, TimelineEvent.Kind.NOTIFICATION)
    )
    assert not incident.notifications.filter(action="sa_fallback").exists()
    _nothing_claims_a_person_was_told(incident)


def test_in_a_drill_the_call_to_the_unit_manager_is_rehearsed_not_made(va, vs, sa_off_duty):
    from incidents import drills

    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45")
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk], time_scale=30)
    services.escalate(vs, drill.pk)

    call = drill.tasks.get(text__contains="Ring enhetschefen för SA: Eva Enhetschef")
    assert call.text == "ÖVNING, ring inte på riktigt: Ring enhetschefen för SA: Eva Enhetschef, 040-123 45"
    _nothing_claims_a_person_was_told(drill)


def test_no_unit_manager_registered_is_a_call_task_that_says_so(open_incident, vs, sa_off_duty):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    call = incident.tasks.get(text__startswith="Ring enhetschefen för SA:")
    assert "ingen kontakt är registrerad" in call.text
    _nothing_claims_a_person_was_told(incident)


def test_unit_manager_mail_that_finally_fails_becomes_a_call_task(open_incident, vs, sa_off_duty, settings):
    Contact.objects.create(
        kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45", email="eva@demo.invalid"
    )
    settings.EMAIL_URL = "http://127.0.0.1:9/nobody-listens/"
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    incident = open_incident()
    services.escalate(vs, incident.pk)
    mail = incident.notifications.get(action="sa_fallback")
    assert not incident.tasks.filter(text__startswith="Ring enhetschefen").exists()

    assert notify.deliver(mail.pk) == "failed"
    call = incident.tasks.get(text="Ring enhetschefen för SA: Eva Enhetschef, 040-123 45")
    assert call.role == "verksamhetsspecialist"
    _nothing_claims_a_person_was_told(incident)


def test_unit_manager_mail_delivered_says_so_in_the_timeline(open_incident, vs, sa_off_duty, settings, live_server):
    from tests.notify_helpers import point_at_stubs

    point_at_stubs(settings, live_server.url)
    Contact.objects.create(
        kind=Contact.Kind.SA_MANAGER, name="Eva Enhetschef", phone="040-123 45", email="eva@demo.invalid"
    )
    incident = open_incident()
    services.escalate(vs, incident.pk)
    mail = incident.notifications.get(action="sa_fallback")
    assert notify.deliver(mail.pk) == "sent"
    assert any(t.startswith("E-post levererad till Eva Enhetschef") for t in _texts(incident))
    assert not incident.tasks.filter(text__startswith="Ring enhetschefen").exists()


# --- a fault in notifications never blocks the routine -------------------------------------


def test_a_message_that_cannot_be_rendered_does_not_stop_escalation(open_incident, vs, make_user, settings):
    sa = make_user("systemansvarig")
    sa.email = "sa@demo.invalid"
    sa.save()
    # A real fault: the e-mail's link to the incident cannot be built without SITE_URL.
    settings.SITE_URL = None
    incident = open_incident()

    services.escalate(vs, incident.pk)

    incident.refresh_from_db()
    assert incident.state == State.ESCALATED
    assert incident.tasks.get(step_key="report_to_sa").is_done
    # The other message of the same event was written as usual.
    assert incident.notifications.filter(channel=Channel.DRIFTINFO, action="publish").exists()
    assert not incident.notifications.filter(action="escalation").exists()
    failed = incident.events.get(kind=TimelineEvent.Kind.NOTIFICATION, data__status="not_queued")
    assert failed.message.startswith("Meddelandet kunde inte köas till E-post: Eskalering till systemansvarig")
    assert "TypeError" in failed.note
    task = incident.tasks.get(scenario="manual", step_key__startswith="not-queued-")
    assert task.role == "verksamhetsspecialist" and "Eskalering till systemansvarig" in task.text


def test_a_broken_rule_does_not_stop_the_action_and_becomes_a_task(open_incident, vs, monkeypatch):
    broken = Rule(
        key="broken_rule",
        event_kind="transition",
        match={"name": "escalate"},
        scenarios=("sesam_unreachable",),
        channel=Channel.DRIFTINFO,
        action="no_such_action",
    )
    rules_of = rules.rules_of
    monkeypatch.setattr(rules, "rules_of", lambda version: (*rules_of(version), broken))
    incident = open_incident()

    services.escalate(vs, incident.pk)

    incident.refresh_from_db()
    assert incident.state == State.ESCALATED
    assert incident.notifications.filter(channel=Channel.DRIFTINFO, rule="escalate_driftinfo").count() == 1
    task = incident.tasks.get(scenario="manual", step_key__startswith="not-queued-")
    assert task.role == "verksamhetsspecialist" and "driftinfo" in task.text
    assert Notification.objects.filter(rule="broken_rule").count() == 0
