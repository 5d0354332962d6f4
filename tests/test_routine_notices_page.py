"""The draft's notice rules on their page: a rule is added, removed, or made to apply to
another scenario, each said in words among the draft's changes; a bad rule is refused naming
its place and changes nothing; a post that does not carry the rules never empties them; and
the e-mail's frame is asked for only once a rule sends e-mail."""

import copy

import pytest
from django.urls import reverse

from routines import services
from routines.models import Routine, RoutineVersion
from runbook.errors import ActionRefused
from tests.test_routine_pages import form_of, start

pytestmark = pytest.mark.django_db

NEW_RULE = {
    "do": "add",
    "ny-regel-event": "escalate",
    "ny-regel-scenarios": ["sesam_unreachable"],
    "ny-regel-sends": "email:escalation",
    "ny-regel-recipients": ["sa_manager"],
    "ny-regel-when": "Eskalerad: chefen får veta",
    "ny-regel-why": "Enhetschefen för SA informeras om eskaleringen.",
}


@pytest.fixture
def chief(client, make_user):
    client.force_login(make_user("verksamhetsansvarig"))
    return client


def notices_of(draft):
    return RoutineVersion.objects.get(pk=draft.pk).document["notices"]


def changes_page(client, draft):
    return client.get(reverse("routines:draft", args=[draft.pk])).content.decode()


def test_a_rule_is_added_with_its_event_scenarios_channel_and_recipients(chief):
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    before = len(notices_of(draft))
    response = chief.post(url, {**fields, **NEW_RULE})
    assert response.status_code == 302
    notices = notices_of(draft)
    assert len(notices) == before + 1
    assert notices[-1] == {
        "key": "escalate_email_escalation",
        "event_kind": "transition",
        "match": {"name": "escalate"},
        "scenarios": ["sesam_unreachable"],
        "channel": "email",
        "action": "escalation",
        "recipients": ["sa_manager"],
        "only_after": None,
        "unless_out": False,
        "ack_link": False,
        "when": "Eskalerad: chefen får veta",
        "why": "Enhetschefen för SA informeras om eskaleringen.",
    }
    assert notices[:-1] == draft.document["notices"]  # the others as they were
    assert "Ny meddelanderegel: Eskalerad: chefen får veta, E-post" in changes_page(chief, draft)
    # The page shows it, and saving the page as shown keeps it as it is.
    fields = form_of(chief.get(url), url)
    assert fields[f"regel-{before}-event"] == "escalate" and fields[f"regel-{before}-sends"] == "email:escalation"
    assert chief.post(url, {**fields, "do": "save"}).status_code == 302
    assert notices_of(draft) == notices


def test_a_rule_is_removed_and_a_rule_covers_a_new_scenario(chief):
    draft = start(chief)
    add_url = reverse("routines:new_scenario", args=[draft.pk])
    fields = form_of(chief.get(reverse("routines:draft", args=[draft.pk])), add_url)
    fields.update(
        {
            "title": "Sesam LMN är långsamt",
            "key": "sesam_slow",
            "routine_text": "Sesam LMN svarar långsamt.",
            "role": "kundservice",
            "instruction": "Informera den som ringer.",
        }
    )
    assert chief.post(add_url, fields).status_code == 302
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    assert "sesam_slow" not in fields["regel-0-scenarios"]
    fields["regel-0-scenarios"] = [*fields["regel-0-scenarios"], "sesam_slow"]
    assert chief.post(url, {**fields, "do": "save"}).status_code == 302
    first = notices_of(draft)[0]
    assert first["key"] == "reported_alert_roles" and first["scenarios"][-1] == "sesam_slow"
    page = changes_page(chief, draft)
    assert "Meddelanderegel Störning anmäld, E-post: gäller nu även ”Sesam LMN är långsamt”" in page

    fields = form_of(chief.get(url), url)
    count = len(notices_of(draft))
    assert chief.post(url, {**fields, "do": "remove-1"}).status_code == 302
    notices = notices_of(draft)
    assert len(notices) == count - 1 and "reported_lavin_on" not in [n["key"] for n in notices]
    page = changes_page(chief, draft)
    assert "Meddelanderegel borttagen: Störning anmäld, Telefonslingan (lavinmeddelande)" in page


def test_the_event_and_the_conditions_are_edited_and_said(chief):
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    assert fields["regel-0-event"] == "reported"
    fields.update(
        {"regel-0-event": "acknowledge", "regel-0-only_after": "driftinfo:publish", "regel-0-unless_out": "on"}
    )
    assert chief.post(url, {**fields, "do": "save"}).status_code == 302
    first = notices_of(draft)[0]
    assert (first["event_kind"], first["match"]) == ("transition", {"name": "acknowledge"})
    assert first["only_after"] == {"channel": "driftinfo", "action": "publish"} and first["unless_out"] is True
    page = changes_page(chief, draft)
    assert "Meddelanderegel Störning anmäld, E-post: händelse Störning anmäld → SA har kvitterat" in page
    assert (
        "Meddelanderegel Störning anmäld, E-post: skickas alltid → bara medan Notis ”Driftinfo: publicera” är ute"
        in (page)
    )
    assert "Meddelanderegel Störning anmäld, E-post: inte om något redan är ute" in page


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"ny-regel-recipients": []}, "Meddelanderegel 22, mottagare: e-post och SMS behöver mottagare"),
        ({"ny-regel-when": " "}, "Meddelanderegel 22, när (text): en text behövs"),
        ({"ny-regel-scenarios": []}, "Meddelanderegel 22, scenarier: minst ett scenario behövs"),
        ({"ny-regel-sends": ""}, "Meddelanderegel 22, kanal: en kanal behövs"),
        ({"ny-regel-sends": "vardgivare_skane:escalation"}, "Välj ett giltigt alternativ"),
    ],
)
def test_a_bad_new_rule_is_refused_at_its_place_and_changes_nothing(chief, change, said):
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    response = chief.post(url, {**fields, **NEW_RULE, **change})
    assert response.status_code == 400
    assert said in response.content.decode()
    after = RoutineVersion.objects.get(pk=draft.pk)
    assert after.revision == draft.revision and after.document == draft.document


