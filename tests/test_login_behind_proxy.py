"""Nobody can lock another person out: behind the reverse proxy the README recommends, login
failures are counted per username *and* the client's own address, read from the proxy's
X-Forwarded-For only because the proxy is trusted; an administrator can let a locked person in.

Tested through a real reverse proxy on loopback: a small forwarding HTTP server started here,
in front of the live test server; the attacker and SA connect to it from different loopback
addresses (127.0.0.2, 127.0.0.3), as two computers would.
"""

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse

from runbook.client import client_ip

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
}


def _proxy_for(upstream):
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            # As nginx's $proxy_add_x_forwarded_for: what came, then the peer's address.
            seen = self.headers.get("X-Forwarded-For")
            headers["X-Forwarded-For"] = f"{seen}, {self.client_address[0]}" if seen else self.client_address[0]
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=20)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    return server


@pytest.fixture
def proxy(live_server, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
    server = _proxy_for(live_server.url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _browser_at(address, proxy_url):
    return httpx.Client(
        base_url=proxy_url,
        timeout=20,
        follow_redirects=False,
        transport=httpx.HTTPTransport(local_address=address),
    )


def _login(http, username, password, **headers):
    page = http.get(reverse("login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return http.post(
        reverse("login"),
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers=headers,
    )


@pytest.mark.django_db(transaction=True)
def test_failures_from_one_computer_do_not_lock_the_person_out_at_another(proxy, make_user, settings):
    make_user("systemansvarig", username="sam", password="sams-rätta-lösenord")
    with _browser_at("127.0.0.2", proxy) as attacker:
        for _ in range(settings.AXES_FAILURE_LIMIT + 2):
            # Also trying to pass itself off as SA's computer.
            _login(attacker, "sam", "gissning", **{"X-Forwarded-For": "127.0.0.3"})
        locked = _login(attacker, "sam", "sams-rätta-lösenord")
        assert locked.status_code == 429  # the attacker's computer is locked for "sam"
    with _browser_at("127.0.0.3", proxy) as sa:
        response = _login(sa, "sam", "sams-rätta-lösenord")
        assert response.status_code == 302, response.text[:300]
        assert sa.get(reverse("incidents:live")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_administrator_lets_a_locked_person_in(proxy, make_user, settings, client):
    make_user("systemansvarig", username="sam", password="sams-rätta-lösenord")
    with _browser_at("127.0.0.3", proxy) as sa:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _login(sa, "sam", "fel")
        assert _login(sa, "sam", "sams-rätta-lösenord").status_code == 429

        admin = User.objects.create_superuser("admin", "admin@example.org", "admins-långa-lösenord")
        client.force_login(admin, backend="runbook.auth.ModelBackend")
        sam = User.objects.get(username="sam")
        done = client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "unlock_login", "_selected_action": [sam.pk]},
        )
        assert done.status_code == 302

        assert _login(sa, "sam", "sams-rätta-lösenord").status_code == 302


def test_x_forwarded_for_from_an_untrusted_sender_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    factory = RequestFactory()
    direct = factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="127.0.0.3")
    assert client_ip(direct) == "198.51.100.7"
    proxied = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.3, 198.51.100.7")
    assert client_ip(proxied) == "198.51.100.7"  # the left part was written by the client
    settings.TRUSTED_PROXIES = []
    assert client_ip(proxied) == "127.0.0.1"
