"""Nobody outside mistakes a drill for real: its notices reach only the drill endpoints, its
mail and SMS only the people taking part, everything says ÖVNING, and a drill whose endpoints
are missing or point at a real receiver does not start.

Real HTTP throughout: two small servers on 127.0.0.1, one playing the real Vårdgivare Skåne,
driftinfo, phone queue and the mail and SMS gateways, the other the drill receivers (or the
app's own drill receivers behind a live server). The outbox is run for real.
"""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents import drills
from incidents import services as incident_services
from incidents.models import Contact, Incident
from notifications import services
from notifications.models import DrillReceipt, Notification, Subscription
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db(transaction=True)

HTTP_CHANNELS = ("vardgivare_skane", "driftinfo", "telephony")
SA_PHONE = "070-111 22 33"
OTHER_SA_PHONE = "070-444 55 66"


class Receiver:
    """A tiny HTTP receiver: keeps every POST (path, headers, JSON) and answers 201."""

    def __init__(self):
        got = self.got = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    got.append((self.path, dict(self.headers), json.loads(body or b"{}")))
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path):
        return [payload for p, _headers, payload in self.got if p == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def real():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def drill_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def wired(settings, real, drill_receiver, monkeypatch):
    """The real endpoints on one receiver, the drill endpoints on the other."""
    settings.VARDGIVARE_SKANE_URL = real.url("/vardgivare_skane/")
    settings.DRIFTINFO_URL = real.url("/driftinfo/")
    settings.TELEPHONY_URL = real.url("/telephony/")
    settings.EMAIL_URL = real.url("/mail/")
    settings.SMS_URL = real.url("/sms/")
    settings.DRILL_VARDGIVARE_SKANE_URL = drill_receiver.url("/ovning/vardgivare_skane/")
    settings.DRILL_DRIFTINFO_URL = drill_receiver.url("/ovning/driftinfo/")
    settings.DRILL_TELEPHONY_URL = drill_receiver.url("/ovning/telephony/")
    settings.NOTIFY_BACKOFF_BASE = timedelta(seconds=0)
    settings.NOTIFY_CONNECT_TIMEOUT = 2
    settings.NOTIFY_READ_TIMEOUT = 2
    settings.NOTIFY_SWEEP_THREADS = 1  # in the order written, as one worker would
    # No broker here: the tests run the outbox themselves, as the sweep does.
    monkeypatch.setattr(services, "enqueue", lambda ids: None)
    return settings


def _real_notices(real):
    return [p for p, _h, _b in real.got if p.strip("/") in HTTP_CHANNELS]


@pytest.fixture
def people(make_user):
    """Participants (a specialist, an SA user) and those left out (the leader, Kundservice)."""
    vs = make_user("verksamhetsspecialist", username="vera")
    sa = make_user("systemansvarig", username="sam")
    va = make_user("verksamhetsansvarig", username="ville")
    ks = make_user("kundservice", username="kim")
    for user in (vs, sa, va, ks):
        user.email = f"{user.username}@skane.invalid"
        user.save()
    # SA's own phone is a contact at SA's address; the other SA and SA's manager are outside.
    Contact.objects.create(kind=Contact.Kind.SYSTEMANSVARIG, name="Sam (jour)", email=sa.email, phone=SA_PHONE)
    Contact.objects.create(
        kind=Contact.Kind.SYSTEMANSVARIG, name="Annan SA", email="annan.sa@skane.invalid", phone=OTHER_SA_PHONE
    )
    Contact.objects.create(
        kind=Contact.Kind.SA_MANAGER, name="Erik Enhetschef", email="erik@skane.invalid", phone="070-999 88 77"
    )
    Subscription.objects.create(email="prenumerant@skane.invalid", name="Pia Prenumerant")
    return {"vs": vs, "sa": sa, "va": va, "ks": ks}


def test_a_sesam_drill_reaches_only_the_drill_receivers_and_the_participants(wired, real, drill_receiver, people):
    vs, sa, va = people["vs"], people["sa"], people["va"]
    drill = drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk, sa.pk], time_scale=30)
    incident_services.escalate(vs, drill.pk)
    incident_services.activate_reserve_routine(vs, drill.pk)
    incident_services.resolve(vs, drill.pk)
    services.sweep()

    written = list(Notification.objects.filter(incident=drill))
    assert written and all(n.drill for n in written)
    assert {n.status for n in written} == {"sent"}, [(n.channel, n.last_error) for n in written]

    # The real portal, driftinfo and phone queue got nothing at all.
    assert _real_notices(real) == []
    # The drill receivers got every notice, each saying ÖVNING, its payload marked a drill's.
    notices = [n for n in written if n.channel in HTTP_CHANNELS]
    assert {n.channel for n in notices} == {"vardgivare_skane", "driftinfo"}
    got = drill_receiver.got
    assert sorted(h["Idempotency-Key"] for _p, h, _b in got) == sorted(n.idempotency_key for n in notices)
    for _path, _headers, body in got:
        assert body["drill"] is True
        assert body["subject"].startswith("ÖVNING: ") and "ÖVNING" in body["body"]
    portal = [body for path, _h, body in got if path == "/ovning/vardgivare_skane/"]
    assert [b["action"] for b in portal] == ["publish", "withdraw"]
    assert all(b["title"].startswith("ÖVNING: ") and b["text"].startswith("ÖVNING: ") for b in portal)

    # Mail went through the real gateway, to the participants only, every subject ÖVNING.
    mail = real.at("/mail/")
    assert mail and {m["recipient"] for m in mail} <= {vs.email, sa.email}
    assert {m["recipient"] for m in mail} == {vs.email, sa.email}
    assert all(m["subject"].startswith("ÖVNING: ") and m["body"].startswith("ÖVNING") for m in mail)
    # SMS: only to SA's own phone (a participant), never to the other SA; one SMS, ÖVNING first.
    (text,) = real.at("/sms/")
    assert text["to"] == "+46701112233" and text["text"].startswith("ÖVNING: ") and len(text["text"]) <= 160

    # The timeline says plainly who was not told, and never that they were.
    lines = list(drill.events.filter(kind="notification").values_list("message", flat=True))
    left_out = [line for line in lines if "inte deltar i övningen" in line]
    assert left_out and any("Annan SA" in line for line in left_out)
    assert any("Pia Prenumerant" in line for line in left_out)
    assert not any("Annan SA" in line or "Erik" in line for line in lines if line not in left_out)
    assert any(line.startswith("Skickat till övningens mottagare för Vårdgivare Skåne: ÖVNING: ") for line in lines)
    assert not any(line.startswith("Skickat till Vårdgivare Skåne") for line in lines)