def test_a_post_without_the_rules_fields_empties_nothing(chief):
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    bare = {"revision": fields["revision"], "base": fields["base"]}
    for post in (bare, {**bare, "do": "save"}, {**bare, "do": "remove-0"}, {**bare, **NEW_RULE}):
        assert chief.post(url, post).status_code == 400
        after = RoutineVersion.objects.get(pk=draft.pk)
        assert after.revision == draft.revision and after.document == draft.document


@pytest.mark.parametrize("role", ["kundservice", "systemansvarig"])
def test_only_the_routines_owners_edit_its_rules(chief, client, make_user, role):
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    client.force_login(make_user(role))
    assert client.get(url).status_code == 403
    assert client.post(url, {**fields, **NEW_RULE}).status_code == 403
    assert client.post(url, {**fields, "do": "remove-0"}).status_code == 403
    assert RoutineVersion.objects.get(pk=draft.pk).document == draft.document


def test_a_new_routine_keeps_its_e_mail_signature_and_is_asked_for_the_rest_once_it_sends_e_mail(chief):
    response = chief.post(
        reverse("routines:new_routine"),
        {"key": "journalia", "name": "Driftstörningsrutin Journalia", "system": "Journalia"},
    )
    assert response.status_code == 302
    draft = RoutineVersion.objects.get(routine=Routine.objects.get(key="journalia"))
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url + "?texter")
    fields["email-signature"] = "Hälsningar\nHjälpmedel"
    assert chief.post(url, fields).status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document["messages"]["email"] == {
        "signature": "Hälsningar\nHjälpmedel"
    }

    add_url = reverse("routines:new_scenario", args=[draft.pk])
    fields = form_of(chief.get(reverse("routines:draft", args=[draft.pk])), add_url)
    fields.update(
        {
            "title": "Journalia går inte att nå",
            "key": "journalia_unreachable",
            "routine_text": "Journalia kan inte nås.",
            "role": "kundservice",
            "instruction": "Informera den som ringer.",
        }
    )
    assert chief.post(add_url, fields).status_code == 302
    # Its e-mail to report a disruption has words, but the e-mail's greeting does not yet.
    fields = form_of(chief.get(url), url + "?texter")
    fields.update({"c-email-new_incident-subject": "Störning i {system}", "c-email-new_incident-body": "Anmäld."})
    assert chief.post(url, fields).status_code == 302
    before = RoutineVersion.objects.get(pk=draft.pk)
    fields = form_of(chief.get(url), url)
    response = chief.post(
        url,
        {
            **fields,
            "do": "add",
            "ny-regel-event": "reported",
            "ny-regel-scenarios": ["journalia_unreachable"],
            "ny-regel-sends": "email:new_incident",
            "ny-regel-recipients": ["verksamhetsansvarig"],
            "ny-regel-when": "Störning anmäld",
            "ny-regel-why": "Verksamhetsansvarig får veta.",
        },
    )
    assert response.status_code == 400
    assert "E-post, hälsning: behövs när en regel skickar e-post" in response.content.decode()
    after = RoutineVersion.objects.get(pk=draft.pk)
    assert after.revision == before.revision and after.document == before.document


def test_the_acknowledge_text_is_asked_for_only_while_an_e_mail_rule_carries_the_link(chief, make_user):
    draft = start(chief)
    user = make_user("verksamhetsspecialist")
    document = copy.deepcopy(draft.document)
    del document["messages"]["email"]["ack"]
    with pytest.raises(ActionRefused) as refused:  # escalate_sa sends the link by e-mail
        services.save_draft(user, draft.pk, document, revision=draft.revision)
    assert refused.value.message == "E-post, kvittering: behövs när en e-postregel skickar kvitteringslänken"
    assert RoutineVersion.objects.get(pk=draft.pk).document == draft.document
    for notice in document["notices"]:
        if notice["channel"] == "email":
            notice["ack_link"] = False
    services.save_draft(user, draft.pk, document, revision=draft.revision)
    assert "ack" not in RoutineVersion.objects.get(pk=draft.pk).document["messages"]["email"]


def test_a_rule_whose_event_the_page_does_not_offer_keeps_it_when_the_page_is_saved(chief, make_user):
    draft = start(chief)
    document = copy.deepcopy(draft.document)
    document["notices"][0]["match"] = {"name": "close"}  # from a file: an event the list lacks
    document["notices"][0]["event_kind"] = "transition"
    saved = services.save_draft(make_user("verksamhetsspecialist"), draft.pk, document, revision=draft.revision)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    assert fields["regel-0-event"] == "own"
    fields["regel-0-why"] = "Ändrad motivering."
    assert chief.post(url, {**fields, "do": "save"}).status_code == 302
    first = notices_of(draft)[0]
    assert (first["event_kind"], first["match"], first["why"]) == (
        "transition",
        {"name": "close"},
        "Ändrad motivering.",
    )
    assert notices_of(draft)[1:] == saved.document["notices"][1:]
