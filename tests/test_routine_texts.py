"""The words a notice sends are the routine version's: the owner edits them on the draft's
notices page, a text that would go out wrong (empty, an unknown placeholder, an SMS longer
than one message) is refused at its place and saves nothing, the draft page says what changed
in words, a file carries them out and back, and an incident sends its own version's words
while one of the version before goes on sending the old ones."""

import copy
import json

import pytest
import yaml
from django.urls import reverse

from incidents import services as incident_services
from routines import diff, document, loader, portable, services
from routines.models import Routine, RoutineVersion
from runbook.errors import ActionRefused
from tests.test_routine_pages import form_of

pytestmark = pytest.mark.django_db

PORTAL = "c-vardgivare_skane-publish-body"
OLD_PORTAL = (
    "Sesam LMN går inte att nå. Reservrutin för akuta förskrivningar gäller – kontakta Kundservice. "
    "Förskrivare som behöver göra en akut förskrivning av inkontinenshjälpmedel, speciallivsmedel och "
    "diabeteshjälpmedel kontaktar Kundservice Hjälpmedel. Mer information och prognos finns på regionala driftinfo."
)
NEW_PORTAL = "{system} är nere ({reference}). {reserve_notice}: ring Kundservice Hjälpmedel på 040-123 45."


def sesam():
    return Routine.objects.get(key=loader.DEFAULT_ROUTINE)


def stored():
    """Every version as stored, to show that a refusal changed nothing."""
    return [
        (v.pk, v.status, v.revision, json.dumps(v.document, sort_keys=True))
        for v in RoutineVersion.objects.order_by("pk")
    ]


@pytest.fixture
def texts_page(client, make_user):
    """Verksamhetsspecialist on the draft's notices page, at its texts form."""
    client.force_login(make_user("verksamhetsspecialist"))
    client.post(reverse("routines:start_draft", args=[loader.DEFAULT_ROUTINE]))
    draft = RoutineVersion.objects.get(routine__key=loader.DEFAULT_ROUTINE, status="draft")
    url = reverse("routines:notices", args=[draft.pk])
    return client, draft, url


def texts_form(client, url):
    return form_of(client.get(url), url + "?texter")


def test_the_owner_edits_a_notice_text_and_the_draft_page_says_so(texts_page):
    client, draft, url = texts_page
    fields = texts_form(client, url)
    assert fields[PORTAL] == "{system} går inte att nå. {reserve_notice}. Förskrivare som behöver göra en akut " + (
        "förskrivning av inkontinenshjälpmedel, speciallivsmedel och diabeteshjälpmedel kontaktar Kundservice "
        "Hjälpmedel. Mer information och prognos finns på regionala driftinfo."
    )
    assert fields["system"] == "Sesam LMN" and fields["reference"] == "HJM-SESAM"
    unchanged = client.post(url, fields)
    assert unchanged.status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).revision == draft.revision  # the same texts: nothing saved

    response = client.post(url, {**fields, PORTAL: NEW_PORTAL})
    assert response.status_code == 302
    saved = RoutineVersion.objects.get(pk=draft.pk)
    assert saved.document["messages"]["channels"]["vardgivare_skane"]["publish"]["body"] == NEW_PORTAL
    assert saved.revision == draft.revision + 1

    page = client.get(reverse("routines:draft", args=[draft.pk])).content.decode()
    assert "Notis ”Vårdgivare Skåne: publicera”, text: ”{system} går inte att nå." in page
    assert "→ ”{system} är nere ({reference})." in page


@pytest.mark.parametrize(
    "field,value,said",
    [
        (PORTAL, "   ", "Notis ”Vårdgivare Skåne: publicera”, text: en text behövs"),
        (
            "c-email-escalation-subject",
            "Eskalering: {system} för {patient}",
            "Notis ”E-post: eskalering”, rubrik: okänd platshållare {patient}; här kan stå {system}, {reference}",
        ),
        (
            "c-email-escalation-body",
            "Sammanfattning: {summary}",
            "Notis ”E-post: eskalering”, text: okänd platshållare {summary}",
        ),
        (
            "c-sms-escalation-what",
            "{system} går inte att nå för någon användare ({reference}).\n{system} går inte att nå för någon"
            " användare alls i hela Region Skåne, och ingen vet ännu när det blir bättre ({reference}).",
            "Notis ”SMS: eskalering”, vad som hänt, rad 2: det kortaste SMS:et blir 1",
        ),
        ("c-driftinfo-update-subject", "Uppdatering {system", "Notis ”Driftinfo: uppdatera”, rubrik: klamrarna"),
        (PORTAL, "Läs mer: {incident_url} " + "x" * 1000, "högst 1000"),
    ],
)
def test_a_text_that_would_go_out_wrong_is_refused_at_its_place_and_saves_nothing(texts_page, field, value, said):
    client, draft, url = texts_page
    fields = texts_form(client, url)
    before = stored()
    response = client.post(url, {**fields, field: value})
    assert response.status_code == 400
    page = response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert said in page, page[page.find('id="fel"') : page.find('id="fel"') + 600]
    assert stored() == before


def test_the_lavin_is_needed_only_where_a_rule_puts_it_on_the_phone_queue(texts_page):
    client, draft, url = texts_page
    fields = texts_form(client, url)
    # Sesam LMN-server oåtkomlig (scenario 2) has no lavin rule in version 1: its text may go.
    response = client.post(url, {**fields, "s1-lavin": ""})
    assert response.status_code == 302
    assert "lavin" not in RoutineVersion.objects.get(pk=draft.pk).document["messages"]["scenarios"]["sesam_unreachable"]
    # Kundservice förlorar kontakt (scenario 3) has: refused.
    fields = texts_form(client, url)
    response = client.post(url, {**fields, "s2-lavin": ""})
    assert response.status_code == 400
    assert "Kundservice förlorar kontakt med Sesam LMN, lavinmeddelande: lavinmeddelandet behövs" in (
        response.content.decode()
    )


