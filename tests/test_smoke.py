import io

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("incidents:live"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_kundservice_sees_live_list_in_swedish(client, ks):
    client.force_login(ks)
    response = client.get(reverse("incidents:live"))
    assert response.status_code == 200
    assert "Pågående störningar" in response.content.decode()


def test_demo_users_have_addresses_so_that_role_mail_has_recipients(settings, tmp_path, db, role_permissions):
    from conftest import ensure_role_groups
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from incidents import services
    from notifications.models import Notification

    ensure_role_groups(role_permissions)  # as the migrations made them (a flush empties them)
    settings.DEMO_MODE, settings.DATA_DIR = True, tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    ks = get_user_model().objects.get(username="kundservice")
    assert ks.email == "kundservice@demo.invalid"
    incident = services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    mails = Notification.objects.filter(incident=incident, channel="email")
    assert mails.exists()
    assert set(mails.values_list("recipient", flat=True)) >= {"verksamhetsansvarig@demo.invalid"}

    # SA and the enhetschef have mobile numbers: the escalation SMS reaches SA at the stub, and
    # (SA has no duty hours in the demo, so is off duty) the fallback's SMS the enhetschef.
    specialist = get_user_model().objects.get(username="verksamhetsspecialist")
    incident = services.escalate(specialist, incident.pk)
    texts = Notification.objects.filter(incident=incident, channel="sms")
    assert sorted(texts.values_list("recipient", flat=True)) == ["+46701740605", "+46701740606"]


def test_the_demo_login_page_says_where_the_passwords_are(client, settings, tmp_path):
    settings.DEMO_MODE, settings.DATA_DIR = True, tmp_path
    page = client.get(reverse("login")).content.decode()
    assert f"(och finns i {tmp_path / 'demo-passwords.txt'})" in page
    settings.DEMO_MODE = False
    assert "demo-passwords.txt" not in client.get(reverse("login")).content.decode()
