"""Sign-in with the region's identity provider: a real OpenID Connect provider (oidc-provider
from the npm registry, tests/oidc/) on loopback, the app at pytest-django's live server, and
an HTTP client in between that follows the redirects and fills in the provider's forms as a
person's browser would."""

import json
import os
import re
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from authlib.integrations.django_client import OAuth
from conftest import ensure_role_groups, missing
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from runbook import oidc

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
SECRET = "runbook-test-secret-0123456789abcdef"
OTHER_SECRET = "another-app-secret-0123456789abcdef"
ID_TOKEN_TTL = 30
ROLE_MAP = {
    "SESAM_KUNDSERVICE": "kundservice",
    "SESAM_SYSTEMANSVARIG": "systemansvarig",
    "SESAM_VERKSAMHETSANSVARIG": "verksamhetsansvarig",
    "SESAM_VERKSAMHETSSPECIALIST": "verksamhetsspecialist",
    "SESAM_TELEFONI": "telefoniansvarig",
}
ACCOUNTS = {
    "anna.ks": {
        "roles": ["SESAM_KUNDSERVICE"],
        "given_name": "Anna",
        "family_name": "Kund",
        "email": "anna@region.example",
    },
    "sam.sa": {"roles": ["SESAM_SYSTEMANSVARIG", "SESAM_VERKSAMHETSANSVARIG", "ANNAT_SYSTEM"], "name": "Sam Ansvarig"},
    "olle.annat": {"roles": ["ANNAT_SYSTEM"], "name": "Olle Annat"},
    # What a provider should never send, but might: NUL characters, which PostgreSQL refuses.
    "nul\u0000sub": {
        "roles": ["SESAM_KUNDSERVICE"],
        "given_name": "Ni\u0000na",
        "family_name": "Nul",
        "email": "nina\u0000@region.example",
    },
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def provider(live_server, settings, tmp_path, role_permissions):
    """The provider running, and the app configured to sign in through it."""
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        missing("tests/oidc/node_modules is missing: run `make test-oidc-provider` (npm ci)")
    ensure_role_groups(role_permissions)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    callback = f"{live_server.url}{reverse('oidc_callback')}"
    clients = [
        {"client_id": "runbook", "client_secret": SECRET, "redirect_uris": [callback]},
        # Another application of the region's, which may send people to the same address.
        {"client_id": "other-app", "client_secret": OTHER_SECRET, "redirect_uris": [callback]},
    ]
    env = {
        **os.environ,
        "PORT": str(port),
        "OIDC_CLIENTS": json.dumps(clients),
        "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
        "ROLE_CLAIM": "roles",
        "ID_TOKEN_TTL": str(ID_TOKEN_TTL),
    }
    log = open(tmp_path / "provider.log", "w")
    proc = subprocess.Popen(
        ["node", "provider.mjs"], cwd=OIDC_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "provider.log").read_text()
            time.sleep(0.2)
        settings.OIDC_ISSUER = issuer
        settings.OIDC_CLIENT_ID = "runbook"
        settings.OIDC_CLIENT_SECRET = SECRET
        settings.OIDC_SCOPES = "openid profile email roles"
        settings.OIDC_ROLE_CLAIM = "roles"
        settings.OIDC_ROLE_MAP = ROLE_MAP
        settings.OIDC_BREAK_GLASS_USERS = ["nodadmin"]
        settings.SITE_URL = live_server.url
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _form(html):
    """The action and hidden fields of the provider's form on a page."""
    action = re.search(r'<form[^>]*action="([^"]+)"', html).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return action, fields


def to_callback(http, start_url, login, issuer, app_url, tamper=None):
    """From the first step of a sign-in to the moment the provider sends the browser back to
    the app: returns the callback URL (with code and state), not yet opened. ``tamper``
    may rewrite the address of the provider's authorization request."""
    response = http.get(start_url)
    while True:
        if response.status_code in (301, 302, 303, 307):
            location = str(response.url.join(response.headers["location"]))
            if location.startswith(app_url):
                return location
            if tamper and "/auth?" in location:
                location, tamper = tamper(location), None
            response = http.get(location)
            continue
        assert response.status_code == 200 and str(response.url).startswith(issuer), response.text[:500]
        action, fields = _form(response.text)
        if fields.get("prompt") == "login":
            fields.update(login=login, password="vad-som-helst")
        response = http.post(str(response.url.join(action)), data=fields)


def sign_in(http, app_url, issuer, login, tamper=None):
    callback = to_callback(http, f"{app_url}{reverse('oidc_start')}", login, issuer, app_url, tamper)
    return http.get(callback)


def browser():
    return httpx.Client(follow_redirects=False, timeout=30)


def groups_of(username):
    user = get_user_model().objects.get(username=username)
    return set(user.groups.values_list("name", flat=True))


def signed_in(http, app_url):
    """The app shows its live list (not the login page) to this browser."""
    return http.get(f"{app_url}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_login_page_offers_the_regions_sign_in(provider, live_server):
    with browser() as http:
        page = http.get(f"{live_server.url}{reverse('login')}")
    assert "Logga in med SITHS (Region Skånes inloggning)" in page.text
    assert reverse("oidc_start") in page.text


@pytest.mark.django_db(transaction=True)
def test_kundservice_signs_in_through_the_region_and_gets_her_role(provider, live_server):
    with browser() as http:
        done = sign_in(http, live_server.url, provider, "anna.ks")
        assert done.status_code == 302 and done.headers["location"] == reverse("incidents:live")
        assert signed_in(http, live_server.url)
        live = http.get(f"{live_server.url}/").text
    assert "Anmäl störning" in live
    user = get_user_model().objects.get(username="oidc:anna.ks")
    assert groups_of("oidc:anna.ks") == {"kundservice"}
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Kund", "anna@region.example")
    assert not user.has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_roles_are_replaced_by_the_mapping_at_each_sign_in(provider, live_server):
    earlier = get_user_model().objects.create_user(username="oidc:sam.sa")
    earlier.groups.add(Group.objects.get(name="telefoniansvarig"))
    with browser() as http:
        assert sign_in(http, live_server.url, provider, "sam.sa").status_code == 302
        assert signed_in(http, live_server.url)
    assert groups_of("oidc:sam.sa") == {"systemansvarig", "verksamhetsansvarig"}
    assert get_user_model().objects.get(username="oidc:sam.sa").first_name == "Sam"


@pytest.mark.django_db(transaction=True)
def test_nul_characters_in_the_providers_claims_do_not_break_the_sign_in(provider, live_server):
    with browser() as http:
        done = sign_in(http, live_server.url, provider, "nul\u0000sub")
        assert done.status_code == 302, done.text[:300]
        assert signed_in(http, live_server.url)
    user = get_user_model().objects.get(first_name="Nina")
    assert (user.last_name, user.email) == ("Nul", "nina@region.example")
    assert user.username.startswith(oidc.USERNAME_PREFIX) and "\x00" not in user.username


@pytest.mark.django_db(transaction=True)
def test_after_sign_in_the_person_lands_on_the_page_asked_for_never_elsewhere(provider, live_server):
    start = f"{live_server.url}{reverse('oidc_start')}"
    asked = reverse("incidents:report")
    for wanted, lands in (
        (asked, asked),
        ("https://evil.example/", reverse("incidents:live")),
        ("//evil.example/x", reverse("incidents:live")),
    ):
        with browser() as http:
            callback = to_callback(http, f"{start}?{urlencode({'next': wanted})}", "anna.ks", provider, live_server.url)
            done = http.get(callback)
            assert done.status_code == 302 and done.headers["location"] == lands, wanted


@pytest.mark.django_db(transaction=True)
def test_a_person_whose_claim_maps_to_no_role_is_refused_in_swedish(provider, live_server):
    with browser() as http:
        refused = sign_in(http, live_server.url, provider, "olle.annat")
        assert refused.status_code == 403
        assert "har ingen roll i Driftstörningsrutin Sesam LMN" in refused.text
        assert not signed_in(http, live_server.url)
    assert not get_user_model().objects.filter(username="oidc:olle.annat").exists()


@pytest.mark.django_db(transaction=True)
def test_a_person_who_lost_every_role_at_the_region_keeps_none_here(provider, live_server):
    known = get_user_model().objects.create_user(username="oidc:olle.annat")
    known.groups.add(Group.objects.get(name="systemansvarig"))
    with browser() as http:
        assert sign_in(http, live_server.url, provider, "olle.annat").status_code == 403
        assert not signed_in(http, live_server.url)
    assert groups_of("oidc:olle.annat") == set()


@pytest.mark.django_db(transaction=True)
def test_an_expired_id_token_is_refused(provider, live_server, settings, time_machine):
    """The provider's ID token is valid for ID_TOKEN_TTL seconds; the app's clock reads it
    later than that plus the allowed skew."""
    with browser() as http:
        callback = to_callback(http, f"{live_server.url}{reverse('oidc_start')}", "anna.ks", provider, live_server.url)
        time_machine.move_to(timezone.now() + timedelta(seconds=ID_TOKEN_TTL + settings.OIDC_CLOCK_SKEW_SECONDS + 30))
        refused = http.get(callback)
        assert refused.status_code == 403
        assert "kunde inte godkännas" in refused.text
        assert not signed_in(http, live_server.url)
    assert not get_user_model().objects.filter(username="oidc:anna.ks").exists()


@pytest.mark.django_db(transaction=True)
def test_a_token_within_the_allowed_clock_skew_is_accepted(provider, live_server, time_machine):
    with browser() as http:
        callback = to_callback(http, f"{live_server.url}{reverse('oidc_start')}", "anna.ks", provider, live_server.url)
        time_machine.move_to(timezone.now() + timedelta(seconds=ID_TOKEN_TTL + 10))
        assert http.get(callback).status_code == 302
    assert groups_of("oidc:anna.ks") == {"kundservice"}


def _as_client(url, client_id):
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["client_id"] = client_id
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.django_db(transaction=True)
def test_a_code_the_provider_gave_another_application_is_refused(provider, live_server):
    """The sign-in request is rewritten to name another application of the region's: the
    provider gives that application a code and sends it to the app, which cannot use it."""
    with browser() as http:
        refused = sign_in(http, live_server.url, provider, "anna.ks", tamper=lambda url: _as_client(url, "other-app"))
        assert refused.status_code == 403
        assert not signed_in(http, live_server.url)
    assert not get_user_model().objects.filter(username="oidc:anna.ks").exists()


@pytest.mark.django_db(transaction=True)
def test_an_id_token_made_out_to_another_application_is_refused(provider, live_server):
    """A real ID token from the provider, signed with its key, for the other application
    (its audience): the check the callback makes refuses it, and accepts it as that app's."""
    nonce = "nonce-for-the-other-app"
    with browser() as http:
        start = httpx.URL(
            f"{provider}/auth",
            params={
                "client_id": "other-app",
                "response_type": "code",
                "scope": "openid roles",
                "redirect_uri": f"{live_server.url}{reverse('oidc_callback')}",
                "nonce": nonce,
                "state": "s1",
            },
        )
        callback = to_callback(http, str(start), "anna.ks", provider, live_server.url)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        token = http.post(
            f"{provider}/token",
            auth=("other-app", OTHER_SECRET),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{live_server.url}{reverse('oidc_callback')}",
            },
        ).json()
    assert "id_token" in token
    with pytest.raises(Exception, match="aud"):
        oidc.check_id_token(token, nonce)
    other = OAuth().register(
        "other",
        client_id="other-app",
        client_secret=OTHER_SECRET,
        server_metadata_url=f"{provider}/.well-known/openid-configuration",
    )
    assert other.parse_id_token(token, nonce=nonce, leeway=60)["sub"] == "anna.ks"


@pytest.mark.django_db(transaction=True)
def test_only_the_break_glass_administrator_uses_the_password_form(provider, live_server, make_user, client):
    make_user("verksamhetsansvarig", username="nodadmin", password="nödkontots-lösenord-1")
    make_user("kundservice", username="kalle", password="kalles-lösenord-123")
    refused = client.post(reverse("login"), {"username": "kalle", "password": "kalles-lösenord-123"})
    assert refused.status_code == 200 and "Fel användarnamn eller lösenord" in refused.content.decode()
    assert client.get("/").status_code == 302
    allowed = client.post(reverse("login"), {"username": "nodadmin", "password": "nödkontots-lösenord-1"})
    assert allowed.status_code == 302 and client.get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_break_glass_password_form_is_still_locked_after_too_many_failures(provider, make_user, client, settings):
    make_user("verksamhetsansvarig", username="nodadmin", password="nödkontots-lösenord-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "nodadmin", "password": "gissning"})
    locked = client.post(reverse("login"), {"username": "nodadmin", "password": "nödkontots-lösenord-1"})
    assert locked.status_code == 429
    assert client.get("/").status_code == 302


def test_without_a_provider_configured_the_password_form_is_all_there_is(make_user, client):
    make_user("kundservice", username="kalle", password="kalles-lösenord-123")
    page = client.get(reverse("login")).content.decode()
    assert "SITHS" not in page
    assert client.get(reverse("oidc_start")).status_code == 404
    assert client.post(reverse("login"), {"username": "kalle", "password": "kalles-lösenord-123"}).status_code == 302
