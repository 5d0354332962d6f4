"""Contacts and SA's duty hours are kept on pages of the app by the specialists."""

from datetime import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents import services
from incidents.models import Contact, DutyHours
from notifications import services as notify
from notifications.models import StubMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("role", ["verksamhetsspecialist", "verksamhetsansvarig"])
def test_the_specialists_keep_contacts_on_a_page(role, make_user, client_as):
    web = client_as(make_user(role))
    page = web.get(reverse("incidents:live")).content.decode()
    assert f'href="{reverse("incidents:contacts")}"' in page

    response = web.post(
        reverse("incidents:contacts"),
        {"kind": "sa_manager", "name": "Eva Enhetschef", "phone": "040-628 04 09", "email": "eva@demo.invalid"},
    )
    assert response.status_code == 302
    eva = Contact.objects.get(name="Eva Enhetschef")
    assert (eva.kind, eva.phone, eva.email) == ("sa_manager", "040-628 04 09", "eva@demo.invalid")

    response = web.post(
        reverse("incidents:contacts") + f"?andra={eva.pk}",
        {"kind": "sa_manager", "name": "Eva Enhetschef", "phone": "040-628 04 10", "email": "eva@demo.invalid"},
    )
    assert response.status_code == 302
    eva.refresh_from_db()
    assert eva.phone == "040-628 04 10"
    assert "040-628 04 10" in web.get(reverse("incidents:contacts")).content.decode()


def test_bad_contact_input_gets_a_swedish_message_and_changes_nothing(vs, client_as):
    web = client_as(vs)
    for data, message in (
        ({"kind": "sa_manager", "name": "Eva", "email": "inte-en-adress"}, "Ange en giltig e-postadress"),
        ({"kind": "sa_manager", "name": "Eva", "phone": "ring mig"}, "Telefonnumret får bara innehålla siffror"),
        ({"kind": "sa_manager", "name": "   "}, "Namn måste fyllas i."),
        ({"kind": "sa_manager", "name": "x" * 201}, "Namn får vara högst 200 tecken."),
    ):
        before = Contact.objects.count()
        response = web.post(reverse("incidents:contacts"), data)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert Contact.objects.count() == before


def test_duty_hours_are_kept_on_the_page_with_swedish_messages(va, client_as):
    web = client_as(va)
    DutyHours.objects.all().delete()
    response = web.post(reverse("incidents:duty_add"), {"weekday": "0", "start": "16:30", "end": "08:00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Sluttiden måste vara efter starttiden." in page and "duty_end_after_start" not in page
    assert not DutyHours.objects.exists()

    assert (
        web.post(reverse("incidents:duty_add"), {"weekday": "0", "start": "08:00", "end": "16:30"}).status_code == 302
    )
    response = web.post(reverse("incidents:duty_add"), {"weekday": "0", "start": "12:00", "end": "18:00"})
    assert response.status_code == 400 and "överlappar" in response.content.decode()
    [duty] = DutyHours.objects.all()
    assert (duty.weekday, duty.start, duty.end) == (0, time(8), time(16, 30))

    assert web.post(reverse("incidents:duty_remove", args=[duty.pk])).status_code == 302
    assert not DutyHours.objects.exists()


@pytest.mark.parametrize("role", ["kundservice", "systemansvarig", "telefoniansvarig"])
def test_other_roles_may_not_change_contacts_or_duty_hours(role, make_user, client_as):
    web = client_as(make_user(role))
    assert web.get(reverse("incidents:contacts")).status_code == 403
    assert web.post(reverse("incidents:contacts"), {"kind": "vendor", "name": "X"}).status_code == 403
    assert (
        web.post(reverse("incidents:duty_add"), {"weekday": "0", "start": "08:00", "end": "09:00"}).status_code == 403
    )
    assert not Contact.objects.filter(name="X").exists()


def test_demo_contacts_have_demo_numbers_and_the_fallback_mail_reaches_the_stub(
    settings, tmp_path, live_server, open_incident, vs, monkeypatch
):
    from tests.notify_helpers import point_at_stubs

    settings.DEMO_MODE = True
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for contact in Contact.objects.filter(note="Demodata"):
        # PTS's numbers for fiction: landlines 040-628 04 xx, mobiles 070-174 06 xx.
        assert contact.email.endswith("demo.invalid") and contact.phone.startswith(("040-628 04", "070-174 06"))

    point_at_stubs(settings, live_server.url)
    monkeypatch.setattr(notify, "enqueue", lambda ids: None)
    DutyHours.objects.all().delete()  # SA off duty: the enhetschef is mailed
    incident = open_incident()
    services.escalate(vs, incident.pk)
    notify.sweep()
    mails = [m.payload for m in StubMessage.objects.filter(channel="email")]
    assert any(m["recipient"] == "elin.enhetschef@demo.invalid" and m["action"] == "sa_fallback" for m in mails)
    assert not incident.tasks.filter(text__startswith="Ring enhetschefen").exists()