def test_an_import_with_a_bad_text_is_refused_saying_where_and_changes_nothing(va):
    before = stored()
    data = yaml.safe_load(portable.export_version(RoutineVersion.objects.get(number=1)))
    data["messages"]["channels"]["sms"]["sa_fallback"]["off_duty"] = ["{system} nere: {affected} {prognosis}"]
    with pytest.raises(ActionRefused) as refused:
        portable.import_file(va, yaml.safe_dump(data, allow_unicode=True))
    assert refused.value.message.startswith("Notis ”SMS: SA nås inte”, text när SA inte är i tjänst, rad 1: ")
    assert stored() == before


def test_export_and_import_keep_the_texts(va):
    v1 = RoutineVersion.objects.get(routine__key="sesam-lmn", number=1)
    exported = yaml.safe_load(portable.export_version(v1))
    assert exported["format"] == 2
    assert exported["messages"] == document.upgraded(v1.document)["messages"]

    exported["messages"]["channels"]["vardgivare_skane"]["publish"]["body"] = NEW_PORTAL
    exported["messages"]["channels"]["driftinfo"]["publish"]["body"] += "\nKontakt: Kundservice Hjälpmedel"
    draft = portable.import_file(va, yaml.safe_dump(exported, allow_unicode=True))
    again = yaml.safe_load(portable.export_version(draft))
    assert again["messages"] == exported["messages"]
    assert draft.document["messages"] == exported["messages"]


def test_a_new_version_with_another_text_changes_only_its_own_incidents(ks, va, vs):
    """Version 1's incident, live while version 2 is published, goes on sending version 1's
    words; an incident reported under version 2 sends the new ones."""
    va.email = "va@demo.invalid"
    va.save()
    old = incident_services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte")
    draft = services.start_draft(vs, sesam())
    edited = copy.deepcopy(draft.document)
    edited["messages"]["channels"]["vardgivare_skane"]["publish"]["body"] = NEW_PORTAL
    edited["messages"]["channels"]["email"]["reserve_routine"]["subject"] = "Nu gäller reservrutinen: {system}"
    draft = services.save_draft(vs, draft.pk, edited, revision=draft.revision)
    services.publish(va, draft.pk, "Kundservice nås på eget nummer", revision=draft.revision)
    new = incident_services.open_incident(ks, scenario="sesam_unreachable", summary="Sesam LMN svarar inte igen")
    assert (old.routine.number, new.routine.number) == (1, 2)

    for incident in (old, new):
        incident_services.activate_reserve_routine(va, incident.pk)
    old_portal = old.notifications.get(channel="vardgivare_skane", action="publish")
    new_portal = new.notifications.get(channel="vardgivare_skane", action="publish")
    assert old_portal.body == OLD_PORTAL and old_portal.payload["text"] == OLD_PORTAL
    expected = (
        f"Sesam LMN är nere (HJM-SESAM-{new.pk}). Reservrutin för akuta förskrivningar gäller – kontakta "
        "Kundservice: ring Kundservice Hjälpmedel på 040-123 45."
    )
    assert new_portal.body == expected and new_portal.payload["text"] == expected
    assert set(old.notifications.filter(action="reserve_routine").values_list("subject", flat=True)) == {
        "Reservrutin aktiverad: Sesam LMN"
    }
    assert set(new.notifications.filter(action="reserve_routine").values_list("subject", flat=True)) == {
        "Nu gäller reservrutinen: Sesam LMN"
    }
    # Never the summary a person typed: it may hold personal data.
    for incident in (old, new):
        assert not incident.notifications.filter(body__contains="svarar inte").exists()


def test_the_difference_in_texts_is_said_in_words():
    v1 = RoutineVersion.objects.get(routine__key="sesam-lmn", number=1)
    assert diff.changes(v1.document, document.upgraded(v1.document)) == []  # format 1 is read with its words
    new = copy.deepcopy(document.upgraded(v1.document))
    channels = new["messages"]["channels"]
    channels["vardgivare_skane"]["publish"]["body"] = "Ny text"
    channels["sms"]["escalation"]["what"] = ["{system} nås inte ({reference})."]
    del channels["email"]["resolved"]["after_reserve"]
    new["messages"]["scenarios"]["telephony_fault"]["lavin"] = "Telefonerna krånglar."
    lines = diff.changes(v1.document, new)
    assert lines[1].startswith(
        "Notis ”Vårdgivare Skåne: publicera”, text: ”{system} går inte att nå. {reserve_notice}."
    )
    assert lines[1].endswith("…” → ”Ny text”")
    assert lines == [
        "Meddelandetexter, Störningar i telefonin, lavinmeddelande: ”Du har kommit till Kundservice Hjälpmedel. "
        "Vi har just nu störningar i telefoni…” → ”Telefonerna krånglar.”",
        lines[1],
        "Notis ”SMS: eskalering”, vad som hänt: ”{system} går inte att nå för någon användare ({reference}). | "
        "{system} nås inte ({reference}).” → ”{system} nås inte ({reference}).”",
        "Notis ”E-post: driften återställd”, text efter reservrutin: tas bort (var ”Driften av {system} är "
        "återställd. Akuta förskrivningar som tagits under reserv…”)",
    ]
