"""`manage.py check --deploy` refuses what would quietly fail people in production."""

import pytest
from django.core.checks import run_checks

from incidents.models import Contact

pytestmark = pytest.mark.django_db

GOOD = {
    "SITE_URL": "https://driftstorning.example.se",
    "EMAIL_URL": "",
    "EMAIL_HOST": "smtp.region.example",
}


def deploy_ids():
    return {message.id for message in run_checks(include_deployment_checks=True)}


@pytest.fixture
def configured(settings):
    for name, value in GOOD.items():
        setattr(settings, name, value)
    Contact.objects.create(kind=Contact.Kind.SYSTEMANSVARIG, name="SA", phone="040-1", email="sa@example.se")
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Chef", phone="040-2", email="chef@example.se")
    return settings


def test_a_configured_installation_passes(configured):
    assert not {"runbook.E010", "runbook.E011", "runbook.E012", "runbook.E014"} & deploy_ids()


def test_an_sms_gateway_without_its_webhook_secret_fails(configured):
    configured.STUBS_ENABLED = False
    configured.SMS_URL = "https://sms.example.se/send"
    configured.SMS_WEBHOOK_SECRET = ""
    assert "runbook.E014" in deploy_ids()
    configured.SMS_WEBHOOK_SECRET = "a-long-shared-secret"
    assert "runbook.E014" not in deploy_ids()
    configured.SMS_URL = ""
    configured.SMS_WEBHOOK_SECRET = ""
    assert "runbook.E014" not in deploy_ids()


@pytest.mark.parametrize(
    "site_url",
    [
        "http://127.0.0.1:8000",
        "http://localhost",
        "https://[::1]/",
        "http://0.0.0.0:8000",
        "http://app.localhost",
    ],
)
def test_a_loopback_site_url_fails(configured, site_url):
    configured.SITE_URL = site_url
    assert "runbook.E010" in deploy_ids()


def test_smtp_to_localhost_without_a_mail_gateway_fails(configured):
    configured.EMAIL_HOST = "localhost"
    assert "runbook.E011" in deploy_ids()
    configured.EMAIL_URL = "https://mail.example.se/send"
    assert "runbook.E011" not in deploy_ids()


@pytest.mark.parametrize("kind", [Contact.Kind.SYSTEMANSVARIG, Contact.Kind.SA_MANAGER])
def test_no_active_sa_or_enhetschef_contact_fails(configured, kind):
    Contact.objects.filter(kind=kind).update(active=False)
    assert "runbook.E012" in deploy_ids()
    Contact.objects.filter(kind=kind).delete()
    assert "runbook.E012" in deploy_ids()


def test_the_checks_run_only_with_deploy(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert "runbook.E010" not in {m.id for m in run_checks()}


def test_an_address_list_entry_that_is_no_address_fails(configured):
    configured.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0.300"]
    assert "runbook.E015" in deploy_ids()
    configured.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "192.0.2.7"]
    configured.TRUSTED_PROXIES = ["proxy.region.example"]
    assert "runbook.E015" in deploy_ids()
    configured.TRUSTED_PROXIES = ["172.30.57.10", "2001:db8::/32"]
    assert "runbook.E015" not in deploy_ids()


def test_a_metrics_token_short_enough_to_guess_fails(configured):
    configured.METRICS_TOKEN = "hemligt123"
    assert "runbook.E017" in deploy_ids()
    configured.METRICS_TOKEN = "x" * 31
    assert "runbook.E017" in deploy_ids()
    configured.METRICS_TOKEN = "kX2v" * 8
    assert "runbook.E017" not in deploy_ids()
    configured.METRICS_TOKEN = ""
    assert "runbook.E017" not in deploy_ids()
