"""SA's acknowledge link: signed, bound to one user and incident, expiring, single-use."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import services
from notifications.models import AckLinkUse

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalated(open_incident, vs, make_user):
    sa = make_user("systemansvarig")
    sa.email = "sa@example.org"
    sa.save()
    incident = open_incident()
    services.escalate(vs, incident.pk)
    mail = incident.notifications.get(rule="escalate_sa", recipient_user=sa)
    path = re.search(r"https?://[^/\s]+(/kvittera/\S+/)", mail.body).group(1)
    return incident, sa, path


def test_opening_the_link_changes_nothing_and_asks_for_confirmation(client, escalated):
    incident, sa, path = escalated
    client.force_login(sa)
    page = client.get(path)
    assert page.status_code == 200 and 'id="confirm-ack"' in page.content.decode()
    incident.refresh_from_db()
    assert incident.state == "escalated" and not AckLinkUse.objects.exists()


def test_confirming_acknowledges_and_the_link_then_is_used_up(client, escalated):
    incident, sa, path = escalated
    client.force_login(sa)
    response = client.post(path)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "acknowledged"
    again = client.get(path)
    assert again.status_code == 410 and "redan använts" in again.content.decode()
    assert client.post(path).status_code == 410


def test_a_link_opened_by_someone_else_is_refused(client, escalated, make_user):
    incident, _sa, path = escalated
    client.force_login(make_user("systemansvarig"))
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 403 and "annan person" in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == "escalated"


def test_an_expired_link_is_refused(client, escalated, settings):
    incident, sa, path = escalated
    settings.SESSION_IDLE_MINUTES = 24 * 60  # SA is still signed in when the link expires
    client.force_login(sa)
    with time_machine.travel(timezone.now() + settings.ACK_LINK_MAX_AGE + timedelta(minutes=1)):
        response = client.post(path)
    assert response.status_code == 410 and "gått ut" in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == "escalated"


def test_a_tampered_link_is_refused(client, escalated):
    _incident, sa, path = escalated
    client.force_login(sa)
    response = client.get(path.replace("/kvittera/", "/kvittera/x"))
    assert response.status_code == 403 and "ogiltig" in response.content.decode()


def test_a_link_for_an_incident_already_acknowledged_says_so(client, escalated, make_user):
    incident, sa, path = escalated
    services.acknowledge(make_user("systemansvarig"), incident.pk)
    client.force_login(sa)
    response = client.get(path)
    assert response.status_code == 409 and "Kvitterad" in response.content.decode()


def test_an_sa_reading_english_acknowledges_into_a_swedish_timeline_and_reads_refusals_in_english(client, escalated):
    from django.urls import reverse

    incident, sa, path = escalated
    client.force_login(sa)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert client.post(path).status_code == 302

    event = incident.events.filter(kind="transition").latest("id")
    assert event.note == "Kvitterad via länk i e-post"
    assert "Kvitterad" in event.message
    again = client.get(path)
    assert again.status_code == 410
    assert "The link has already been used." in again.content.decode()
