"""Scale-out: two web processes (gunicorn), two workers and two beats on one PostgreSQL and one
Redis. Reports made through either web process send each notice once, each deadline fires
once, and every page and the API answer from either web process."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from incidents.models import Incident, State, TimelineEvent, Timer
from notifications.models import Notification, StubMessage
from notify_helpers import worker_env
from processes import BASE_DIR, Celery, free_port, own_redis, stop, wait_for  # noqa: F401
from runbook import services as runbook_services
from timer_support import restore_seed_data

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RESERVE_AFTER_SECONDS = 4


def http(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def start_web(tmp_path, env, port):
    log = open(tmp_path / f"web-{port}.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "runbook.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--no-control-socket",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def test_two_webs_two_workers_two_beats_send_once_fire_once_and_answer_alike(
    settings,
    tmp_path,
    own_redis,
    require_postgres,
):
    restore_seed_data()
    settings.RESERVE_ROUTINE_AFTER = timedelta(seconds=RESERVE_AFTER_SECONDS)
    ks = get_user_model().objects.create_user(username="ks-scale", first_name="Kim")
    ks.groups.add(Group.objects.get(name="kundservice"))
    _, token = runbook_services.issue_token(ks, "skala ut")
    client = Client()
    client.force_login(ks)
    session = client.cookies["sessionid"].value

    procs = []
    celery = None
    try:
        # The stubs stand in for the receivers; web A serves them, both webs share the database.
        port_a, port_b = free_port(), free_port()
        env = worker_env(
            f"http://127.0.0.1:{port_a}",
            connection.settings_dict["NAME"],
            own_redis.url,
            RESERVE_ROUTINE_AFTER_SECONDS=RESERVE_AFTER_SECONDS,
            STUBS_ENABLED="1",
            API_RATE_PER_TOKEN="",
            API_RATE_PER_ADDRESS="",
        )
        web_a, base_a = start_web(tmp_path, env, port_a)
        web_b, base_b = start_web(tmp_path, env, port_b)
        procs += [web_a, web_b]
        celery = Celery(tmp_path, env)
        for _ in range(2):
            celery.worker()
            celery.beat()
        webs = [base_a, base_b]
        for base in webs:
            wait_for(lambda b=base: http(f"{b}/readyz")[0] == 200, timeout=120, what=f"{base} ready")

        api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        opened = []
        for n, base in enumerate(webs * 2):
            scenario = "telephony_fault" if n < 2 else "sesam_unreachable"
            body = json.dumps({"scenario": scenario, "summary": f"Störning {n} via {base[-5:]}"}).encode()
            status, answer = http(f"{base}/api/v1/incidents", body, api)
            assert status == 201, answer
            opened.append(json.loads(answer)["id"])

        # Every page and the API answer alike from either web process, with one session.
        cookie = {"Cookie": f"sessionid={session}"}
        for base in webs:
            status, page = http(f"{base}/", headers=cookie)
            assert status == 200 and all(f"Störning {n} via" in page for n in range(4)), page[:500]
            for incident_id in opened:
                assert http(f"{base}/storning/{incident_id}/", headers=cookie)[0] == 200
                status, answer = http(f"{base}/api/v1/incidents/{incident_id}", headers=api)
                assert status == 200 and json.loads(answer)["id"] == incident_id
            assert http(f"{base}/historik/", headers=cookie)[0] == 200

        def settled():
            # The reserve routine's own notice (Vårdgivare Skåne) counts too, once written.
            fired = Incident.objects.filter(pk__in=opened[2:], state=State.RESERVE_ROUTINE).count()
            pending = Notification.objects.filter(incident_id__in=opened).exclude(status="sent")
            return fired == 2 and not pending.exists()

        wait_for(settled, timeout=90, what="every notice sent and both deadlines fired")
        time.sleep(2)  # further sweeps by both beats on both workers change nothing
        notices = list(Notification.objects.filter(incident_id__in=opened))
        assert {n.channel for n in notices} >= {"telephony", "vardgivare_skane"}
        for n in notices:
            (received,) = StubMessage.objects.filter(idempotency_key=n.idempotency_key)
            assert received.duplicates == 0, n
        assert StubMessage.objects.count() == len(notices)
        for incident in Incident.objects.filter(pk__in=opened[2:]):
            assert incident.events.filter(kind=TimelineEvent.Kind.TIMER, data__timer="reserve_routine").count() == 1
            assert (
                incident.events.filter(
                    kind=TimelineEvent.Kind.TRANSITION, data__name="activate_reserve_routine"
                ).count()
                == 1
            )
            assert incident.timers.get(kind=Timer.Kind.RESERVE_ROUTINE).state == Timer.State.FIRED
    finally:
        if celery is not None:
            celery.stop_all()
        for proc in procs:
            stop(proc)
        connection.close()
