"""Keeping the routine on its pages, the parts beyond texts and times: a scenario added or
taken out, which transitions a scenario uses, a step's rarer fields (made only after, done
when the app has delivered, ongoing), and the triage guide's questions and proposals. Each
edit by Verksamhetsspecialist is saved and read back in words; each bad draft is refused at
its place, in Swedish, and changes nothing; the other roles get 403."""

import copy

import pytest
from django.urls import reverse

from incidents import services as incident_services
from routines import loader, services
from routines.models import Routine, RoutineVersion
from runbook.errors import ActionRefused
from tests.test_routine_pages import form_of, start

pytestmark = pytest.mark.django_db

SESAM = "Sesam LMN-server oåtkomlig för samtliga användare"
PHONES = "Störningar i telefonin"


@pytest.fixture
def web(client, make_user):
    def login(role):
        client.force_login(make_user(role))
        return client

    return login


def scenario_url(draft, key):
    return reverse("routines:scenario", args=[draft.pk, key])


def stored(draft):
    return RoutineVersion.objects.get(pk=draft.pk)


def scenario_of(document, key):
    return next(s for s in document["scenarios"] if s["key"] == key)


def draft_page(client, draft):
    return client.get(reverse("routines:draft", args=[draft.pk])).content.decode()


def assert_unchanged(draft):
    kept = stored(draft)
    assert kept.document == draft.document and kept.revision == draft.revision


# --- the transitions a scenario uses ---------------------------------------------------------


def test_a_scenario_starts_using_escalation_and_the_change_is_said_in_words(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "telephony_fault")
    fields = form_of(specialist.get(url), url)
    assert "transitions" not in fields  # none ticked
    response = specialist.post(url, {**fields, "transitions": ["escalate"], "do": "save"})
    assert response.status_code == 302
    assert scenario_of(stored(draft).document, "telephony_fault")["transitions"] == ["escalate"]
    assert f"Scenario ”{PHONES}”: använder nu eskalering till SA" in draft_page(specialist, draft)
    assert form_of(specialist.get(url), url)["transitions"] == ["escalate"]


def test_a_transition_its_steps_need_cannot_be_left_out(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "sesam_unreachable")
    fields = form_of(specialist.get(url), url)
    assert sorted(fields["transitions"]) == ["escalate", "reserve_routine"]
    response = specialist.post(url, {**fields, "transitions": ["reserve_routine"], "do": "save"})
    assert response.status_code == 400
    assert (
        f"{SESAM}, steg 1, görs av: scenariot använder inte eskalering till SA: steget skulle aldrig bli gjort"
        in response.content.decode()
    )
    assert_unchanged(draft)


def test_a_step_done_by_a_transition_the_scenario_does_not_use_is_refused(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "telephony_fault")
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "steg-0-done_by": "escalate", "do": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f"{PHONES}, steg 1, görs av: scenariot använder inte eskalering till SA" in page
    assert_unchanged(draft)
    # Due when the reserve routine applies, in a scenario without one: never a task.
    response = specialist.post(url, {**fields, "steg-0-due_on": "reserve_routine", "do": "save"})
    assert response.status_code == 400
    assert f"{PHONES}, steg 1, när: scenariot använder inte reservrutinen" in response.content.decode()
    assert_unchanged(draft)


# --- a step's rarer fields -------------------------------------------------------------------


def test_a_steps_only_after_delivery_and_ongoing_are_edited_and_said(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "sesam_unreachable")
    fields = form_of(specialist.get(url), url)
    # Step 8 is done when the notice on Vårdgivare Skåne is delivered; step 3 is ongoing.
    assert fields["steg-7-delivered_channel"] == "vardgivare_skane"
    assert fields["steg-7-delivered_actions"] == ["publish"]
    assert fields["steg-2-ongoing"] == ["on"]
    fields["steg-3-only_after"] = "acknowledged"
    fields["steg-7-delivered_channel"] = "driftinfo"
    fields["steg-7-delivered_actions"] = ["publish", "update"]
    del fields["steg-2-ongoing"]
    assert specialist.post(url, {**fields, "do": "save"}).status_code == 302

    steps = scenario_of(stored(draft).document, "sesam_unreachable")["steps"]
    assert steps[3]["only_after"] == "acknowledged"
    assert steps[7]["delivered_by"] == {"channel": "driftinfo", "actions": ["publish", "update"]}
    assert steps[2]["ongoing"] is False
    page = draft_page(specialist, draft)
    assert f"Steg 4 i {SESAM}: görs: alltid → bara om sa kvitterat" in page
    assert (
        f"Steg 8 i {SESAM}: klar när appen levererat: Vårdgivare Skåne: publicera → "
        "Driftinfo (regionala IT-funktionen): publicera, uppdatera" in page
    )
    assert f"Steg 3 i {SESAM}: pågår inte längre så länge störningen pågår" in page


