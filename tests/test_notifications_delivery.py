"""Delivery through real HTTP: the stub receivers behind a live server, no mocked httpx."""

from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Task
from notifications import services
from notifications.models import Notification, StubMessage, StubMode
from notify_helpers import point_at_stubs, stub_headers, stub_viewer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stubs(settings, live_server, monkeypatch):
    point_at_stubs(settings, live_server.url)
    # Ring no broker here: these tests drive delivery themselves (broker tests are separate).
    rung = []
    monkeypatch.setattr(services, "enqueue", rung.extend)
    return live_server.url


def stored(channel):
    return list(StubMessage.objects.filter(channel=channel))


def make_due(notification):
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())


def test_telephony_fault_reaches_phone_queue_and_driftinfo_stubs(stubs, open_incident):
    incident = open_incident(scenario="telephony_fault")
    services.sweep()
    for n in incident.notifications.exclude(channel="email"):
        n.refresh_from_db()
        assert n.status == "sent" and n.attempts == 1 and n.last_status_code == 201
    (lavin,) = stored("telephony")
    assert lavin.payload["action"] == "on" and "telefonin" in lavin.payload["text"]
    listing = httpx.get(f"{stubs}/stubs/telephony/?format=json", headers=stub_headers()).json()
    assert listing["messages"][0]["idempotency_key"] == lavin.idempotency_key


def test_stub_stores_a_repeated_key_once(stubs):
    for _ in range(3):
        response = httpx.post(
            f"{stubs}/stubs/driftinfo/",
            json={"action": "publish"},
            headers=stub_headers(**{"Idempotency-Key": "same-key"}),
        )
    assert response.status_code == 200 and response.json()["duplicate"] is True
    (message,) = stored("driftinfo")
    assert message.duplicates == 2
    assert httpx.post(f"{stubs}/stubs/driftinfo/", json={}, headers=stub_headers()).status_code == 400


def test_failure_then_recovery_retries_with_backoff_and_arrives_once(stubs, settings, open_incident):
    settings.NOTIFY_BACKOFF_BASE = timedelta(seconds=30)
    StubMode.objects.create(channel="telephony", mode="fail")
    incident = open_incident(scenario="kundservice_link_loss")
    lavin = incident.notifications.get(channel="telephony")
    services.deliver(lavin.pk)
    lavin.refresh_from_db()
    assert (lavin.status, lavin.attempts, lavin.last_status_code) == ("pending", 1, 503)
    assert lavin.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert services.deliver(lavin.pk) is None  # not due yet: back-off holds

    make_due(lavin)
    services.deliver(lavin.pk)
    lavin.refresh_from_db()
    assert lavin.attempts == 2
    assert lavin.next_attempt_at > timezone.now() + timedelta(seconds=55)  # doubled

    StubMode.objects.filter(channel="telephony").update(mode="ok")
    make_due(lavin)
    services.sweep()
    lavin.refresh_from_db()
    assert (lavin.status, lavin.attempts) == ("sent", 3)
    assert len(stored("telephony")) == 1


def test_a_4xx_is_not_retried_and_becomes_a_task_with_a_red_mark(stubs, settings, client, open_incident, vs, va):
    settings.VARDGIVARE_SKANE_URL = f"{stubs}/stubs/no-such-portal/"
    incident = open_incident()
    incident_services.escalate(vs, incident.pk)
    incident_services.activate_reserve_routine(vs, incident.pk)
    notice = incident.notifications.get(channel="vardgivare_skane")
    services.deliver(notice.pk)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_status_code) == ("failed", 1, 404)
    task = Task.objects.get(incident=incident, scenario="manual", step_key=f"notification-{notice.pk}")
    assert task.role == "verksamhetsansvarig"
    assert task.text.startswith("Publicera manuellt på Vårdgivare Skåne")
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'id="notify-alert"' in page and "badge-failed" in page
    assert reverse("notifications:resend", args=[notice.pk]) in page
    # The live list, where Kundservice and the specialists look first, carries the mark too.
    other = open_incident(scenario="telephony_fault")
    live = client.get(reverse("incidents:live")).content.decode()
    mark = f'href="{reverse("incidents:detail", args=[incident.pk])}#meddelanden">1 meddelande kunde inte skickas'
    assert live.count("meddelande kunde inte skickas") == 1 and mark in live
    assert f'id="live-incident-{other.pk}"' in live


