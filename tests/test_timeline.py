"""The timeline: every change writes one event (who, when, what), and history is never edited."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Task, TimelineEvent

# Escalation outside SA's duty hours adds the fallback's events; this file is about the rest.
pytestmark = pytest.mark.usefixtures("sa_on_duty")

K = TimelineEvent.Kind
IN_TWO_HOURS = timezone.now() + timedelta(hours=2)


def _step(incident, key):
    return Task.objects.get(incident=incident, step_key=key).pk


def _order(incident, ks):
    return services.log_reserve_order(
        ks, incident.pk, reference="LMN-0101", product_area="special_food", prescriber_unit="VC Höör"
    )


# name: (scenario, state, role acting, action(person, incident, note), kind, message)
ACTIONS = {
    "escalate": (
        "sesam_unreachable",
        "reported",
        "verksamhetsspecialist",
        lambda p, i, n, ks: services.escalate(p, i.pk, note=n),
        K.TRANSITION,
        "Eskalera till systemansvarig – status: Eskalerad till SA",
    ),
    "acknowledge": (
        "sesam_unreachable",
        "escalated",
        "systemansvarig",
        lambda p, i, n, ks: services.acknowledge(p, i.pk, note=n),
        K.TRANSITION,
        "Kvittera – status: Kvitterad",
    ),
    "await_it": (
        "full_it_outage",
        "reported",
        "verksamhetsspecialist",
        lambda p, i, n, ks: services.await_it(p, i.pk, note=n),
        K.TRANSITION,
        "Avvaktar IT – status: Avvaktar IT",
    ),
    "activate_reserve_routine": (
        "sesam_unreachable",
        "acknowledged",
        "verksamhetsansvarig",
        lambda p, i, n, ks: services.activate_reserve_routine(p, i.pk, note=n),
        K.TRANSITION,
        "Aktivera reservrutin – status: Reservrutin aktiv",
    ),
    "resolve": (
        "telephony_fault",
        "reported",
        "systemansvarig",
        lambda p, i, n, ks: services.resolve(p, i.pk, note=n),
        K.TRANSITION,
        "Driften återställd – status: Åtgärdad",
    ),
    "close": (
        "full_it_outage",
        "resolved",
        "verksamhetsansvarig",
        # Waiting for IT was never marked: that step ended, not done, when service came back.
        lambda p, i, n, ks: services.close(p, i.pk, review="Genomgången.", note=n),
        K.TRANSITION,
        "Avsluta – status: Avslutad",
    ),
    "cancel": (
        "sesam_unreachable",
        "reported",
        "verksamhetsansvarig",
        lambda p, i, n, ks: services.cancel(p, i.pk, reason=n),
        K.TRANSITION,
        "Makulera – status: Makulerad",
    ),
    "complete_task": (
        "sesam_unreachable",
        "reported",
        "kundservice",
        lambda p, i, n, ks: services.complete_task(p, _step(i, "inform_callers")),
        K.TASK_DONE,
        "Uppgift klar: Kundservice informerar inringande förskrivare om driftstörning",
    ),
    "prognosis": (
        "sesam_unreachable",
        "acknowledged",
        "systemansvarig",
        lambda p, i, n, ks: services.record_prognosis(p, i.pk, IN_TWO_HOURS, note=n),
        K.PROGNOSIS,
        f"Prognos: åter {timezone.localtime(IN_TWO_HOURS):%Y-%m-%d %H:%M}",
    ),
    "no_prognosis": (
        "sesam_unreachable",
        "acknowledged",
        "systemansvarig",
        lambda p, i, n, ks: services.record_prognosis(p, i.pk, None, note=n),
        K.PROGNOSIS,
        "Ingen prognos",
    ),
    "note": (
        "kundservice_link_loss",
        "reported",
        "telefoniansvarig",
        lambda p, i, n, ks: services.add_note(p, i.pk, n),
        K.NOTE,
        "Anteckning",
    ),
    "caller_report": (
        "sesam_unreachable",
        "escalated",
        "kundservice",
        lambda p, i, n, ks: services.log_caller_report(
            p, i.pk, functions="Förskrivning sparas inte", error_message=n, prescribers=3
        ),
        K.CALLER_REPORT,
        "Samtal: Förskrivning sparas inte (3 förskrivare)",
    ),
    "it_contact": (
        "sesam_unreachable",
        "acknowledged",
        "systemansvarig",
        lambda p, i, n, ks: services.record_it_contact(p, i.pk, servicedesk_ref="INC0012345"),
        K.IT_CONTACT,
        "Ärende hos Servicedesk/Ritz: INC0012345",
    ),
    "reclassify": (
        "kundservice_link_loss",
        "reported",
        "verksamhetsspecialist",
        lambda p, i, n, ks: services.reclassify(p, i.pk, "sesam_unreachable", note=n),
        K.RECLASSIFIED,
        "Nytt scenario: Sesam LMN-server oåtkomlig för samtliga användare "
        "(tidigare Kundservice förlorar kontakt med Sesam LMN)",
    ),
    "reserve_order": (
        "sesam_unreachable",
        "reserve_routine",
        "kundservice",
        lambda p, i, n, ks: _order(i, p),
        K.RESERVE_ORDER,
        "Akut förskrivning registrerad: LMN-0101 (Speciallivsmedel)",
    ),
    "order_entered": (
        "sesam_unreachable",
        "reserve_routine",
        "kundservice",
        lambda p, i, n, ks: services.mark_order_entered(p, _order(i, ks).pk),
        K.RESERVE_ORDER,
        "Akut förskrivning LMN-0101 inlagd i Sesam LMN",
    ),
}
# Actions whose note is not kept on the event (the form has no note field for them).
WITHOUT_NOTE = {"complete_task", "it_contact", "reserve_order", "order_entered"}
ROLE_LABEL = {
    "kundservice": "Kundservice",
    "systemansvarig": "Systemansvarig",
    "verksamhetsansvarig": "Verksamhetsansvarig",
    "verksamhetsspecialist": "Verksamhetsspecialist",
    "telefoniansvarig": "Telefoniansvarig",
}


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_writes_one_event_with_who_when_and_what(action, incident_in, make_user, ks):
    scenario, state, role, do, kind, message = ACTIONS[action]
    incident = incident_in(scenario, state)
    person = make_user(role, username=f"anna-{role}")
    person.first_name, person.last_name = "Anna", "Andersson"
    person.save()
    note = "" if action in WITHOUT_NOTE else "Enligt samtal med IT kl. 09.12"
    known = set(incident.events.values_list("id", flat=True))
    before = timezone.now()

    do(person, incident, note, ks)

    after = timezone.now()
    new = incident.events.exclude(id__in=known).filter(actor=person)
    mine = [e for e in new if e.kind == kind]
    assert len(mine) == 1, [e.message for e in new]
    (event,) = mine
    assert event.actor_label == f"Anna Andersson ({ROLE_LABEL[role]})"
    assert before <= event.at <= after
    assert event.message.startswith(message), event.message
    assert event.note == note
    # What else the action set off is tasks (made or done) and queued notifications, each
    # its own event.
    others = [e.kind for e in incident.events.exclude(id__in=known).exclude(pk=event.pk)]
    allowed_others = {K.TASK_CREATED, K.TASK_DONE, K.NOTIFICATION}
    if action == "order_entered":
        allowed_others.add(K.RESERVE_ORDER)  # the order being logged first
    assert set(others) <= allowed_others, others


def test_reporting_writes_one_event_with_the_reporter_and_scenario(make_user):
    person = make_user("kundservice", username="karin")
    before = timezone.now()
    incident = services.open_incident(
        person, scenario="telephony_fault", summary="Kön tar inte emot samtal", note="Från VC Trelleborg"
    )
    (event,) = incident.events.filter(kind=K.REPORTED)
    assert event.actor == person
    assert event.actor_label == "Karin (Kundservice)"
    assert event.message == "Störning anmäld: Störningar i telefonin"
    assert event.note == "Från VC Trelleborg"
    assert before <= event.at <= timezone.now()


def test_tasks_made_by_the_routine_are_written_by_the_system(open_incident):
    incident = open_incident(scenario="telephony_fault")
    made = incident.events.filter(kind=K.TASK_CREATED)
    assert made.count() == incident.tasks.count() == 2
    assert {e.actor_label for e in made} == {"Systemet"}


def test_the_incident_page_shows_the_timeline(incident_in, sa, client_as):
    incident = incident_in("sesam_unreachable", "escalated")
    services.acknowledge(sa, incident.pk, note="Tittar på servern")
    page = client_as(sa).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Kvittera – status: Kvitterad" in page
    assert f"{sa.get_full_name()} (Systemansvarig)" in page
    assert "Tittar på servern" in page


def test_what_callers_report_is_summed_up_with_since_when(incident_in, ks, sa, client_as):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    incident = incident_in("sesam_unreachable", "escalated")
    earliest = (incident.began_at - timedelta(minutes=15)).replace(second=0, microsecond=0)
    services.log_caller_report(
        ks, incident.pk, functions="Sparar inte", prescribers=2, since=timezone.localtime(earliest)
    )
    services.log_caller_report(
        ks,
        incident.pk,
        functions="Sparar inte",
        prescribers=3,
        since=(earliest + timedelta(minutes=5)).astimezone(ZoneInfo("UTC")),
    )
    page = client_as(sa).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "2 samtal, 5 förskrivare berörda." in page
    shown = timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M")
    assert f"Problem sedan {shown} enligt den tidigaste uppgiften." in page


def test_the_timeline_shows_markup_in_notes_as_text_and_keeps_their_lines(incident_in, sa, client_as):
    incident = incident_in("sesam_unreachable", "escalated")
    services.add_note(sa, incident.pk, '<script>alert("x")</script> & <img src=x onerror=alert(1)>\nRad två')
    page = client_as(sa).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;<br>Rad två" in page
    )


# --- append-only ------------------------------------------------------------------------


@pytest.fixture
def event(open_incident):
    return open_incident().events.get(kind=K.REPORTED)


def test_an_event_cannot_be_changed_or_deleted_through_the_orm(event):
    event.message = "Ändrad historik"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    events = TimelineEvent.objects.filter(pk=event.pk)
    with pytest.raises(TypeError, match="append-only"):
        events.update(message="Ändrad historik")
    with pytest.raises(TypeError, match="append-only"):
        events.delete()
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        TimelineEvent.objects.bulk_update([event], ["message"])
    assert TimelineEvent.objects.get(pk=event.pk).message.startswith("Störning anmäld")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE incidents_timelineevent SET message = 'Ändrad historik' WHERE id = %s",
        "DELETE FROM incidents_timelineevent WHERE id = %s",
        "DELETE FROM incidents_timelineevent",
    ],
)
def test_the_database_rejects_raw_sql_that_edits_the_timeline(event, sql):
    """PostgreSQL's triggers and, in the embedded default, SQLite's."""
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk] if "%s" in sql else [])
    assert TimelineEvent.objects.get(pk=event.pk).message.startswith("Störning anmäld")


def test_the_database_rejects_emptying_the_timeline(transactional_db, event):
    """TRUNCATE on PostgreSQL (a statement trigger), DELETE without WHERE on SQLite (which
    empties a table at once unless a trigger is there). Committed rows, as in production: within
    the test's own transaction PostgreSQL would refuse TRUNCATE for the pending foreign-key
    checks before the trigger is asked. The harness empties the database after this test
    (tests/conftest.py), past the triggers."""
    sql = (
        "TRUNCATE incidents_timelineevent CASCADE"
        if connection.vendor == "postgresql"
        else ("DELETE FROM incidents_timelineevent")
    )
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert TimelineEvent.objects.filter(pk=event.pk).exists()


def test_the_embedded_defaults_timeline_keeps_its_triggers_after_any_migration(tmp_path):
    """SQLite loses a table's triggers when a migration alters the table (Django remakes it);
    every `migrate` puts them back."""
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    database = tmp_path / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DATA_DIR": str(tmp_path)}

    def migrate():
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr

    def refused(conn):
        for sql in ("UPDATE incidents_timelineevent SET message = 'x'", "DELETE FROM incidents_timelineevent"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
        return True

    migrate()
    with sqlite3.connect(database) as conn:
        # A row for the row triggers to refuse to change (foreign keys are off in sqlite3).
        conn.execute(
            "INSERT INTO incidents_timelineevent (incident_id, at, kind, actor_label, message, note, data) "
            "VALUES (1, '2026-12-03 08:00:00', 'note', 'Systemet', 'Före', '', '{}')"
        )
        assert refused(conn)
        # As a table remade by a later migration is: without its triggers.
        conn.execute("DROP TRIGGER incidents_timeline_append_only_update")
        conn.execute("DROP TRIGGER incidents_timeline_append_only_delete")
    migrate()
    with sqlite3.connect(database) as conn:
        assert refused(conn)
