"""No request gives a bare 500: bad filters, page numbers, usernames and bodies get a 4xx with
a message; a database that does not answer gets a Swedish page (503) or the API's own shape."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.test import Client
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "url_name, query",
    [
        ("history", "till=9999-12-31"),
        ("history", "fran=0001-01-01"),
        ("history_csv", "till=9999-12-31"),
        ("figures", "till=9999-12-31"),
        ("figures", "fran=0001-01-01&till=0001-01-02"),
        ("figures_csv", "till=9999-12-31"),
    ],
)
def test_far_dates_in_filters_are_a_400_with_a_message(va, client_as, url_name, query):
    response = client_as(va).get(f"{reverse(f'review:{url_name}')}?{query}")
    assert response.status_code == 400
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert "Ange ett datum mellan 2000-01-01 och 2199-12-31." in body.decode("utf-8-sig")


@pytest.mark.parametrize("page", ["9" * 25, "100001", "-3"])
def test_a_page_number_out_of_range_is_a_4xx(va, client_as, page):
    response = client_as(va).get(f"{reverse('review:history')}?sida={page}")
    assert 400 <= response.status_code < 500
    assert "Sidan finns inte" in response.content.decode()


def test_a_300_character_username_at_login_is_refused_with_a_message(db):
    client = Client(raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "a" * 300, "password": "x"})
    assert response.status_code in (200, 400)
    assert "högst 150 tecken" in response.content.decode() or "Fel användarnamn" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/incidents", "/api/v1/incidents/1/transitions/escalate", "/api/v1/incidents/1/prognosis"],
)
def test_malformed_json_to_the_api_is_a_400_in_its_shape(api_client, vs, path):
    client = api_client(vs)
    for body in ('{"scenario": ', "\xff\xfe", "[1, 2", "null", '{"a": NaN}'):
        method = client.put if path.endswith("prognosis") else client.post
        response = method(path, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, body, response.status_code)
        assert response.json()["code"] in ("invalid", "not_found")


def test_malformed_json_to_a_page_is_a_4xx(ks, client_as):
    client = client_as(ks)
    client.raise_request_exception = False
    response = client.post(reverse("incidents:report"), '{"summary": ', content_type="application/json")
    assert 400 <= response.status_code < 500


# --- the database does not answer -------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_without_database(tmp_path):
    """The app under gunicorn, its DATABASE_URL pointing at a port where nothing listens."""
    port, dead = _free_port(), _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": "test-only-" + "x" * 60,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{dead}/runbook",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "runbook.settings",
    }
    # Static files come from the test run's collectstatic (bin/test); the app needs only the manifest.
    env["DATA_DIR"] = os.environ.get("DATA_DIR", str(BASE_DIR / ".data"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "runbook.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "30"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_without_its_database_the_app_says_so_in_swedish_and_the_api_in_its_shape(app_without_database):
    base = app_without_database
    with httpx.Client(base_url=base, timeout=20) as http:
        # A signed-in person's next page: their session is in the database.
        page = http.get("/historik/", headers={"Cookie": "sessionid=" + "a" * 32})
        assert page.status_code == 503
        assert "kan inte nå sin databas" in page.text
        assert "inte sparats" in page.text
        assert page.headers["content-type"].startswith("text/html")

        api = http.get("/api/v1/incidents", headers={"Authorization": "Bearer sesam_x"})
        assert api.status_code == 503
        assert api.headers["content-type"].startswith("application/json")
        assert api.json()["code"] == "unavailable"

        assert http.get("/readyz").status_code == 503
