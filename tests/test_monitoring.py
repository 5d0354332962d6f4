"""IT sees the app's health: /metrics over HTTP, and logs as JSON lines that name the
request, the incident and the message they are about."""

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from incidents.models import Timer
from notifications import services as notify
from notifications.models import Notification
from runbook import health, logs

BASE_DIR = Path(__file__).resolve().parent.parent
TOKEN = "metrics-test-token-0123456789"


def scrape(url, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{url}/metrics", headers=headers, timeout=10)


def samples(response):
    """{(name, frozenset(labels)): value} of a scrape."""
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels):
    return found[(name, frozenset(labels.items()))]


@pytest.fixture
def quiet_incident(open_incident, sa_on_duty):
    """A live incident whose own messages have gone out and whose deadlines lie ahead, so
    that what a test adds is all /metrics has to count."""
    incident = open_incident()
    Notification.objects.update(status=Notification.Status.SENT, sent_at=timezone.now())
    Timer.objects.update(state=Timer.State.CANCELLED, cancelled_at=timezone.now())
    return incident


def test_without_the_token_metrics_tell_nothing(live_server, settings, quiet_incident):
    settings.METRICS_TOKEN = TOKEN
    for token in (None, "gissat"):
        refused = scrape(live_server.url, token)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "runbook_" not in refused.text
    assert scrape(live_server.url).status_code == 200


def test_with_neither_token_nor_networks_nobody_reads_them(live_server, settings, db):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = "", []
    refused = scrape(live_server.url, "vad-som-helst")
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.text and "runbook_" not in refused.text


def test_allowed_networks_alone_let_in_only_those_addresses(live_server, settings, db):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert scrape(live_server.url, None).status_code == 403  # the test comes from 127.0.0.1
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    assert scrape(live_server.url, None).status_code == 200
    # Both set: both must hold.
    settings.METRICS_TOKEN = TOKEN
    assert scrape(live_server.url, None).status_code == 401
    assert scrape(live_server.url).status_code == 200


def test_metrics_show_an_old_notice_an_overdue_deadline_and_a_stopped_scheduler(live_server, settings, quiet_incident):
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    Notification.objects.create(
        incident=quiet_incident,
        rule="test",
        channel="email",
        action="send",
        recipient="sa@region.example",
        idempotency_key="old-pending",
        created_at=now - timedelta(minutes=20),
        next_attempt_at=now,
    )
    Notification.objects.create(
        incident=quiet_incident,
        rule="test",
        channel="sms",
        action="send",
        recipient="+46700000000",
        idempotency_key="failed",
        status=Notification.Status.FAILED,
        created_at=now - timedelta(hours=2),
        failed_at=now - timedelta(hours=1),
    )
    Timer.objects.create(incident=quiet_incident, kind=Timer.Kind.ACK_TIMEOUT, due_at=now - timedelta(minutes=5))
    Timer.objects.create(incident=quiet_incident, kind=Timer.Kind.RESERVE_ROUTINE, due_at=now + timedelta(hours=1))
    health.beat(now=now - timedelta(minutes=10))

    response = scrape(live_server.url)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    found = samples(response)
    assert value(found, "runbook_database_up") == 1
    assert value(found, "runbook_notifications_pending", channel="email") == 1
    assert value(found, "runbook_notifications_pending", channel="sms") == 0
    assert value(found, "runbook_notifications_failed", channel="sms") == 1
    assert 20 * 60 <= value(found, "runbook_notification_oldest_pending_age_seconds", channel="email") < 21 * 60
    assert value(found, "runbook_notification_oldest_pending_age_seconds", channel="sms") == 0
    assert value(found, "runbook_deadlines_overdue", kind="ack_timeout") == 1
    assert value(found, "runbook_deadlines_overdue", kind="reserve_routine") == 0
    assert 5 * 60 <= value(found, "runbook_deadline_lateness_seconds", kind="ack_timeout") < 6 * 60
    assert 10 * 60 <= value(found, "runbook_scheduler_heartbeat_age_seconds") < 11 * 60
    assert value(found, "runbook_scheduler_sweep_interval_seconds") == settings.TIMER_SWEEP_INTERVAL.total_seconds()
    assert value(found, "runbook_incidents_live", state="reported") == 1
    assert value(found, "runbook_incidents_live", state="escalated") == 0

    # The scheduler sweeps again and the message goes out: the next scrape says so.
    health.beat()
    Notification.objects.filter(idempotency_key="old-pending").update(status=Notification.Status.SENT)
    found = samples(scrape(live_server.url))
    assert value(found, "runbook_scheduler_heartbeat_age_seconds") < 60
    assert value(found, "runbook_notifications_pending", channel="email") == 0
    assert value(found, "runbook_notification_oldest_pending_age_seconds", channel="email") == 0


def test_a_scheduler_that_never_ran_is_infinitely_stale(live_server, settings, db):
    settings.METRICS_TOKEN = TOKEN
    found = samples(scrape(live_server.url))
    assert value(found, "runbook_scheduler_heartbeat_age_seconds") == float("inf")