def test_a_failed_notice_replaced_by_a_delivered_one_is_no_longer_a_red_mark_or_resendable(
    stubs, settings, client, open_incident, vs, va
):
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    StubMode.objects.create(channel="telephony", mode="fail")
    incident = open_incident(scenario="telephony_fault")
    lavin_on = incident.notifications.get(channel="telephony")
    services.deliver(lavin_on.pk)
    lavin_on.refresh_from_db()
    assert lavin_on.status == "failed"
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("notifications:resend", args=[lavin_on.pk]) in page

    # Service is back before anyone resent it: the lavinmeddelande is now taken down.
    StubMode.objects.filter(channel="telephony").update(mode="ok")
    incident_services.resolve(va, incident.pk)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    # Not yet delivered: turning the old message on by hand is still what is asked, but
    # resending the old message would say something no longer true.
    assert reverse("notifications:resend", args=[lavin_on.pk]) not in page
    lavin_off = incident.notifications.filter(channel="telephony").exclude(pk=lavin_on.pk).get()
    services.deliver(lavin_off.pk)
    lavin_on.refresh_from_db()
    assert lavin_on.status == "superseded" and lavin_on.failed_at is not None
    task = Task.objects.get(incident=incident, scenario="manual", step_key=f"notification-{lavin_on.pk}")
    assert task.done_at is not None and task.done_by is None
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'id="notify-alert"' not in page and "badge-failed" not in page
    live = client.get(reverse("incidents:live")).content.decode()
    assert "kunde inte skickas" not in live
    timeline = [e.message for e in incident.events.order_by("at", "id")]
    assert any(t.startswith("Meddelandet kunde inte skickas") for t in timeline)  # kept
    assert any(t.startswith("Misslyckat meddelande till") and "ersatt" in t for t in timeline)


def test_a_replaced_notice_offers_no_resend_even_when_its_successor_has_the_earlier_time(
    stubs, settings, client, open_incident, va
):
    """Two messages written at once may get their times the other way round from their ids;
    the page offers "Skicka om" only when the service would resend (the latest by id)."""
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    StubMode.objects.create(channel="telephony", mode="fail")
    incident = open_incident(scenario="telephony_fault")
    lavin_on = incident.notifications.get(channel="telephony")
    services.deliver(lavin_on.pk)
    incident_services.resolve(va, incident.pk)
    lavin_off = incident.notifications.filter(channel="telephony").exclude(pk=lavin_on.pk).get()
    Notification.objects.filter(pk=lavin_off.pk).update(created_at=lavin_on.created_at - timedelta(seconds=1))
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("notifications:resend", args=[lavin_on.pk]) not in page
    refused = client.post(reverse("notifications:resend", args=[lavin_on.pk]))
    assert refused.status_code in (302, 409)
    lavin_on.refresh_from_db()
    assert lavin_on.status == "failed"


def test_transient_errors_give_up_after_max_age_and_a_person_resends(stubs, settings, client, open_incident, va):
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    StubMode.objects.create(channel="driftinfo", mode="fail")
    incident = open_incident(scenario="telephony_fault")
    request = incident.notifications.get(channel="driftinfo")
    services.deliver(request.pk)
    request.refresh_from_db()
    assert request.status == "failed" and "503" in request.last_error
    assert request.last_error.endswith("gav upp efter 0 min")  # in words, not "0:00:00"
    assert Task.objects.get(incident=incident, scenario="manual").role == "verksamhetsspecialist"

    settings.NOTIFY_MAX_AGE = timedelta(hours=1)
    StubMode.objects.filter(channel="driftinfo").update(mode="ok")
    client.force_login(va)
    response = client.post(reverse("notifications:resend", args=[request.pk]))
    assert response.status_code == 302
    services.sweep()
    request.refresh_from_db()
    assert request.status == "sent" and request.attempts == 2
    assert len(stored("driftinfo")) == 1
    # Sent after all: the task of publishing by hand is done, by the app.
    task = Task.objects.get(incident=incident, scenario="manual")
    assert task.done_at is not None and task.done_by is None


