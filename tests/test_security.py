"""Security a user or an auditor would notice: CSRF, CSP, login throttling, deploy checks,
and bad input refused with a clear Swedish message that changes nothing."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, TimelineEvent

BASE_DIR = Path(__file__).resolve().parent.parent

REPORT = {
    "kundservice_reaches_sesam": "yes",
    "prescribers_reach_sesam": "no",
    "rest_of_it_up": "yes",
    "phones_work": "yes",
    "scenario": "sesam_unreachable",
    "summary": "Sesam LMN svarar inte för någon",
    "action": "report",
}


# --- CSRF -----------------------------------------------------------------------------------


def test_report_without_csrf_token_is_refused(ks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    response = client.post(reverse("incidents:report"), REPORT)
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_transition_without_csrf_token_is_refused(open_incident, vs, snapshot):
    incident = open_incident()
    before = snapshot(incident)
    client = Client(enforce_csrf_checks=True)
    client.force_login(vs, backend="runbook.auth.ModelBackend")
    response = client.post(reverse("incidents:transition", args=[incident.pk, "escalate"]))
    assert response.status_code == 403
    assert snapshot(incident) == before


def test_report_with_the_pages_csrf_token_is_accepted(ks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ks, backend="runbook.auth.ModelBackend")
    page = client.get(reverse("incidents:report")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("incidents:report"), {**REPORT, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Incident.objects.count() == 1


# --- Content-Security-Policy and what pages load ----------------------------------------


@pytest.fixture
def pages(incident_in, everyone, client_as, ks):
    """Every page a person sees, in states that show the most forms."""
    live = incident_in("sesam_unreachable", "reserve_routine")
    services.log_reserve_order(ks, live.pk, reference="LMN-1", product_area="diabetes", prescriber_unit="VC Lund")
    services.log_caller_report(ks, live.pk, functions="Sparar inte", error_message="HTTP 503")
    ended = incident_in("telephony_fault", "cancelled")
    resolved = incident_in("kundservice_link_loss", "resolved")
    client = client_as(everyone)
    urls = [
        reverse("incidents:live"),
        reverse("incidents:report"),
        reverse("review:history"),
        reverse("incidents:detail", args=[live.pk]),
        reverse("incidents:detail", args=[ended.pk]),
        reverse("incidents:detail", args=[resolved.pk]),
    ]
    responses = {url: client.get(url) for url in urls}
    responses["404"] = client.get("/storning/999999/")
    responses["409"] = client.post(reverse("incidents:transition", args=[ended.pk, "resolve"]))
    anonymous = Client()
    responses["login"] = anonymous.get(reverse("login"))
    return responses


def test_every_page_sends_a_strict_content_security_policy(pages):
    for url, response in pages.items():
        csp = response.headers.get("Content-Security-Policy", "")
        directives = dict((part.split()[0], part.split()[1:]) for part in csp.split(";") if part.strip())
        assert directives.get("script-src") == ["'self'"], url
        assert directives.get("default-src") == ["'self'"], url
        assert directives.get("object-src") == ["'none'"], url
        assert directives.get("frame-ancestors") == ["'none'"], url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url


def test_pages_have_no_inline_script_and_load_nothing_from_other_hosts(pages):
    for url, response in pages.items():
        html = response.content.decode()
        assert response.status_code in (200, 404, 409), url
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S | re.I):
            assert body.strip() == "", f"inline script on {url}"
            assert 'src="/static/' in attrs, f"script from elsewhere on {url}: {attrs}"
        for tag in re.findall(r"<link[^>]*>", html, re.I):
            assert not re.search(r'href="(https?:)?//', tag), f"{url}: {tag}"
        # CSP would block these silently, so a page relying on them would break.
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), f"inline event handler on {url}"
        assert not re.search(r'\sstyle\s*=\s*"', html, re.I), f"inline style on {url}"
        assert "<style" not in html.lower(), f"inline style block on {url}"


# --- login throttling -------------------------------------------------------------------


def test_login_is_locked_after_too_many_failures_even_with_the_right_password(make_user):
    make_user("kundservice", username="kerstin", password="rätt-lösenord-123")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        failed = client.post(reverse("login"), {"username": "kerstin", "password": "fel"})
        assert failed.status_code == 200
        assert "Fel användarnamn eller lösenord" in failed.content.decode()
    last = client.post(reverse("login"), {"username": "kerstin", "password": "fel"})
    assert "För många inloggningsförsök" in last.content.decode()

    locked = client.post(reverse("login"), {"username": "kerstin", "password": "rätt-lösenord-123"})

    assert locked.status_code == 429
    assert "För många inloggningsförsök" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("incidents:live")).status_code == 302


def test_the_right_password_works_before_the_limit(make_user):
    make_user("kundservice", username="kerstin", password="rätt-lösenord-123")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "kerstin", "password": "fel"})
    response = client.post(reverse("login"), {"username": "kerstin", "password": "rätt-lösenord-123"})
    assert response.status_code == 302
    assert client.get(reverse("incidents:live")).status_code == 200


# --- deploy checks ----------------------------------------------------------------------


@pytest.mark.parametrize("database_url", [None, "postgres://runbook@db.example:5432/runbook"])
def test_production_settings_pass_djangos_deploy_check(tmp_path, database_url):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "runbook.settings",
        # The app's own deploy checks need a real address and mail relay (tests/test_deploy_checks.py).
        "SITE_URL": "https://driftstorning.example.se",
        "EMAIL_HOST": "smtp.example.se",
    }
    assert len(env["SECRET_KEY"]) == 64
    if database_url:
        env["DATABASE_URL"] = database_url
    result = subprocess.run(
        # As the stack's start-up runs it; the contacts are checked on their own (they need data).
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output
    assert "System check identified no issues" in output


# --- invalid input ----------------------------------------------------------------------


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"summary": ""}, "Skriv en kort sammanfattning."),
        ({"summary": "x" * 501}, "Högst 500 tecken (texten har 501). Korta den och försök igen."),
        ({"scenario": "meteor"}, "Välj ett giltigt alternativ"),
        ({"scenario": ""}, "Välj det scenario som stämmer."),
        (
            {"began_at": _local(timezone.now() + timedelta(hours=2))},
            "Störningen kan inte ha börjat i framtiden.",
        ),
        ({"began_at": "igår vid lunch"}, "Ange tiden som ÅÅÅÅ-MM-DD TT:MM."),
        ({"began_at": "2025-13-45T25:61"}, "Ange tiden som ÅÅÅÅ-MM-DD TT:MM."),
    ],
)
def test_bad_report_input_is_refused_with_a_swedish_message(ks, client_as, change, message):
    response = client_as(ks).post(reverse("incidents:report"), {**REPORT, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Incident.objects.exists()
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"kind": "at", "expected_at": _local(timezone.now() - timedelta(hours=1))},
            "Prognosen måste ligga i framtiden.",
        ),
        ({"kind": "at", "expected_at": ""}, "Ange när Sesam LMN förväntas vara åter"),
        ({"kind": "at", "expected_at": "snart"}, "Ange tiden som ÅÅÅÅ-MM-DD TT:MM."),
    ],
)
def test_bad_prognosis_is_refused_with_a_swedish_message(incident_in, sa, client_as, snapshot, data, message):
    incident = incident_in("sesam_unreachable", "acknowledged")
    before = snapshot(incident)
    response = client_as(sa).post(reverse("incidents:prognosis", args=[incident.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(incident) == before


@pytest.mark.parametrize(
    "url_name, data, message",
    [
        ("note", {"text": "  "}, "Skriv något i anteckningen."),
        ("caller_report", {"functions": "", "prescribers": "1"}, "Beskriv vad som inte fungerar."),
        ("caller_report", {"functions": "Sparar inte", "prescribers": "0"}, "Minst 1."),
        ("reclassify", {"scenario": "meteor"}, "Välj ett giltigt alternativ"),
        ("it_contact", {}, "Fyll i ärendenummer eller leverantörskontakt."),
    ],
)
def test_bad_input_on_the_incident_page_is_refused_with_a_swedish_message(
    incident_in, everyone, client_as, snapshot, url_name, data, message
):
    incident = incident_in("sesam_unreachable", "escalated")
    before = snapshot(incident)
    response = client_as(everyone).post(reverse(f"incidents:{url_name}", args=[incident.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(incident) == before


def test_a_reference_that_looks_like_a_personnummer_is_refused(incident_in, ks, client_as, snapshot):
    incident = incident_in("sesam_unreachable", "reserve_routine")
    before = snapshot(incident)
    response = client_as(ks).post(
        reverse("incidents:reserve_order", args=[incident.pk]),
        {"reference": "19121212-1212", "product_area": "diabetes", "prescriber_unit": "VC Lund"},
    )
    assert response.status_code == 400
    assert "ser ut som ett personnummer" in response.content.decode()
    assert snapshot(incident) == before