def test_request_latency_is_counted_by_view(live_server, settings, db):
    settings.METRICS_TOKEN = TOKEN
    count = ("runbook_http_request_duration_seconds_count", frozenset({"view": "healthz", "method": "GET"}.items()))
    before = samples(scrape(live_server.url)).get(count, 0)
    for _ in range(3):
        assert httpx.get(f"{live_server.url}/healthz").status_code == 200
    found = samples(scrape(live_server.url))
    assert value(found, "runbook_http_request_duration_seconds_count", view="healthz", method="GET") == before + 3
    assert value(found, "runbook_http_request_duration_seconds_sum", view="healthz", method="GET") > 0


def test_made_up_methods_do_not_grow_the_metrics(live_server, settings, db):
    """A stranger sending requests with invented methods must not add a series each."""
    settings.METRICS_TOKEN = TOKEN
    for i in range(5):
        httpx.request(f"BREW{'X' * i}", f"{live_server.url}/healthz", timeout=10)
    found = samples(scrape(live_server.url))
    methods = {
        dict(labels).get("method") for name, labels in found if name == "runbook_http_request_duration_seconds_count"
    }
    assert not any(m.startswith("BREW") for m in methods if m)
    assert value(found, "runbook_http_request_duration_seconds_count", view="healthz", method="other") >= 5


@pytest.fixture
def log_output():
    """What the configured console handler (settings.LOGGING) writes, read back as JSON."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, logs.JsonFormatter)]
    assert handlers, "the root logger has no JSON handler"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    yield lambda: [json.loads(raw) for raw in buffer.getvalue().splitlines()]
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)


def test_a_log_line_written_while_handling_a_request_on_an_incident_names_it(
    transactional_db, quiet_incident, vs, client_as, log_output
):
    """Committed for real: the timeline's line is written when its event commits."""
    response = client_as(vs).post(
        f"/storning/{quiet_incident.pk}/anteckning/",
        {"text": "Leverantören felsöker."},
        headers={"X-Request-ID": "req-4711"},
    )
    assert response.status_code in (200, 302)
    assert response["X-Request-ID"] == "req-4711"
    lines = [line for line in log_output() if line["logger"] == "incidents.timeline"]
    assert lines, "no timeline line was logged"
    assert lines[-1]["incident_id"] == quiet_incident.pk
    assert lines[-1]["request_id"] == "req-4711"
    assert lines[-1]["level"] == "INFO"


def test_a_request_without_an_id_gets_one_and_a_garbled_one_is_replaced(client, db):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "ok-1"})["X-Request-ID"] == "ok-1"
    replaced = client.get("/healthz", headers={"X-Request-ID": 'a b"<script>'})["X-Request-ID"]
    assert replaced != 'a b"<script>' and len(replaced) == 32


def test_a_delivery_logs_its_message_and_incident(quiet_incident, settings, log_output):
    settings.EMAIL_URL = ""
    settings.SMS_URL = ""  # no gateway: the attempt fails at once, and says so
    notice = Notification.objects.create(
        incident=quiet_incident,
        rule="test",
        channel="sms",
        action="send",
        recipient="+46700000000",
        idempotency_key="log-me",
    )
    notify.deliver(notice.pk)
    lines = [line for line in log_output() if line["logger"] == "notifications.services"]
    assert lines, "the delivery logged nothing"
    assert {line["notification_id"] for line in lines} == {notice.pk}
    assert {line["incident_id"] for line in lines} == {quiet_incident.pk}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_two_processes(tmp_path):
    """The app under gunicorn as docker-compose runs it (gunicorn.conf.py, two processes,
    PROMETHEUS_MULTIPROC_DIR), its database unreachable; yields its address and its log."""
    port, dead = _free_port(), _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": "test-only-" + "x" * 60,
        "DATA_DIR": os.environ.get("DATA_DIR", str(BASE_DIR / ".data")),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/runbook",
        "SECURE_SSL_REDIRECT": "0",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "runbook.wsgi:application",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "2",
                "--preload",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_gunicorn_processes_add_up_their_latency_and_log_json(gunicorn_two_processes):
    base, log_path = gunicorn_two_processes
    before = value(samples(scrape(base)), "runbook_http_request_duration_seconds_count", view="healthz", method="GET")
    # One connection per request, until both processes have answered some (each keeps its
    # figures in a file of its own).
    folder, sent = log_path.parent / "prometheus", 0
    while sent < 20 or len(list(folder.glob("histogram_*.db"))) < 2:
        assert sent < 300, "one gunicorn process answered every request"
        assert httpx.get(f"{base}/healthz", headers={"Connection": "close"}).status_code == 200
        sent += 1
    counts = set()
    for _ in range(6):
        found = samples(scrape(base))
        counts.add(value(found, "runbook_http_request_duration_seconds_count", view="healthz", method="GET"))
        # The database does not answer: the scrape says so instead of failing.
        assert value(found, "runbook_database_up") == 0
    assert counts == {before + sent}  # whichever process is asked

    echoed = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "lb-77"})
    assert echoed.headers["X-Request-ID"] == "lb-77"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(raw) for raw in log_path.read_text().splitlines() if raw.startswith("{")]
        access = [line for line in lines if line["logger"] == "gunicorn.access" and line.get("request_id") == "lb-77"]
        if access:
            break
        time.sleep(0.2)
    assert access and access[0]["path"] == "/healthz" and access[0]["status"] == "200"
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines)
