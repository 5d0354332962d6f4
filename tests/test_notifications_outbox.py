"""The outbox: which event writes which message, in the event's own transaction."""

import ast
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from incidents import services
from incidents.models import Contact, Task, TimelineEvent
from incidents.timeline import log_event
from notifications import rules
from notifications.models import Notification, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def sa_with_mail(make_user):
    user = make_user("systemansvarig")
    user.email = "sam.sa@example.org"
    user.save()
    return user


def channels_actions(incident):
    return sorted(incident.notifications.values_list("channel", "action"))


def test_escalation_writes_sa_mail_with_ack_link_and_driftinfo_request(open_incident, vs, sa_with_mail):
    Contact.objects.create(kind=Contact.Kind.SYSTEMANSVARIG, name="SA-jour", email="sa-jour@example.org")
    incident = open_incident()
    services.escalate(vs, incident.pk)
    mails = incident.notifications.filter(rule="escalate_sa").order_by("id")
    assert [m.recipient for m in mails] == ["sam.sa@example.org", "sa-jour@example.org"]
    assert "/kvittera/" in mails[0].body and "/kvittera/" not in mails[1].body
    driftinfo = incident.notifications.get(rule="escalate_driftinfo")
    assert driftinfo.payload["action"] == "publish"
    assert {"started_at", "affected", "prognosis", "next_update"} <= set(driftinfo.payload)
    assert all(n.status == "pending" and n.idempotency_key for n in incident.notifications.all())
    assert incident.events.filter(kind="notification").exists()


def test_a_rolled_back_transition_leaves_no_message(open_incident, vs, sa_with_mail):
    incident = open_incident()
    before = Notification.objects.count()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.escalate(vs, incident.pk)
            assert Notification.objects.count() > before
            raise RuntimeError("rollback")
    assert Notification.objects.count() == before


def test_link_loss_puts_lavin_on_and_asks_for_driftinfo_then_takes_it_off(open_incident, sa):
    incident = open_incident(scenario="kundservice_link_loss")
    assert ("driftinfo", "publish") in channels_actions(incident)
    lavin = incident.notifications.get(channel="telephony")
    assert lavin.action == "on" and "Kundservice Hjälpmedel" in lavin.body
    services.resolve(sa, incident.pk)
    assert ("telephony", "off") in channels_actions(incident)
    assert ("driftinfo", "end") in channels_actions(incident)
    assert ("vardgivare_skane", "withdraw") not in channels_actions(incident)


def test_reserve_routine_publishes_on_vardgivare_skane_and_resolve_withdraws(open_incident, vs, sa):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.activate_reserve_routine(vs, incident.pk)
    notice = incident.notifications.get(channel="vardgivare_skane", action="publish")
    assert notice.subject == "Reservrutin för akuta förskrivningar gäller – kontakta Kundservice"
    services.resolve(sa, incident.pk)
    assert incident.notifications.filter(channel="vardgivare_skane", action="withdraw").count() == 1


def test_sa_fallback_timer_mails_the_unit_manager(open_incident, vs):
    Contact.objects.create(kind=Contact.Kind.SA_MANAGER, name="Enhetschef", email="chef@example.org")
    incident = open_incident()
    services.escalate(vs, incident.pk)
    # Outside SA's duty hours the escalation itself falls back; otherwise the ack timeout would.
    if not incident.events.filter(kind="timer", data__timer="sa_fallback").exists():
        with transaction.atomic():
            log_event(
                incident,
                TimelineEvent.Kind.TIMER,
                "SA har inte kvitterat",
                data={"timer": "sa_fallback", "reason": "ack_timeout"},
            )
    mail = incident.notifications.get(rule="sa_fallback_manager")
    assert mail.recipient == "chef@example.org"
    assert ("inte i tjänst" in mail.body or "inte kvitterat" in mail.body) and "Servicedesk" in mail.body


def test_reserve_timer_event_itself_sends_nothing_twice(open_incident):
    incident = open_incident()
    count = incident.notifications.count()
    log_event(incident, TimelineEvent.Kind.TIMER, "4 timmar", data={"timer": "reserve_routine"})
    assert incident.notifications.count() == count


def test_notification_events_do_not_set_off_more_messages(open_incident):
    incident = open_incident(scenario="telephony_fault")
    count = incident.notifications.count()
    log_event(incident, TimelineEvent.Kind.NOTIFICATION, "x", data={"channel": "telephony"})
    assert incident.notifications.count() == count


def test_subscribers_get_the_reserve_routine_mail_once_each(open_incident, vs):
    Subscription.objects.bulk_create(Subscription(email=f"p{i}@example.org") for i in range(30))
    Subscription.objects.create(email="P0@EXAMPLE.ORG".lower().replace("p0", "dup0"))
    incident = open_incident()
    services.escalate(vs, incident.pk)
    services.activate_reserve_routine(vs, incident.pk)
    mails = incident.notifications.filter(rule="reserve_alert_roles")
    assert mails.count() == len(set(m.lower() for m in mails.values_list("recipient", flat=True)))
    assert mails.count() >= 30
    # One timeline line for the whole fan-out, not one per recipient.
    assert incident.events.filter(kind="notification", data__rule="reserve_alert_roles").count() == 1


