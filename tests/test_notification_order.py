"""Notices about one reference arrive in the order they were decided; an obsolete one is not sent.

Real HTTP to the stub receivers, real PostgreSQL, several delivering threads racing each other
while the stubs fail or answer slowly at random; a seeded loop of runs (reproducible: the seed
is in the failure message). Whatever the interleaving, the receiver ends in the incident's real
state, and never receives a reference's messages out of order.
"""

import random
import threading
import time

import pytest
from django.db import connection

from incidents import services as incident_services
from notifications import services
from notifications.models import Notification, StubMessage, StubMode
from tests.notify_helpers import point_at_stubs

RUNS = 12
WORKERS = 3


@pytest.fixture
def racing_stubs(settings, live_server, monkeypatch, require_postgres):
    point_at_stubs(settings, live_server.url)
    settings.STUB_SLOW_SECONDS = 0.03
    # The threads below are the workers: no broker is rung.
    monkeypatch.setattr(services, "enqueue", lambda ids: None)
    monkeypatch.setattr(services, "_retry_later", lambda pk, delay: None)
    return live_server.url


def _worker(incident_id, stop, rng_seed):
    rng = random.Random(rng_seed)
    try:
        while not stop.is_set():
            ids = list(
                Notification.objects.filter(incident_id=incident_id, status="pending")
                .exclude(channel="email")
                .values_list("id", flat=True)
            )
            if ids:
                services.deliver(rng.choice(ids))
            time.sleep(rng.uniform(0, 0.01))
    finally:
        connection.close()


def _set_modes(rng):
    for channel in ("telephony", "driftinfo", "vardgivare_skane"):
        mode = rng.choices(["ok", "fail", "slow"], weights=[3, 2, 2])[0]
        StubMode.objects.update_or_create(channel=channel, defaults={"mode": mode})


def _story(rng, incident, people):
    """What people do, with pauses at random: the decisions whose order must be kept."""
    vs, va = people
    if incident.scenario == "sesam_unreachable":
        incident_services.escalate(vs, incident.pk)
        time.sleep(rng.uniform(0, 0.03))
        incident_services.activate_reserve_routine(va, incident.pk)
        time.sleep(rng.uniform(0, 0.03))
    if rng.random() < 0.15:
        return "live"  # still going on at the end
    incident.refresh_from_db()
    if incident.state == "reported" and rng.random() < 0.4:
        incident_services.cancel(va, incident.pk, reason="Falsklarm")
    else:
        incident_services.resolve(va, incident.pk)
    return "ended"


def _received(channel, incident):
    """What the receiver holds for this incident, in the order it arrived."""
    ref = f"HJM-SESAM-{incident.pk}"
    return [
        m
        for m in StubMessage.objects.filter(channel=channel).order_by("id")
        if (m.payload.get("reference") or m.payload.get("notice_id")) == ref
    ]


@pytest.mark.django_db(transaction=True)
def test_the_receiver_always_ends_in_the_real_state_whatever_the_delays_and_failures(racing_stubs, make_user):
    people = (make_user("verksamhetsspecialist"), make_user("verksamhetsansvarig"))
    for run in range(RUNS):
        seed = 1000 + run
        rng = random.Random(seed)
        StubMode.objects.all().delete()
        scenario = rng.choice(["kundservice_link_loss", "telephony_fault", "sesam_unreachable"])
        incident = incident_services.open_incident(people[0], scenario=scenario, summary="Slumpad körning")
        stop = threading.Event()
        workers = [threading.Thread(target=_worker, args=(incident.pk, stop, seed * 10 + i)) for i in range(WORKERS)]
        for w in workers:
            w.start()
        try:
            _set_modes(rng)
            time.sleep(rng.uniform(0, 0.03))
            outcome = _story(rng, incident, people)
            for _ in range(3):
                _set_modes(rng)
                time.sleep(rng.uniform(0, 0.05))
            StubMode.objects.all().delete()  # the receivers come back
            deadline = time.monotonic() + 20
            while Notification.objects.filter(incident=incident, status="pending").exclude(channel="email").exists():
                assert time.monotonic() < deadline, f"seed {seed}: messages still pending"
                time.sleep(0.02)
        finally:
            stop.set()
            for w in workers:
                w.join(10)
        incident.refresh_from_db()
        order = {n.idempotency_key: n.pk for n in Notification.objects.filter(incident=incident)}

        for channel in ("telephony", "driftinfo", "vardgivare_skane"):
            got = _received(channel, incident)
            decided = list(Notification.objects.filter(incident=incident, channel=channel).order_by("id"))
            if not decided:
                assert got == [], f"seed {seed}"
                continue
            # Never out of order: each arrival was decided after the one before it.
            ids = [order[m.idempotency_key] for m in got]
            assert ids == sorted(ids), f"seed {seed}: {channel} arrived out of order"
            # The receiver ends where the incident is: the last decision, delivered.
            assert got, f"seed {seed}: nothing of {channel} arrived"
            assert order[got[-1].idempotency_key] == decided[-1].pk, f"seed {seed}: {channel} ends wrong"
            last = got[-1].payload
            if channel == "telephony":
                assert last["action"] == ("on" if outcome == "live" else "off"), f"seed {seed}"
            elif channel == "vardgivare_skane":
                assert last["action"] == ("publish" if outcome == "live" else "withdraw"), f"seed {seed}"
            else:
                assert last["status"] == ("Pågår" if outcome == "live" else "Åtgärdad"), f"seed {seed}"
            # What was made obsolete was never sent, and a person was not asked to do it.
            for n in decided:
                if n.status == "superseded":
                    assert n.idempotency_key not in {m.idempotency_key for m in got}, f"seed {seed}"
            assert all(n.status in ("sent", "superseded") for n in decided), f"seed {seed}"
