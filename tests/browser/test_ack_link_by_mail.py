"""E-mail through a real SMTP server; SA follows the acknowledge link in a real browser."""

import re
import socket

import pytest
from aiosmtpd.controller import Controller

from incidents import services as incident_services
from notifications import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def free_port():
    for port in range(8520, 8600):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8520-8599")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_URL = "127.0.0.1", port, ""
    yield inbox
    controller.stop()


def test_sa_acknowledges_from_the_link_in_the_mail(
    settings, live_server, smtp_server, browser, open_incident, vs, make_user
):
    settings.SITE_URL = live_server.url
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    sa = make_user("systemansvarig", username="sam", password="ett-långt-testlösenord")
    sa.email = "sam@example.org"
    sa.save()
    incident = open_incident()
    incident_services.escalate(vs, incident.pk)
    services.sweep()

    (mail,) = [body for to, body in smtp_server.messages if to == ["sam@example.org"]]
    assert "Eskalering till systemansvarig" in mail or "Eskalering" in mail
    import email
    from email import policy

    text = email.message_from_string(mail, policy=policy.default).get_body().get_content()
    link = re.search(r"(http://\S+/kvittera/\S+/)", text).group(1)
    assert link.startswith(live_server.url)
    assert incident.notifications.get(recipient="sam@example.org").status == "sent"

    page = browser.new_context(locale="sv-SE").new_page()
    page.goto(link)
    page.fill("#id_username", "sam")
    page.fill("#id_password", "ett-långt-testlösenord")
    page.click("button[type=submit].button-primary")
    page.wait_for_selector("#confirm-ack")
    incident.refresh_from_db()
    assert incident.state == "escalated"  # opening the link changed nothing
    page.click("#confirm-ack")
    page.wait_for_selector("#incident-state")
    assert page.inner_text("#incident-state") == "Kvitterad"

    page.goto(link)
    assert "redan använts" in page.inner_text("#ack-refused")
    incident.refresh_from_db()
    assert incident.state == "acknowledged"