def test_a_delivery_the_channel_cannot_take_is_refused(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "sesam_unreachable")
    fields = form_of(specialist.get(url), url)
    response = specialist.post(
        url, {**fields, "steg-7-delivered_actions": ["on"], "do": "save"}
    )  # a lavinmeddelande word on Vårdgivare Skåne
    assert response.status_code == 400
    assert f"{SESAM}, steg 8, klar när appen levererat, åtgärd: kanalen tar emot publish, withdraw" in (
        response.content.decode()
    )
    response = specialist.post(url, {**fields, "steg-7-delivered_actions": [], "do": "save"})
    assert response.status_code == 400
    assert "klar när appen levererat, åtgärd: minst en åtgärd behövs" in response.content.decode()
    assert_unchanged(draft)


def test_made_only_after_a_state_the_scenario_never_reaches_is_refused(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "telephony_fault")
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "steg-0-only_after": "awaiting_it", "do": "save"})
    assert response.status_code == 400
    assert f"{PHONES}, steg 1, bara efter: scenariot använder inte att avvakta IT" in response.content.decode()
    assert_unchanged(draft)


# --- scenarios added and taken out ------------------------------------------------------------


def add_scenario(client, draft, **typed):
    url = reverse("routines:draft", args=[draft.pk])
    fields = form_of(client.get(url), reverse("routines:new_scenario", args=[draft.pk]))
    return client.post(reverse("routines:new_scenario", args=[draft.pk]), {**fields, **typed})


