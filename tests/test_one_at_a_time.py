"""One user, one incident, one click at a time: ids from another incident are refused, a
link posted twice acknowledges once, tokens end with the password, idle sessions end, and
nothing with incident data is kept in a browser's cache."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Task, TimelineEvent
from notifications.models import AckLinkUse

# --- ids that belong to another incident ------------------------------------------------


def test_a_task_of_incident_b_cannot_be_ticked_through_incident_a(incident_in, everyone, client_as, snapshot):
    a = incident_in("sesam_unreachable", "escalated")
    b = incident_in("sesam_unreachable", "escalated")
    task_of_b = b.tasks.filter(done_at__isnull=True).first()
    before = snapshot(b)
    response = client_as(everyone).post(reverse("incidents:task_done", args=[a.pk, task_of_b.pk]))
    assert response.status_code == 404
    assert snapshot(b) == before
    assert not Task.objects.get(pk=task_of_b.pk).is_done


def test_an_urgent_order_of_incident_b_cannot_be_marked_through_incident_a(incident_in, ks, client_as, snapshot):
    a = incident_in("sesam_unreachable", "reserve_routine")
    b = incident_in("sesam_unreachable", "reserve_routine")
    order = services.log_reserve_order(ks, b.pk, reference="LMN-7", product_area="diabetes", prescriber_unit="VC Lund")
    before = snapshot(b)
    response = client_as(ks).post(reverse("incidents:order_entered", args=[a.pk, order.pk]))
    assert response.status_code == 404
    assert snapshot(b) == before


# --- the acknowledge link posted many times at once ----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_of_one_link_acknowledge_once_and_never_fail(
    require_postgres, open_incident, vs, make_user
):
    sa = make_user("systemansvarig")
    sa.email = "sa@example.org"
    sa.save()
    incident = open_incident()
    services.escalate(vs, incident.pk)
    mail = incident.notifications.get(rule="escalate_sa", recipient_user=sa)
    path = re.search(r"https?://[^/\s]+(/kvittera/\S+/)", mail.body).group(1)

    n = 20
    barrier = threading.Barrier(n)
    outcomes = []

    def post():
        client = Client(raise_request_exception=False)
        client.force_login(sa, backend="runbook.auth.ModelBackend")
        try:
            barrier.wait(timeout=20)
            response = client.post(path)
            outcomes.append((response.status_code, response.content.decode()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    statuses = sorted(status for status, _body in outcomes)
    assert len(statuses) == n
    assert 500 not in statuses, statuses
    assert statuses.count(302) == 1, statuses
    for status, body in outcomes:
        if status != 302:
            assert status == 410 and "Länken har redan använts" in body
    assert AckLinkUse.objects.count() == 1
    acks = TimelineEvent.objects.filter(incident=incident, kind="transition", data__name="acknowledge")
    assert acks.count() == 1


# --- API tokens end with the password and the account -------------------------------------


def _works(client):
    return client.get("/api/v1/incidents").status_code == 200


def test_a_token_stops_working_when_its_owners_password_changes(api_client, vs):
    client = api_client(vs)
    assert _works(client)
    vs.set_password("ett-helt-nytt-lösenord-2026")
    vs.save()
    assert client.get("/api/v1/incidents").status_code == 401


def test_a_token_stays_dead_after_the_account_is_deactivated_and_reactivated(api_client, vs):
    client = api_client(vs)
    assert _works(client)
    vs.is_active = False
    vs.save()
    assert client.get("/api/v1/incidents").status_code == 401
    vs.is_active = True
    vs.save()
    assert client.get("/api/v1/incidents").status_code == 401


def test_a_token_survives_a_login_and_other_edits(api_client, vs):
    client = api_client(vs)
    vs.first_name = "Vera"
    vs.save()
    login = Client().post(reverse("login"), {"username": vs.username, "password": "ett-långt-testlösenord"})
    assert login.status_code == 302
    assert _works(client)


# --- idle sessions -----------------------------------------------------------------------


def test_a_session_ends_after_the_idle_minutes(ks, time_machine, settings):
    settings.SESSION_IDLE_MINUTES = 480
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    assert client.get(reverse("incidents:live")).status_code == 200
    time_machine.shift(timedelta(minutes=479))
    assert client.get(reverse("incidents:live")).status_code == 200
    time_machine.shift(timedelta(minutes=479))
    assert client.get(reverse("incidents:live")).status_code == 200  # activity kept it alive
    time_machine.shift(timedelta(minutes=481))
    response = client.get(reverse("incidents:live"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_live_list_refreshing_itself_does_not_keep_a_session_alive(ks, time_machine, settings):
    settings.SESSION_IDLE_MINUTES = 10
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    assert client.get(reverse("incidents:live")).status_code == 200
    for _ in range(3):
        time_machine.shift(timedelta(minutes=4))
        client.get(reverse("incidents:live"), headers={"HX-Request": "true"})
    assert client.get(reverse("incidents:live")).status_code == 302


# --- nothing kept in a browser's cache ------------------------------------------------------


def test_pages_and_csvs_with_incident_data_are_not_stored(incident_in, va, client_as):
    incident = incident_in("sesam_unreachable", "closed")
    client = client_as(va)
    for url in (
        reverse("incidents:live"),
        reverse("incidents:detail", args=[incident.pk]),
        reverse("review:incident_report", args=[incident.pk]),
        reverse("review:history"),
        reverse("review:history_csv"),
        reverse("review:figures_csv"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    poll = client.get(reverse("incidents:live"), headers={"HX-Request": "true"})
    assert "no-store" in poll.headers.get("Cache-Control", "")