def test_a_slow_receiver_times_out_and_the_retry_is_deduplicated(stubs, settings, open_incident):
    settings.NOTIFY_READ_TIMEOUT = 0.5
    settings.STUB_SLOW_SECONDS = 1.5
    StubMode.objects.create(channel="telephony", mode="slow")
    incident = open_incident(scenario="telephony_fault")
    lavin = incident.notifications.get(channel="telephony")
    services.deliver(lavin.pk)
    lavin.refresh_from_db()
    assert lavin.status == "pending" and "Timeout" in lavin.last_error
    StubMode.objects.filter(channel="telephony").update(mode="ok")
    make_due(lavin)
    services.deliver(lavin.pk)
    lavin.refresh_from_db()
    assert lavin.status == "sent" and lavin.last_status_code == 200  # receiver said: seen it
    (message,) = stored("telephony")
    assert message.duplicates == 1


def test_stub_page_shows_the_notice_as_a_prescriber_sees_it_and_switches_mode(
    stubs, client, open_incident, vs, make_user
):
    incident = open_incident()
    incident_services.escalate(vs, incident.pk)
    incident_services.activate_reserve_routine(vs, incident.pk)
    services.sweep()
    client.force_login(stub_viewer(make_user))
    page = client.get("/stubs/vardgivare_skane/").content.decode()
    assert "Reservrutin för akuta förskrivningar gäller – kontakta Kundservice" in page
    client.post(reverse("notifications:stub_mode", args=["vardgivare_skane"]), {"mode": "fail"})
    assert StubMode.objects.get(channel="vardgivare_skane").mode == "fail"
    assert (
        httpx.post(
            f"{stubs}/stubs/vardgivare_skane/", json={}, headers=stub_headers(**{"Idempotency-Key": "k"})
        ).status_code
        == 503
    )


def test_driftinfo_stub_shows_times_in_swedish_time_and_leads_back_to_the_app(stubs, open_incident, client, make_user):
    incident = open_incident(scenario="telephony_fault")
    services.sweep()
    client.force_login(stub_viewer(make_user))
    page = client.get("/stubs/driftinfo/").content.decode()
    began = timezone.localtime(incident.began_at).strftime("%Y-%m-%d %H:%M")
    assert f"<dd>{began}</dd>" in page
    assert incident.began_at.isoformat() not in page
    assert f'href="{reverse("incidents:live")}">Tillbaka till Pågående störningar' in page


def test_stubs_are_off_unless_enabled(settings, client):
    settings.STUBS_ENABLED = False
    assert client.get("/stubs/driftinfo/").status_code == 404