def test_a_phone_queue_drill_goes_to_the_apps_own_drill_receiver(
    wired, real, live_server, people, client, settings, monkeypatch
):
    """The default drill endpoints: the app's own receivers, on whatever STUBS_ENABLED says."""
    settings.STUBS_ENABLED = False
    for channel in HTTP_CHANNELS:
        setattr(settings, f"DRILL_{channel.upper()}_URL", f"{live_server.url}/stubs/ovning/{channel}/")
    vs, va, ks = people["vs"], people["va"], people["ks"]
    drill = drills.start_drill(va, scenario="kundservice_link_loss", participants=[vs.pk, ks.pk], time_scale=60)
    incident_services.reclassify(vs, drill.pk, "telephony_fault")
    incident_services.resolve(vs, drill.pk)
    services.sweep()

    notices = list(Notification.objects.filter(incident=drill, channel__in=HTTP_CHANNELS).order_by("id"))
    assert {n.channel for n in notices} == {"telephony", "driftinfo"}
    delivered = [n for n in notices if n.status == "sent"]
    assert delivered and all(n.status in ("sent", "superseded") for n in notices)
    kept = DrillReceipt.objects.filter(incident=drill)
    assert {r.notification_id for r in kept} == {n.pk for n in delivered}
    assert all(r.payload["drill"] is True and "ÖVNING" in r.payload["body"] for r in kept)
    lavin = [r.payload for r in kept.filter(channel="telephony").order_by("id")]
    assert lavin[0]["text"].startswith("ÖVNING: ") and lavin[-1]["action"] == "off"
    assert _real_notices(real) == []
    assert {m["recipient"] for m in real.at("/mail/")} <= {vs.email, ks.email}

    # The drill's page says where its notices went and that the drill receiver has them.
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[drill.pk])).content.decode()
    assert "till övningens mottagare" in page and "mottaget av övningens mottagare" in page
    # The receiver keeps only the app's own drill notices.
    from notify_helpers import stub_headers

    foreign = client.post(
        reverse("notifications:drill_receiver", args=["driftinfo"]),
        {"action": "publish"},
        content_type="application/json",
        headers=stub_headers(**{"Idempotency-Key": "hjm-1-1-x"}),
    )
    assert foreign.status_code == 422
    anonymous = client.post(reverse("notifications:drill_receiver", args=["driftinfo"]), {})
    assert anonymous.status_code == 403


