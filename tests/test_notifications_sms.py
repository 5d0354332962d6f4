"""SMS to SA and the enhetschef: outbox rows like every channel, a short signed link, a reply
with the code through the gateway's signed webhook, and the SMS stub that can answer."""

import json
import time

import httpx
import pytest
from django.db import transaction
from django.urls import reverse

from incidents import services as incident_services
from incidents.models import Contact, State, TimelineEvent
from incidents.timeline import log_event
from notifications import messages, services, sms
from notifications.models import Notification, SmsAck, StubMessage
from notify_helpers import point_at_stubs, stub_headers, stub_viewer

SA_MOBILE = "070-123 45 67"
MANAGER_MOBILE = "+46 70 765 43 21"
PERSONNUMMER = "19121212-1212"


@pytest.fixture
def sms_contacts(db):
    return {
        "sa": Contact.objects.create(
            kind=Contact.Kind.SYSTEMANSVARIG, name="Sara Systemansvarig", phone=SA_MOBILE, email="sara@demo.invalid"
        ),
        "sa_desk": Contact.objects.create(
            kind=Contact.Kind.SYSTEMANSVARIG, name="SA-expeditionen", phone="040-675 00 00"
        ),
        "manager": Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Erik Enhetschef", phone=MANAGER_MOBILE),
    }


@pytest.fixture
def escalated(open_incident, vs, sms_contacts):
    def make():
        incident = open_incident(
            summary=f"Patient {PERSONNUMMER} fick inget, Sesam LMN svarar inte", confirmed=["personnummer"]
        )  # a person confirmed it past the warning
        incident_services.escalate(vs, incident.pk)
        return incident

    return make


def _fallback(incident):
    # Outside SA's duty hours the escalation itself falls back; otherwise the ack timeout would.
    if not incident.events.filter(kind="timer", data__timer="sa_fallback").exists():
        with transaction.atomic():
            log_event(
                incident,
                TimelineEvent.Kind.TIMER,
                "SA har inte kvitterat",
                data={"timer": "sa_fallback", "reason": "ack_timeout"},
            )


def _assert_one_gsm_sms(text):
    assert len(text) <= 160, (len(text), text)
    assert set(text) <= messages.GSM_7_BASIC, set(text) - messages.GSM_7_BASIC


@pytest.mark.django_db
def test_sa_and_the_enhetschef_get_the_escalation_by_sms_with_code_and_link_and_no_personal_data(escalated, settings):
    settings.SITE_URL = "https://driftstorning.hjalpmedel.skane.se"
    incident = escalated()
    _fallback(incident)
    texts = {n.recipient: n for n in incident.notifications.filter(channel="sms")}
    assert set(texts) == {"+46701234567", "+46707654321"}  # the landline gets none
    assert texts["+46701234567"].rule == "escalate_sa_sms"
    assert texts["+46707654321"].rule == "sa_fallback_manager_sms"
    for phone, n in texts.items():
        code = SmsAck.objects.get(incident=incident, phone=phone).code
        _assert_one_gsm_sms(n.body)
        assert f"svara {code}" in n.body and f"{settings.SITE_URL}/s/{code}" in n.body
        assert f"HJM-SESAM-{incident.pk}" in n.body
        for personal in (PERSONNUMMER, "Patient", "Sara", "Erik", "Enhetschef", "SA-expeditionen"):
            assert personal not in n.body and personal not in json.dumps(n.payload)
        assert n.idempotency_key and n.status == Notification.Status.PENDING
    skipped = incident.events.get(kind="notification", data__contact_id=incident_contact("sa_desk"))
    assert "tar inte emot SMS" in skipped.message


def incident_contact(name):
    return Contact.objects.get(name={"sa_desk": "SA-expeditionen"}[name]).pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "site_url", ["http://127.0.0.1:8000", "https://" + "x" * 60 + ".skane.se", "https://" + "y" * 200 + ".example"]
)
def test_an_sms_is_one_message_of_at_most_160_characters_whatever_the_address(escalated, settings, site_url):
    settings.SITE_URL = site_url
    incident = escalated()
    _fallback(incident)
    for n in incident.notifications.filter(channel="sms"):
        _assert_one_gsm_sms(n.body)
        code = SmsAck.objects.get(incident=incident, phone=n.recipient).code
        assert code in n.body  # the code survives even where the link does not fit