def test_a_notice_that_fails_after_the_incident_ended_leaves_a_task_that_can_be_ticked(
    stubs, settings, client, open_incident, vs, va
):
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    StubMode.objects.create(channel="driftinfo", mode="fail")
    incident = open_incident(scenario="telephony_fault")
    incident_services.cancel(va, incident.pk, reason="Falsklarm: växeln var bara långsam")
    request = incident.notifications.filter(channel="driftinfo").order_by("id").first()
    services.deliver(request.pk)
    task = Task.objects.get(incident=incident, scenario="manual")
    assert task.role == "verksamhetsspecialist"

    def figures_agree_with_the_timeline():
        from review import metrics
        from review.models import IncidentMetrics

        stored = IncidentMetrics.objects.get(pk=incident.pk)
        derived = metrics.row_for(incident, list(incident.events.order_by("at", "id")))
        fields = ("steps_on_time", "steps_late", "steps_skipped", "notices", "final_state")
        assert [getattr(stored, f) for f in fields] == [getattr(derived, f) for f in fields]

    figures_agree_with_the_timeline()
    client.force_login(vs)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert page.count("Klar</button>") == 1  # the manual task only; the routine's ended with it
    response = client.post(reverse("incidents:task_done", args=[incident.pk, task.pk]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == vs
    figures_agree_with_the_timeline()
    # The routine's own steps end with the incident.
    routine_task = Task.objects.filter(incident=incident, done_at__isnull=True).exclude(scenario="manual").first()
    with pytest.raises(incident_services.ActionRefused):
        incident_services.complete_task(va, routine_task.pk)


def test_a_stub_page_shows_a_time_that_does_not_exist_as_it_came(client, settings, make_user):
    settings.STUBS_ENABLED = True
    client.force_login(stub_viewer(make_user))
    StubMessage.objects.create(
        channel="driftinfo",
        idempotency_key="odd-time",
        payload={"system": "Sesam LMN", "status": "Störning", "started_at": "2026-02-30T10:00:00+01:00"},
    )
    page = client.get("/stubs/driftinfo/")
    assert page.status_code == 200 and "2026-02-30T10:00:00+01:00" in page.content.decode()


def test_an_empty_stub_page_says_nothing_has_arrived(client, settings, make_user):
    settings.STUBS_ENABLED = True
    client.force_login(stub_viewer(make_user))
    page = client.get("/stubs/telephony/").content.decode()
    assert "<p>Inget har kommit än.</p>" in page and "<ol" not in page


def test_telefoniansvarig_may_resend_the_lavinmeddelande_that_became_their_task(
    stubs, settings, client, open_incident, tel
):
    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    StubMode.objects.create(channel="telephony", mode="fail")
    incident = open_incident(scenario="telephony_fault")
    lavin = incident.notifications.get(channel="telephony")
    services.deliver(lavin.pk)
    assert Task.objects.get(incident=incident, scenario="manual").role == "telefoniansvarig"

    client.force_login(tel)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("notifications:resend", args=[lavin.pk]) in page
    assert client.post(reverse("notifications:resend", args=[lavin.pk])).status_code == 302
    lavin.refresh_from_db()
    assert lavin.status == "pending"


def _poll_live(viewer, held=None):
    """One poll of the live list as the page makes it, and the ETag header for the next."""
    response = viewer.get(reverse("incidents:live"), headers={"HX-Request": "true", **(held or {})})
    if response.status_code == 200:
        held = {"If-None-Match": response["ETag"]}
    return response, held


def test_a_notice_being_retried_leaves_the_live_list_alone_and_its_final_failure_reaches_every_viewer(
    stubs, settings, client, open_incident, va, sa
):
    from django.test import Client

    from incidents import stamps

    settings.NOTIFY_BACKOFF_BASE = timedelta(seconds=30)
    StubMode.objects.create(channel="telephony", mode="fail")
    incident = open_incident(scenario="kundservice_link_loss")
    lavin = incident.notifications.get(channel="telephony")
    client.force_login(va)
    english = Client()
    english.force_login(sa)
    english.post(reverse("set_language"), {"language": "en", "next": "/"})
    held = {}
    for viewer in (client, english):
        _response, held[viewer] = _poll_live(viewer)

    page_before = stamps.incident_stamp(incident.pk)
    services.deliver(lavin.pk)  # claimed, tried, to be retried: the incident page shows it
    lavin.refresh_from_db()
    assert (lavin.status, lavin.attempts) == ("pending", 1)
    assert stamps.incident_stamp(incident.pk) != page_before
    for viewer in (client, english):
        response, _held = _poll_live(viewer, held[viewer])
        assert response.status_code == 204

    settings.NOTIFY_MAX_AGE = timedelta(seconds=0)
    make_due(lavin)
    services.deliver(lavin.pk)  # finally failed: the row's red mark
    swedish, _held = _poll_live(client, held[client])
    assert "1 meddelande kunde inte skickas" in swedish.content.decode()
    in_english, _held = _poll_live(english, held[english])
    assert "1 notification could not be sent" in in_english.content.decode()
    assert "kunde inte skickas" not in in_english.content.decode()


def test_a_notice_sent_that_changes_nothing_in_the_row_leaves_the_live_list_alone(stubs, client, open_incident, va):
    from incidents import stamps

    va.email = "va@example.org"
    va.save()
    incident = open_incident()
    (notice,) = incident.notifications.filter(channel="email", recipient="va@example.org")
    client.force_login(va)
    _response, held = _poll_live(client)
    page_before = stamps.incident_stamp(incident.pk)
    assert services.deliver(notice.pk) == "sent"
    # The incident page shows the mail as sent; the live list's row reads as before.
    assert stamps.incident_stamp(incident.pk) != page_before
    response, _held = _poll_live(client, held)
    assert response.status_code == 204
