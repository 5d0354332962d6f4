"""Stubs, admin and health show nothing to strangers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from notifications import stubs
from notifications.models import StubMessage, StubMode
from notify_helpers import stub_headers, stub_viewer

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def stubs_on(settings, db):
    settings.STUBS_ENABLED = True
    StubMessage.objects.create(
        channel="email",
        idempotency_key="k1",
        payload={"recipient": "sa@region.example", "body": "Kvittera: https://app/kvittera/hemlig/"},
    )


@pytest.mark.parametrize("path", ["/stubs/email/", "/stubs/email/?format=json"])
def test_a_stranger_cannot_read_what_the_app_sent(stubs_on, path):
    response = Client().get(path)
    assert response.status_code == 302 and response.url.startswith("/logga-in/")
    assert b"kvittera" not in response.content


def test_a_signed_in_person_without_the_permission_cannot_read_the_stubs(stubs_on, ks, client_as):
    response = client_as(ks).get("/stubs/email/")
    assert response.status_code == 403
    assert "sa@region.example" not in response.content.decode()


def test_a_person_with_the_permission_reads_the_stubs(stubs_on, make_user, client_as):
    response = client_as(stub_viewer(make_user)).get("/stubs/email/")
    assert response.status_code == 200 and "sa@region.example" in response.content.decode()


def test_a_stranger_cannot_switch_a_stub_to_fail(stubs_on, ks, client_as):
    assert Client().post("/stubs/vardgivare_skane/lage/", {"mode": "fail"}).status_code == 302
    assert client_as(ks).post("/stubs/vardgivare_skane/lage/", {"mode": "fail"}).status_code == 403
    assert not StubMode.objects.exists()


def test_receiving_takes_the_shared_secret(stubs_on):
    client = Client()
    refused = client.post(
        "/stubs/driftinfo/", {"a": 1}, content_type="application/json", headers={"Idempotency-Key": "x"}
    )
    wrong = client.post(
        "/stubs/driftinfo/",
        {"a": 1},
        content_type="application/json",
        headers={"Idempotency-Key": "x", stubs.HEADER: "gissat"},
    )
    assert refused.status_code == 403 and wrong.status_code == 403
    assert not StubMessage.objects.filter(channel="driftinfo").exists()
    accepted = client.post(
        "/stubs/driftinfo/", {"a": 1}, content_type="application/json", headers=stub_headers(**{"Idempotency-Key": "x"})
    )
    assert accepted.status_code == 201
    listing = client.get("/stubs/driftinfo/?format=json", headers=stub_headers())
    assert listing.status_code == 200 and listing.json()["messages"][0]["payload"] == {"a": 1}


def test_the_secret_goes_only_to_the_stubs(settings):
    settings.STUBS_ENABLED = True
    assert stubs.headers_for("https://vardgivare.example/api/notiser") == {}
    assert stubs.headers_for("http://127.0.0.1:8000/stubs/email/") == {stubs.HEADER: stubs.secret()}


def _deploy_check(tmp_path, **extra):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "runbook.settings",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_fails_when_stubs_are_on_outside_demo_mode(tmp_path):
    result = _deploy_check(tmp_path, STUBS_ENABLED="1")
    assert result.returncode != 0
    assert "runbook.E001" in result.stdout + result.stderr


# --- /readyz -------------------------------------------------------------------------------


def test_readyz_tells_a_stranger_only_ok_or_not(db):
    body = Client().get("/readyz").json()
    assert set(body) == {"status"}


def test_readyz_tells_the_detail_with_the_token_or_to_a_signed_in_person(db, settings, ks, client_as):
    settings.READYZ_TOKEN = "overvakning-" + "x" * 20
    with_token = Client().get("/readyz", headers={"Authorization": f"Bearer {settings.READYZ_TOKEN}"})
    assert "database" in with_token.json()["checks"]
    wrong = Client().get("/readyz", headers={"Authorization": "Bearer fel"})
    assert "checks" not in wrong.json()
    assert "database" in client_as(ks).get("/readyz").json()["checks"]