def _signed_post(client, body, *, timestamp=None, secret=None, signature=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = json.dumps(body).encode()
    return client.post(
        reverse("notifications:sms_webhook"),
        raw,
        content_type="application/json",
        headers={"X-Sms-Timestamp": timestamp, "X-Sms-Signature": signature or sms.sign(raw, timestamp, secret)},
    )


@pytest.mark.django_db
def test_a_reply_with_the_code_acknowledges_through_the_signed_webhook_once(escalated, client, settings):
    settings.SMS_WEBHOOK_SECRET = "delad-hemlighet-for-test"
    incident = escalated()
    code = SmsAck.objects.get(incident=incident, phone="+46701234567").code

    # From another phone the code does nothing.
    answer = _signed_post(client, {"from": MANAGER_MOBILE, "text": code})
    assert answer.status_code == 200 and answer.json()["outcome"] == "unknown_code"
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED

    reply = {"from": "0701234567", "text": f"ok {code.lower()} jag tittar"}
    raw_timestamp = str(int(time.time()))
    answer = _signed_post(client, reply, timestamp=raw_timestamp)
    assert answer.status_code == 200 and answer.json() == {"outcome": "acknowledged", "acknowledged": True}
    incident.refresh_from_db()
    assert incident.state == State.ACKNOWLEDGED
    ack_event = incident.events.get(kind="transition", data__name="acknowledge")
    assert "SMS-svar" in ack_event.note and "Sara Systemansvarig" in ack_event.note

    # The same signed call again is a replay; the code is used up either way.
    replay = _signed_post(client, reply, timestamp=raw_timestamp)
    assert replay.status_code == 403 and "replayed" in replay.json()["error"]
    again = _signed_post(client, {"from": "0701234567", "text": code})
    assert again.json()["outcome"] == "used"
    assert incident.events.filter(kind="transition", data__name="acknowledge").count() == 1


@pytest.mark.django_db
def test_a_wrong_or_stale_signature_is_refused_and_changes_nothing(escalated, client, settings):
    settings.SMS_WEBHOOK_SECRET = "delad-hemlighet-for-test"
    incident = escalated()
    code = SmsAck.objects.get(incident=incident, phone="+46701234567").code
    reply = {"from": SA_MOBILE, "text": code}
    refused = [
        _signed_post(client, reply, secret="en-annan-hemlighet"),
        _signed_post(client, reply, signature="sha256=" + "0" * 64),
        _signed_post(client, reply, timestamp=int(time.time()) - 3600),  # signed an hour ago
        _signed_post(client, reply, timestamp=int(time.time()) + 3600),
        _signed_post(client, reply, timestamp="igår"),
        client.post(reverse("notifications:sms_webhook"), json.dumps(reply), content_type="application/json"),
    ]
    assert [r.status_code for r in refused] == [403] * 6
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED and SmsAck.objects.get(code=code).used_at is None
    # A body changed after signing is refused too.
    timestamp = str(int(time.time()))
    signed = sms.sign(json.dumps({"from": SA_MOBILE, "text": "hej"}).encode(), timestamp)
    tampered = _signed_post(client, reply, timestamp=timestamp, signature=signed)
    assert tampered.status_code == 403


@pytest.mark.django_db
def test_without_a_secret_the_webhook_takes_nothing(client, settings):
    settings.SMS_WEBHOOK_SECRET = ""
    settings.STUBS_ENABLED = False
    answer = _signed_post(client, {"from": SA_MOBILE, "text": "ABC234"}, secret="")
    assert answer.status_code == 503


@pytest.mark.django_db
def test_the_sms_link_opens_a_confirmation_and_only_its_post_acknowledges(escalated, client, sa):
    incident = escalated()
    code = SmsAck.objects.get(incident=incident, phone="+46701234567").code
    n = incident.notifications.get(rule="escalate_sa_sms")
    path = n.body.split("Kvittera: ", 1)[1].split(" ", 1)[0].removeprefix(settings_site_url())
    client.force_login(sa)
    page = client.get(path)
    assert page.status_code == 200 and b"confirm-ack" in page.content
    incident.refresh_from_db()
    assert incident.state == State.ESCALATED  # a GET changes nothing
    assert client.post(path).status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.ACKNOWLEDGED
    assert SmsAck.objects.get(code=code).used_via == "link"
    assert client.post(path).status_code == 410  # used
    forged = client.get(reverse("notifications:sms_ack", args=[code + "AAAAAAAA"]))
    assert forged.status_code == 403


def settings_site_url():
    from django.conf import settings

    return settings.SITE_URL


@pytest.mark.django_db(transaction=True)
def test_sms_goes_through_the_gateway_stub_and_the_stub_answers_with_the_code(
    settings, live_server, monkeypatch, client, open_incident, vs, sms_contacts, make_user
):
    point_at_stubs(settings, live_server.url)
    settings.SMS_URL = f"{live_server.url}/stubs/sms/"
    settings.SMS_WEBHOOK_SECRET = ""  # the demo's: derived, shared by the stub and the webhook
    monkeypatch.setattr(services, "enqueue", lambda ids: None)  # this test delivers itself
    incident = open_incident()
    incident_services.escalate(vs, incident.pk)
    services.sweep()
    n = incident.notifications.get(rule="escalate_sa_sms")
    assert n.status == Notification.Status.SENT and n.attempts == 1
    # (Off SA's duty hours the enhetschef's SMS arrives beside it.)
    (arrived,) = StubMessage.objects.filter(channel="sms", payload__to="+46701234567")
    assert arrived.payload == {"to": "+46701234567", "text": n.body, "reference": f"HJM-SESAM-{incident.pk}"}
    assert arrived.idempotency_key == n.idempotency_key
    listing = httpx.get(f"{live_server.url}/stubs/sms/?format=json", headers=stub_headers()).json()
    assert n.body in [m["payload"]["text"] for m in listing["messages"]]

    # The stub's page offers the reply with the code in it, as the phone would send it.
    # Only a signed-in person with the stubs' permission may make the stub answer.
    stranger = client.post(reverse("notifications:stub_sms_reply"), {"from": "+46701234567", "text": "x"})
    assert "/logga-in/" in stranger["Location"]
    client.force_login(stub_viewer(make_user))
    page = client.get(reverse("notifications:stub", args=["sms"])).content.decode()
    code = SmsAck.objects.get(incident=incident, phone="+46701234567").code
    assert f'value="{code}"' in page
    answer = client.post(reverse("notifications:stub_sms_reply"), {"from": "+46701234567", "text": code}, follow=True)
    assert "eskaleringen är kvitterad" in answer.content.decode()
    incident.refresh_from_db()
    assert incident.state == State.ACKNOWLEDGED