@pytest.mark.parametrize(
    "setting, value, named",
    [
        ("DRILL_DRIFTINFO_URL", "", "DRILL_DRIFTINFO_URL är inte inställd"),
        ("DRILL_TELEPHONY_URL", "real:/telephony", "DRILL_TELEPHONY_URL pekar på samma adress som TELEPHONY_URL"),
        (
            "DRILL_VARDGIVARE_SKANE_URL",
            "real:/vardgivare_skane/",
            "DRILL_VARDGIVARE_SKANE_URL pekar på samma adress som VARDGIVARE_SKANE_URL",
        ),
        ("DRILL_DRIFTINFO_URL", "real:/mail/", "DRILL_DRIFTINFO_URL pekar på samma adress som EMAIL_URL"),
    ],
)
def test_a_drill_with_a_missing_or_real_endpoint_does_not_start(wired, real, people, setting, value, named, capsys):
    if value.startswith("real:"):
        # The same address as the real one, written differently: case, localhost, default slash.
        port = real.server.server_address[1]
        value = f"HTTP://LOCALHOST:{port}{value.removeprefix('real:')}"
    setattr(wired, setting, value)
    before = (Incident.objects.count(), Notification.objects.count())
    with pytest.raises(ActionRefused) as refused:
        drills.start_drill(people["va"], scenario="sesam_unreachable", participants=[people["vs"].pk])
    assert named in refused.value.message and "Övningen kan inte startas" in refused.value.message
    assert (Incident.objects.count(), Notification.objects.count()) == before
    assert real.got == []
    # Said at start-up too.
    call_command("check", "--tag", "drills")
    assert "runbook.W030" in capsys.readouterr().err


@pytest.mark.parametrize("later", ["", "real"])
def test_a_written_drill_notice_is_never_rerouted_to_the_real_receiver(wired, real, drill_receiver, people, later):
    vs, va = people["vs"], people["va"]
    drill = drills.start_drill(va, scenario="telephony_fault", participants=[vs.pk])
    lavin = Notification.objects.get(incident=drill, channel="telephony")
    # Someone changes the setting after the notice was written.
    wired.DRILL_TELEPHONY_URL = "" if later == "" else wired.TELEPHONY_URL
    services.deliver(lavin.pk)
    lavin.refresh_from_db()
    assert lavin.status == "failed" and lavin.attempts == 1
    assert "DRILL_TELEPHONY_URL" in lavin.last_error and "Övningsmeddelandet skickas inte" in lavin.last_error
    assert real.at("/telephony/") == [] and drill_receiver.at("/ovning/telephony/") == []
    # The task it leaves says it is a drill's, not to be done for real.
    task = drill.tasks.get(step_key=f"notification-{lavin.pk}")
    assert task.text.startswith("ÖVNING, gör det inte på riktigt:")


def test_a_real_incident_during_a_drill_goes_to_the_real_receivers(wired, real, drill_receiver, people):
    vs, va, ks = people["vs"], people["va"], people["ks"]
    drills.start_drill(va, scenario="telephony_fault", participants=[vs.pk])
    incident = incident_services.open_incident(ks, scenario="telephony_fault", summary="Telefonin är nere")
    drill_keys = set(Notification.objects.filter(drill=True).values_list("idempotency_key", flat=True))
    services.sweep()

    real_notices = list(Notification.objects.filter(incident=incident))
    assert real_notices and not any(n.drill for n in real_notices)
    assert {n.status for n in real_notices} == {"sent"}
    (lavin,) = real.at("/telephony/")
    assert "drill" not in lavin and "ÖVNING" not in lavin["text"] + lavin["subject"]
    assert len(real.at("/driftinfo/")) == 1
    # The real incident's mail reaches the roles as always, the leader among them.
    assert va.email in {m["recipient"] for m in real.at("/mail/") if not m["subject"].startswith("ÖVNING")}
    # The drill's went to the drill receivers only.
    assert {h["Idempotency-Key"] for _p, h, _b in drill_receiver.got} == drill_keys - set(
        Notification.objects.filter(drill=True, channel__in=("email", "sms")).values_list("idempotency_key", flat=True)
    )


def test_the_database_refuses_a_drill_notice_marked_real_and_the_other_way_round(wired, people):
    from django.db import IntegrityError, transaction

    drill = drills.start_drill(people["va"], scenario="telephony_fault", participants=[people["vs"].pk])
    real_one = incident_services.open_incident(people["ks"], scenario="telephony_fault", summary="Telefonin är nere")
    for incident, drill_mark in ((drill, False), (real_one, True)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(
                incident=incident,
                rule="x",
                channel="telephony",
                action="on",
                recipient="x",
                idempotency_key=f"hand-{incident.pk}",
                drill=drill_mark,
            )
        lavin = Notification.objects.filter(incident=incident, channel="telephony").first()
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.filter(pk=lavin.pk).update(drill=drill_mark)