def test_no_patient_data_or_free_text_goes_out(open_incident, vs, sa_with_mail):
    # Written anyway, after the warning: it must still never leave the app.
    incident = open_incident(summary="Patient 19121212-1212 fick inget", confirmed=["personnummer"])
    services.escalate(vs, incident.pk)
    for n in incident.notifications.all():
        assert "19121212" not in n.body + n.subject + str(n.payload)


def test_add_manual_task_is_once_per_key(open_incident):
    incident = open_incident()
    first = services.add_manual_task(incident, "verksamhetsansvarig", "Publicera manuellt", reason="x", key="k1")
    again = services.add_manual_task(incident, "verksamhetsansvarig", "Publicera manuellt", reason="x", key="k1")
    assert first.pk == again.pk
    assert Task.objects.filter(incident=incident, scenario="manual").count() == 1


def test_rules_page_is_shown_to_verksamhetsansvarig_not_kundservice(client, va, ks):
    client.force_login(va)
    page = client.get(reverse("notifications:rules")).content.decode()
    assert "Reservrutin för akuta förskrivningar" in page or "Vårdgivare Skåne" in page
    # Each rule is a row under every scenario it applies to, each row with an id of its own.
    for rule in rules.RULES:
        assert re.search(rf'id="rule-[a-z_]+-{rule.key}"', page)
    ids = re.findall(r'id="(rule-[^"]+)"', page)
    assert len(ids) == len(set(ids))
    client.force_login(ks)
    assert client.get(reverse("notifications:rules")).status_code == 403


def test_the_menu_links_to_the_rules_for_those_who_may_see_them(client, va, ks):
    rules_url = reverse("notifications:rules")
    client.force_login(va)
    page = client.get(rules_url).content.decode()
    assert f'href="{rules_url}" aria-current="page"' in page
    assert ">vardgivare_skane<" not in page and "Publicera notis om reservrutin" in page
    client.force_login(ks)
    assert f'href="{rules_url}"' not in client.get(reverse("incidents:live")).content.decode()


def test_incident_page_lists_messages(client, open_incident, vs, va):
    incident = open_incident(scenario="telephony_fault")
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'id="meddelanden"' in page and "Lavinmeddelande på telefonslingan" in page


def test_incidents_app_does_not_import_notifications():
    root = Path(__file__).resolve().parent.parent / "incidents"
    imports = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            imports += [f"{path}:{node.lineno}: {name}" for name in names if name.split(".")[0] == "notifications"]
    assert imports == []


def test_outgoing_texts_stay_swedish_whatever_language_the_actor_reads(open_incident, vs, va, sa_with_mail):
    """Vårdgivare Skåne, driftinfo, the phone queue and the e-mails are written in Swedish,
    even when the person whose action sets them off reads the app in English. On a weekday
    morning, when SA is on duty (after hours the escalation takes SA's fallback instead)."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    import time_machine

    from incidents.models import DutyHours

    # SA's working hours as the migrations made them (a live-server test's flush empties them).
    DutyHours.objects.get_or_create(weekday=DutyHours.Weekday.TUESDAY, start=time(8), end=time(16, 30))
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))):
        _outgoing_texts_stay_swedish(open_incident, vs, va)


def _outgoing_texts_stay_swedish(open_incident, vs, va):
    from django.utils import translation

    vs.email = "vera.vs@example.org"
    vs.save()
    Subscription.objects.create(email="prenumerant@example.org", name="Pia")
    with translation.override("en"):
        incident = open_incident(scenario="sesam_unreachable")
        services.escalate(vs, incident.pk)
        services.activate_reserve_routine(va, incident.pk)
    title = "Sesam LMN-server oåtkomlig för samtliga användare"
    driftinfo = incident.notifications.get(rule="escalate_driftinfo")
    assert driftinfo.body.startswith(f"Sesam LMN: {title}")
    assert driftinfo.payload["affected"].startswith("Sesam LMN går inte att nå")
    report_mail = incident.notifications.get(rule="reported_alert_roles")
    assert report_mail.subject == f"Driftstörning anmäld: {title}"
    portal = incident.notifications.get(rule="reserve_vardgivare_skane")
    assert portal.recipient == "Vårdgivare Skåne"
    queued = incident.events.filter(kind="notification").values_list("message", flat=True)
    assert queued and all(m.startswith(("Meddelande köat", "Inga mottagare")) for m in queued)


def test_every_action_a_routine_may_name_has_a_message_on_its_channel(open_incident):
    """The routine's format lets a notice ask each channel for these actions (the editor and
    an import are refused anything else): each must have a Swedish message to send."""
    from notifications import messages
    from routines.document import NOTICE_ACTIONS

    incident = open_incident(scenario="sesam_unreachable")
    for channel, actions in NOTICE_ACTIONS.items():
        for action in actions:
            rule = rules.Rule(
                key="t", event_kind="reported", match={}, scenarios=(incident.scenario,), channel=channel, action=action
            )
            if channel == "sms":
                subject, text, payload = messages.render_sms(rule, incident, code="123456")
                assert "Sesam LMN" in text, action
            else:
                subject, body, payload = messages.render(rule, incident, recipient_name="Sam")
            assert subject.strip() and payload, (channel, action)
