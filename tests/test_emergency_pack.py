"""Nödpärm: the routine in force on paper, with contacts and log sheets, as a PDF."""

import html
import re

import pytest
from conftest import squeezed
from django.urls import reverse
from django.utils import timezone

from incidents.models import Contact, EmergencyPack
from routines import loader
from routines.models import RoutineVersion
from runbook import routine

pytestmark = pytest.mark.django_db

CONTACTS = [
    ("systemansvarig", "Sara Systemansvarig", "040-675 12 34", "sa@demo.invalid"),
    ("sa_manager", "Erik Enhetschef", "+46 70 123 45 67", "chef@demo.invalid"),
    ("vendor", "Sesam Leverantör AB", "08-123 456 00", "support@demo.invalid"),
    ("regional_it", "Regional IT driftinfo", "040-33 00 00", "driftinfo@demo.invalid"),
]


@pytest.fixture
def contacts(db):
    return [Contact.objects.create(kind=k, name=n, phone=p, email=e) for k, n, p, e in CONTACTS]


def _pack_href(client):
    """The pack's link in the menu of a page (every page has the same menu)."""
    body = client.get(reverse("incidents:live")).content.decode()
    nav = body[body.index("<nav") : body.index("</nav>")]
    match = re.search(r'<a href="([^"]+)"[^>]*>Nödpärm \(PDF\)</a>', nav)
    assert match, "no emergency pack in the menu"
    return match.group(1)


def test_pack_from_the_menu_holds_every_step_script_contact_and_the_version(client, ks, contacts, pdf_text):
    client.force_login(ks)
    response = client.get(_pack_href(client))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    data = response.content
    assert data.startswith(b"%PDF")
    text = squeezed(pdf_text(data))

    in_force = loader.in_force()
    for scenario in in_force.scenarios.values():
        assert squeezed(scenario.title) in text
        assert squeezed(scenario.routine_text) in text
        for step in scenario.steps:
            assert squeezed(step.instruction) in text, step.key
        for line in routine.caller_script(scenario):
            assert squeezed(line) in text
    for _question_key, question in in_force.triage_questions:
        assert squeezed(question) in text
    for _kind, name, phone, email in CONTACTS:
        assert squeezed(name) in text and squeezed(phone) in text and email in text
    assert squeezed("Servicedesk") in text and squeezed("30 000") in text
    # The blank log sheets.
    assert squeezed("Logg: akuta förskrivningar under reservrutin") in text
    assert squeezed("Logg: samtal från förskrivare") in text
    assert squeezed("Skriv inga personnummer") in text

    # The first page says which routine version and when the pack was made.
    made = EmergencyPack.objects.get()
    first_page = squeezed(pdf_text(data, first=1, last=1))
    assert squeezed(f"Rutinens version {in_force.label}") in first_page
    assert squeezed(timezone.localtime(made.made_at).strftime("gjord %Y-%m-%d %H:%M")) in first_page


def test_a_changed_contact_or_routine_version_makes_a_new_pack(client, ks, contacts, pdf_text, monkeypatch):
    client.force_login(ks)
    first = client.get(reverse("incidents:emergency_pack")).content
    again = client.get(reverse("incidents:emergency_pack")).content
    assert again == first and EmergencyPack.objects.count() == 1  # made once per edition

    manager = contacts[1]
    manager.phone = "+46 70 999 88 77"
    manager.save()
    changed = client.get(reverse("incidents:emergency_pack")).content
    text = squeezed(pdf_text(changed))
    assert squeezed("+46 70 999 88 77") in text and squeezed("+46 70 123 45 67") not in text

    version_1 = RoutineVersion.objects.get(number=1)
    RoutineVersion.objects.create(
        routine=version_1.routine,
        number=2,
        status=RoutineVersion.Status.PUBLISHED,
        published_at=timezone.now(),
        document={**version_1.document, "label": "2027-1"},
    )
    newer = client.get(reverse("incidents:emergency_pack")).content
    assert squeezed("Rutinens version 2027-1") in squeezed(pdf_text(newer, first=1, last=1))
    assert EmergencyPack.objects.count() == 3


def test_a_missing_contact_leaves_a_line_to_fill_in(client, ks, pdf_text):
    client.force_login(ks)
    text = squeezed(pdf_text(client.get(reverse("incidents:emergency_pack")).content))
    assert squeezed("Enhetschef för SA Saknas i appen – skriv in:") in text
    assert squeezed("30 000") in text  # Servicedesk's number is the routine's, always printed


@pytest.mark.parametrize(
    "scenario", ["full_it_outage", "sesam_unreachable", "kundservice_link_loss", "telephony_fault"]
)
def test_the_printed_caller_script_is_the_one_the_incident_page_shows(client, ks, open_incident, scenario):
    from incidents import pack

    incident = open_incident(scenario=scenario)
    client.force_login(ks)
    body = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    section = body[body.index('id="att-saga"') :]
    section = section[: section.index("</section>")]
    shown = [html.unescape(re.sub(r"\s+", " ", li).strip()) for li in re.findall(r"<li>(.*?)</li>", section, re.S)]
    printed = next(s for s in pack.routine_pack().scenarios if s.key == scenario).caller_script
    assert shown and shown == list(printed)


def test_pack_needs_a_signed_in_user(client):
    response = client.get(reverse("incidents:emergency_pack"))
    assert response.status_code == 302 and "/logga-in/" in response["Location"]
