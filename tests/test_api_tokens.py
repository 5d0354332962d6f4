"""Personal API tokens: made once, stored hashed, carry the owner's permissions, revocable."""

import hashlib
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client

from incidents.models import Incident
from runbook import services
from runbook.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


INCIDENTS = "/api/v1/incidents"


def bearer(key):
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_create_api_token_prints_a_token_that_is_stored_only_as_its_hash(ks):
    out = io.StringIO()
    call_command("create_api_token", ks.username, stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("sesam_") and len(key) > 40
    token = ApiToken.objects.get(user=ks)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list().get()]
    assert key not in stored
    assert bearer(key).get(INCIDENTS).status_code == 200


def test_create_api_token_refuses_an_unknown_or_inactive_user(ks):
    with pytest.raises(CommandError):
        call_command("create_api_token", "ingen-sadan", stdout=io.StringIO())
    ks.is_active = False
    ks.save()
    with pytest.raises(CommandError):
        call_command("create_api_token", ks.username, stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_a_token_carries_its_owners_permissions_and_no_more(open_incident, ks):
    incident = open_incident()
    _token, key = services.issue_token(ks)
    response = bearer(key).post(f"{INCIDENTS}/{incident.pk}/transitions/resolve", "{}", content_type="application/json")
    assert response.status_code == 403
    # Give the owner the permission: the same token may now.
    ks.user_permissions.add(Permission.objects.get(codename="resolve_incident"))
    response = bearer(key).post(f"{INCIDENTS}/{incident.pk}/transitions/resolve", "{}", content_type="application/json")
    assert response.status_code == 200, response.content


def test_a_revoked_token_is_401_and_changes_nothing(ks):
    token, key = services.issue_token(ks)
    assert bearer(key).get(INCIDENTS).status_code == 200
    services.revoke_token(ks, token.pk)
    response = bearer(key).post(
        INCIDENTS, {"scenario": "sesam_unreachable", "summary": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert not Incident.objects.exists()


def test_the_token_of_a_deactivated_user_is_401(ks):
    _token, key = services.issue_token(ks)
    ks.is_active = False
    ks.save()
    assert bearer(key).get(INCIDENTS).status_code == 401


def test_last_use_is_recorded(ks):
    token, key = services.issue_token(ks)
    bearer(key).get(INCIDENTS)
    token.refresh_from_db()
    assert token.last_used_at is not None


# --- the page -------------------------------------------------------------------------------


def test_tokens_page_makes_a_token_and_shows_it_once(client, ks):
    client.force_login(ks)
    response = client.post("/tokens/", {"name": "Övervakning"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=ks)
    html = response.content.decode()
    key = html.split('id="new-key" type="text" readonly value="')[1].split('"')[0]
    assert ApiToken.digest(key) == token.key_hash
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    # Listed afterwards by name and prefix, never in clear again.
    html = client.get("/tokens/").content.decode()
    assert "Övervakning" in html and token.key_prefix in html and key not in html


def test_tokens_page_lists_only_ones_own_tokens(client, ks, sa):
    services.issue_token(ks, "Kundservice skript")
    services.issue_token(sa, "SA:s övervakning")
    client.force_login(ks)
    html = client.get("/tokens/").content.decode()
    assert "Kundservice skript" in html
    assert "SA:s övervakning" not in html


def test_owner_revokes_on_the_page(client, ks):
    token, key = services.issue_token(ks, "Gammal")
    client.force_login(ks)
    response = client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(key).get(INCIDENTS).status_code == 401


def test_someone_elses_token_cannot_be_revoked_on_the_page(client, ks, sa):
    token, key = services.issue_token(sa)
    client.force_login(ks)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_admin_revokes_any_token_in_the_admin(client, ks, django_user_model):
    token, key = services.issue_token(ks)
    admin = django_user_model.objects.create_superuser("admin", "admin@example.org", "ett-långt-adminlösenord")
    client.force_login(admin)
    listing = client.get("/admin/runbook/apitoken/")
    assert listing.status_code == 200
    assert token.key_prefix in listing.content.decode()
    assert token.key_hash not in listing.content.decode()
    response = client.post("/admin/runbook/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(key).get(INCIDENTS).status_code == 401


def test_anonymous_visitors_are_sent_to_login_from_the_tokens_page(client):
    response = client.get("/tokens/")
    assert response.status_code == 302
    assert "/logga-in/" in response["Location"]