def test_a_scenario_is_added_with_its_first_step_and_said_in_words(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    response = add_scenario(
        specialist,
        draft,
        title="Journalia går inte att nå",
        routine_text="Journalia svarar inte för någon.",
        role="kundservice",
        instruction="Informera förskrivare som ringer.",
    )
    assert response.status_code == 302
    added = stored(draft).document["scenarios"][-1]
    assert added["key"] == "journalia_gar_inte_att_na"
    assert response["Location"] == scenario_url(draft, added["key"])
    assert added["steps"][0]["role"] == "kundservice" and added["steps"][0]["due_on"] == "reported"
    assert "Nytt scenario ”Journalia går inte att nå”" in draft_page(specialist, draft)
    assert specialist.get(scenario_url(draft, added["key"])).status_code == 200


@pytest.mark.parametrize(
    "typed, message",
    [
        ({"title": " ", "role": "kundservice", "instruction": "Ring"}, "Scenario 5, rubrik: en text behövs"),
        ({"title": "Nytt", "role": "", "instruction": "Ring"}, "Nytt, steg 1, roll: en roll behövs"),
        ({"title": "Nytt", "role": "kundservice", "instruction": ""}, "Nytt, steg 1, text: en text behövs"),
        (
            {"title": "Nytt", "key": "telephony_fault", "role": "kundservice", "instruction": "Ring"},
            "Nytt, nyckel: telephony_fault finns redan",
        ),
        (
            {"title": "Nytt", "key": "med mellanslag", "role": "kundservice", "instruction": "Ring"},
            "Nytt, nyckel: ett namn av högst 40 tecken (a–z, 0–9, _ och -) behövs",
        ),
    ],
)
def test_a_bad_new_scenario_is_refused_and_changes_nothing(web, typed, message):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    response = add_scenario(specialist, draft, routine_text="Text.", **typed)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_unchanged(draft)


def remove(client, draft, key):
    url = scenario_url(draft, key)
    action = reverse("routines:remove_scenario", args=[draft.pk, key])
    return client.post(action, form_of(client.get(url), action))


def test_a_scenario_still_named_by_the_triage_guide_or_a_notice_is_not_removed_and_says_which(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    response = remove(specialist, draft, "telephony_fault")
    assert response.status_code == 400
    assert (
        f"Scenariot ”{PHONES}” kan inte tas bort: Triageguiden, förslag 4, scenario: "
        "inget scenario heter telephony_fault" in response.content.decode()
    )
    assert_unchanged(draft)

    # Without its triage proposal, the notices that name it are what stops it.
    document = copy.deepcopy(draft.document)
    document["triage"]["proposals"] = document["triage"]["proposals"][:3]
    draft = services.save_draft(specialist_user(draft), draft.pk, document, revision=draft.revision)
    response = remove(specialist, draft, "telephony_fault")
    assert response.status_code == 400
    assert (
        f"Scenariot ”{PHONES}” kan inte tas bort: Meddelanderegel 1, scenarier: inget scenario heter telephony_fault"
        in response.content.decode()
    )
    assert_unchanged(draft)


def specialist_user(draft):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name="verksamhetsspecialist").first()


def test_a_scenario_nothing_names_is_removed_and_said_in_words(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    add_scenario(specialist, draft, title="Tillfälligt", routine_text="T.", role="kundservice", instruction="Ring.")
    draft = stored(draft)
    key = draft.document["scenarios"][-1]["key"]
    response = remove(specialist, draft, key)
    assert response.status_code == 302
    assert [s["key"] for s in stored(draft).document["scenarios"]] == [
        "full_it_outage",
        "sesam_unreachable",
        "kundservice_link_loss",
        "telephony_fault",
    ]
    assert "Inga skillnader mot versionen som gäller." in draft_page(specialist, draft)


def test_a_scenario_taken_out_and_published_leaves_incidents_pinned_to_it_as_they_were(ks, vs, va):
    incident = incident_services.open_incident(ks, scenario="telephony_fault", summary="Telefonerna tyst")
    tasks = sorted(incident.tasks.values_list("step_key", flat=True))
    draft = services.start_draft(vs, Routine.objects.get(key=loader.DEFAULT_ROUTINE))
    document = copy.deepcopy(draft.document)
    document["scenarios"] = [s for s in document["scenarios"] if s["key"] != "telephony_fault"]
    document["triage"]["proposals"] = [p for p in document["triage"]["proposals"] if p["scenario"] != "telephony_fault"]
    for notice in document["notices"]:
        notice["scenarios"] = [k for k in notice["scenarios"] if k != "telephony_fault"]
    document["notices"] = [n for n in document["notices"] if n["scenarios"]]
    draft = services.save_draft(vs, draft.pk, document, revision=draft.revision)
    services.publish(va, draft.pk, "Telefonin har en egen rutin", revision=draft.revision)

    assert "telephony_fault" not in loader.in_force().scenarios
    with pytest.raises(ActionRefused):
        incident_services.open_incident(ks, scenario="telephony_fault", summary="Igen")
    incident.refresh_from_db()
    assert incident.scenario_def.title == PHONES  # its own version still has it
    assert sorted(incident.tasks.values_list("step_key", flat=True)) == tasks
    incident_services.resolve(va, incident.pk)
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_publishing_a_routine_without_a_scenario_is_refused(va):
    draft = services.new_routine(va, key="tom", name="Tom rutin", system="Inget")
    with pytest.raises(ActionRefused) as refused:
        services.publish(va, draft.pk, "Prov", revision=draft.revision)
    assert refused.value.message == "Scenarier: rutinen behöver minst ett scenario"
    assert not RoutineVersion.objects.filter(routine__key="tom", status="published").exists()


# --- the triage guide ------------------------------------------------------------------------


def triage_url(draft):
    return reverse("routines:triage", args=[draft.pk])


def test_triage_questions_and_proposals_are_added_edited_moved_and_said(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = triage_url(draft)
    fields = form_of(specialist.get(url), url)
    assert fields["fraga-0-text"] == "Kan Kundservice nå Sesam LMN?"
    assert (fields["forslag-0-question"], fields["forslag-0-answer"], fields["forslag-0-scenario"]) == (
        "rest_of_it_up",
        "nej",
        "full_it_outage",
    )
    response = specialist.post(url, {**fields, "ny-fraga-text": "Fungerar e-posten?", "do": "q-add"})
    assert response.status_code == 302
    fields = form_of(specialist.get(url), url)
    assert fields["fraga-4-text"] == "Fungerar e-posten?"
    fields.update(
        {
            "nytt-forslag-question": "fungerar_e_posten",
            "nytt-forslag-answer": "nej",
            "nytt-forslag-scenario": "telephony_fault",
        }
    )
    assert specialist.post(url, {**fields, "do": "p-add"}).status_code == 302
    fields = form_of(specialist.get(url), url)
    fields["fraga-3-text"] = "Fungerar telefonerna hos Kundservice?"
    assert specialist.post(url, {**fields, "do": "p-up-1"}).status_code == 302

    triage = stored(draft).document["triage"]
    assert triage["questions"][4] == {"key": "fungerar_e_posten", "text": "Fungerar e-posten?"}
    assert triage["proposals"][4] == {"question": "fungerar_e_posten", "answer": False, "scenario": "telephony_fault"}
    assert [p["scenario"] for p in triage["proposals"][:2]] == ["sesam_unreachable", "full_it_outage"]
    page = draft_page(specialist, draft)
    assert "Triage: fråga ”Fungerar e-posten?” tillagd" in page
    assert "Triage: fråga ”Fungerar telefonerna?” → ”Fungerar telefonerna hos Kundservice?”" in page
    assert f"Triage: svaret nej på ”Fungerar e-posten?” föreslår ”{PHONES}”" in page
    assert "Triage: förslagen har ny ordning (det första som stämmer gäller)" in page
    # The report form proposes from the draft only once it is published; the version in
    # force still asks its four questions.
    assert len(loader.in_force().triage_questions) == 4


def test_a_question_a_proposal_names_cannot_be_removed_and_the_page_says_which(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = triage_url(draft)
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "do": "q-remove-3"})
    assert response.status_code == 400
    assert "Triageguiden, förslag 4, fråga: ingen fråga heter phones_work" in response.content.decode()
    assert_unchanged(draft)
    # Without its proposal, the question goes.
    assert specialist.post(url, {**fields, "do": "p-remove-3"}).status_code == 302
    fields = form_of(specialist.get(url), url)
    assert specialist.post(url, {**fields, "do": "q-remove-3"}).status_code == 302
    page = draft_page(specialist, stored(draft))
    assert "Triage: fråga ”Fungerar telefonerna?” borttagen" in page
    assert f"Triage: svaret nej på ”Fungerar telefonerna?” föreslår inte längre ”{PHONES}”" in page


@pytest.mark.parametrize(
    "change, message",
    [
        ({"fraga-1-text": " "}, "Triageguiden, fråga 2, text: en text behövs"),
        (
            {"ny-fraga-text": "Igen?", "ny-fraga-key": "phones_work", "do": "q-add"},
            "Triageguiden, fråga 5, nyckel: phones_work finns redan",
        ),
        (
            {
                "nytt-forslag-question": "phones_work",
                "nytt-forslag-answer": "ja",
                "nytt-forslag-scenario": "",
                "do": "p-add",
            },
            "Triageguiden, förslag 5, scenario: inget scenario heter ",
        ),
    ],
)
def test_a_bad_triage_guide_is_refused_at_its_place_and_changes_nothing(web, change, message):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = triage_url(draft)
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "do": "save", **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert_unchanged(draft)


def test_a_stale_triage_form_is_refused_and_shows_the_other_persons_change(make_user):
    from django.test import Client

    specialist, chief = Client(), Client()
    specialist.force_login(make_user("verksamhetsspecialist"))
    chief.force_login(make_user("verksamhetsansvarig"))
    draft = start(specialist)
    url = triage_url(draft)
    mine, theirs = form_of(specialist.get(url), url), form_of(chief.get(url), url)
    assert chief.post(url, {**theirs, "fraga-0-text": "Når Kundservice Sesam LMN?", "do": "save"}).status_code == 302
    response = specialist.post(url, {**mine, "do": "q-remove-0"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Triage: fråga ”Kan Kundservice nå Sesam LMN?” → ”Når Kundservice Sesam LMN?”" in page
    assert stored(draft).document["triage"]["questions"][0]["text"] == "Når Kundservice Sesam LMN?"


# --- a new routine ---------------------------------------------------------------------------


def test_verksamhetsansvarig_adds_a_routine_for_another_system_as_an_empty_draft(web):
    chief = web("verksamhetsansvarig")
    versions = chief.get(reverse("routines:versions")).content.decode()
    url = reverse("routines:new_routine")
    assert url in versions
    response = chief.post(url, {"key": "journalia", "name": "Driftstörningsrutin Journalia", "system": "Journalia"})
    assert response.status_code == 302
    draft = RoutineVersion.objects.get(routine__key="journalia")
    assert response["Location"] == reverse("routines:draft", args=[draft.pk])
    assert draft.status == "draft" and draft.number == 1 and draft.document["scenarios"] == []
    page = draft_page(chief, draft)
    assert "Inga scenarier ännu. En rutin behöver minst ett för att publiceras." in page

    again = chief.post(url, {"key": "journalia", "name": "En till", "system": "Journalia"})
    assert again.status_code == 409 and "Det finns redan en rutin med den nyckeln." in again.content.decode()
    bad = chief.post(url, {"key": "med mellanslag", "name": "X", "system": "Y"})
    assert bad.status_code == 400
    assert "Rutinens nyckel får bara ha a–z, 0–9, - och _ (högst 60 tecken)." in bad.content.decode()
    nameless = chief.post(url, {"key": "x", "name": " ", "system": "Y"})
    assert nameless.status_code == 400 and "Rutinens namn behövs." in nameless.content.decode()
    assert Routine.objects.count() == 2


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["kundservice", "systemansvarig"])
def test_other_roles_get_403_on_every_new_page(web, make_user, role):
    from django.test import Client

    keeper = Client()
    keeper.force_login(make_user("verksamhetsspecialist"))
    draft = start(keeper)
    other = web(role)
    assert other.get(triage_url(draft)).status_code == 403
    assert other.post(triage_url(draft), {"questions": "0", "proposals": "0"}).status_code == 403
    assert other.post(reverse("routines:new_scenario", args=[draft.pk]), {"title": "X"}).status_code == 403
    assert other.post(reverse("routines:remove_scenario", args=[draft.pk, "telephony_fault"]), {}).status_code == 403
    assert other.post(reverse("routines:move_scenario", args=[draft.pk]), {"do": "up-1"}).status_code == 403
    assert other.get(reverse("routines:new_routine")).status_code == 403
    assert other.post(reverse("routines:new_routine"), {"key": "x", "name": "X", "system": "X"}).status_code == 403
    assert_unchanged(draft)
    assert Routine.objects.count() == 1


def test_the_specialist_keeps_drafts_but_does_not_add_routines(web):
    specialist = web("verksamhetsspecialist")
    assert reverse("routines:new_routine") not in specialist.get(reverse("routines:versions")).content.decode()
    assert specialist.get(reverse("routines:new_routine")).status_code == 403
    with pytest.raises(ActionRefused):
        services.new_routine(specialist_user(None), key="x", name="X", system="X")


def test_in_english_the_new_parts_and_their_refusals_are_english(web):
    specialist = web("verksamhetsspecialist")
    specialist.post(reverse("set_language"), {"language": "en", "next": "/"})
    draft = start(specialist)
    url = scenario_url(draft, "telephony_fault")
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "steg-0-done_by": "escalate", "do": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "step 1, done by: the scenario does not use escalation to SA: the step would never be done" in page
    assert "More about the step" in page and "The scenario uses" in page
    assert specialist.post(url, {**fields, "transitions": ["escalate"], "do": "save"}).status_code == 302
    assert ": now uses escalation to SA" in draft_page(specialist, draft)
    triage = specialist.get(triage_url(draft)).content.decode()
    assert "Save the triage guide" in triage and "New question" in triage


def test_the_schema_takes_what_the_editor_now_writes_and_load_agrees(web):
    import json
    from pathlib import Path

    import jsonschema_rs

    from routines import document as routine_document

    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "sesam_unreachable")
    fields = form_of(specialist.get(url), url)
    fields.update({"steg-3-only_after": "acknowledged", "steg-7-delivered_actions": ["publish", "withdraw"]})
    assert specialist.post(url, {**fields, "do": "save"}).status_code == 302
    written = stored(draft).document
    as_file = {"routine": {"key": "sesam-lmn", "name": "Driftstörningsrutin Sesam LMN", "system": "Sesam LMN"}}
    schema = json.loads((Path(routine_document.__file__).parent / "schema/routine-1.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid({**as_file, **written})
    routine_document.load(written)
    scenario_of(written, "sesam_unreachable")["steps"][7]["delivered_by"]["actions"] = []
    assert not validator.is_valid({**as_file, **written})
    with pytest.raises(routine_document.DocumentError):
        routine_document.load(written)


@pytest.mark.parametrize(
    "posted",
    [
        {},
        {"questions": "99999", "proposals": "-1", "do": "q-up-x"},
        {"questions": "3", "proposals": "2", "do": "p-remove-999"},
        {"questions": "1", "fraga-0-key": "x" * 5000, "fraga-0-text": "y" * 5000, "do": "save"},
        {"proposals": "1", "forslag-0-question": "finns_inte", "forslag-0-answer": "kanske", "do": "p-add"},
        {"revision": "abc", "base": "{not json", "do": "q-add", "ny-fraga-key": "a" * 300},
    ],
)
def test_odd_posts_to_the_triage_page_are_refused_without_a_change_or_a_crash(web, posted):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    response = specialist.post(triage_url(draft), {"revision": str(draft.revision), **posted})
    assert response.status_code in (400, 409)
    assert_unchanged(draft)


@pytest.mark.parametrize(
    "posted",
    [
        {},
        {"title": "x" * 600, "role": "kundservice", "instruction": "Ring"},
        {"title": "Ok", "key": "k" * 41, "role": "kundservice", "instruction": "Ring"},
        {"title": "Ok", "role": "ingen", "instruction": "Ring"},
        {"title": "Ok", "role": "kundservice", "instruction": "Ring", "revision": "0"},
    ],
)
def test_odd_new_scenarios_are_refused_without_a_change_or_a_crash(web, posted):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    response = specialist.post(
        reverse("routines:new_scenario", args=[draft.pk]), {"revision": str(draft.revision), **posted}
    )
    assert response.status_code in (400, 409)
    assert_unchanged(draft)


def test_a_removal_sent_from_an_old_page_is_refused_as_stale(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    add_scenario(specialist, draft, title="Tillfälligt", routine_text="T.", role="kundservice", instruction="Ring.")
    stale = {"revision": str(draft.revision)}
    key = stored(draft).document["scenarios"][-1]["key"]
    response = specialist.post(reverse("routines:remove_scenario", args=[draft.pk, key]), stale)
    assert response.status_code == 409
    assert "Utkastet har ändrats av någon annan sedan du öppnade det" in response.content.decode()
    assert stored(draft).document["scenarios"][-1]["key"] == key


def test_a_delivery_the_page_does_not_offer_is_kept_when_the_scenario_is_saved(web, make_user):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    document = copy.deepcopy(draft.document)
    by_mail = {"channel": "email", "actions": ["new_incident"]}
    scenario_of(document, "telephony_fault")["steps"][0]["delivered_by"] = by_mail
    draft = services.save_draft(make_user("verksamhetsansvarig"), draft.pk, document, revision=draft.revision)
    url = scenario_url(draft, "telephony_fault")
    fields = form_of(specialist.get(url), url)
    assert fields["steg-0-delivered_channel"] == "email" and fields["steg-0-delivered_actions"] == ["new_incident"]
    fields["steg-1-within"] = "20"
    assert specialist.post(url, {**fields, "do": "save"}).status_code == 302
    steps = scenario_of(stored(draft).document, "telephony_fault")["steps"]
    assert steps[0]["delivered_by"] == by_mail and steps[1]["within"] == 1200


def test_scenarios_are_moved_and_the_new_order_is_said(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = reverse("routines:move_scenario", args=[draft.pk])
    fields = form_of(specialist.get(reverse("routines:draft", args=[draft.pk])), url)
    assert specialist.post(url, {**fields, "do": "up-3"}).status_code == 302
    assert [s["key"] for s in stored(draft).document["scenarios"]] == [
        "full_it_outage",
        "sesam_unreachable",
        "telephony_fault",
        "kundservice_link_loss",
    ]
    assert "Scenarierna har ny ordning" in draft_page(specialist, draft)
    response = specialist.post(url, {**fields, "do": "down-0"})  # the page read before the move
    assert response.status_code == 409
    assert stored(draft).document["scenarios"][0]["key"] == "full_it_outage"


@pytest.mark.parametrize(
    "spoil, message",
    [
        (
            lambda d: d["notices"][1].update(key=d["notices"][0]["key"]),
            "Meddelanderegel 2, nyckel: reported_alert_roles finns redan",
        ),
        (
            lambda d: scenario_of(d, "telephony_fault")["steps"][1].update(key="lavin_on"),
            f"{PHONES}, steg 2, nyckel: lavin_on finns redan",
        ),
        (
            lambda d: d["triage"]["questions"][1].update(key="kundservice_reaches_sesam"),
            "Triageguiden, fråga 2, nyckel: ",
        ),
    ],
)
def test_a_duplicated_key_is_refused_at_its_place(make_user, spoil, message):
    specialist = make_user("verksamhetsspecialist")
    draft = services.start_draft(specialist, Routine.objects.get(key=loader.DEFAULT_ROUTINE))
    bad = copy.deepcopy(draft.document)
    spoil(bad)
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, bad, revision=draft.revision)
    assert refused.value.code == "invalid" and refused.value.message.startswith(message)
    assert_unchanged(draft)
