"""Keeping the routine on its pages: the specialists edit one draft, see its difference from
the version in force in words, a stale form is refused with the other person's change shown,
a bad draft is refused at its place and changes nothing, and only Verksamhetsansvarig
publishes, with a reason, after which the new version is in force."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from routines import loader
from routines.models import Routine, RoutineVersion

pytestmark = pytest.mark.django_db

SESAM = "Sesam LMN-server oåtkomlig för samtliga användare"
STALE = "Utkastet har ändrats av någon annan sedan du öppnade det: läs in det igen."


class FormFields(HTMLParser):
    """What a browser would post from the page's form whose action is ``action``."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}
        self.textarea = self.select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action and a.get("method") == "post"
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit",):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields.setdefault(a["name"], []).append(a.get("value", "on"))
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[self.textarea] = ""
        elif tag == "select":
            self.select = a["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data.removeprefix("\n") if not self.fields[self.textarea] else data


def form_of(response, action):
    parser = FormFields(action)
    parser.feed(response.content.decode())
    assert parser.fields, f"no form posting to {action}"
    return parser.fields


@pytest.fixture
def web(client, make_user):
    def login(role):
        client.force_login(make_user(role))
        return client

    return login


def start(web_client):
    routine = Routine.objects.get(key=loader.DEFAULT_ROUTINE)
    response = web_client.post(reverse("routines:start_draft", args=[routine.key]))
    assert response.status_code == 302
    return RoutineVersion.objects.get(routine=routine, status="draft")


def scenario_url(draft, key="sesam_unreachable"):
    return reverse("routines:scenario", args=[draft.pk, key])


def test_a_specialist_edits_a_step_and_sees_the_change_in_words(web):
    specialist = web("verksamhetsspecialist")
    page = specialist.get(reverse("routines:routine")).content.decode()
    assert reverse("routines:versions") in page  # Rutinen leads to the versions
    draft = start(specialist)
    assert start(specialist).pk == draft.pk  # one draft: the same one opens again

    url = scenario_url(draft)
    fields = form_of(specialist.get(url), url)
    assert fields["steg-0-within"] == "5" and fields["steg-0-role"] == "verksamhetsspecialist"
    fields["steg-0-within"] = "10"
    fields["reserve"] += "\nRing tillbaka om en timme."
    response = specialist.post(url, {**fields, "do": "save"})
    assert response.status_code == 302

    draft_page = specialist.get(reverse("routines:draft", args=[draft.pk])).content.decode()
    assert f"Steg 1 i {SESAM}: tidsgräns 5 min → 10 min" in draft_page
    assert "Ny replik i " in draft_page and "Ring tillbaka om en timme." in draft_page
    assert reverse("routines:publish", args=[draft.pk]) not in draft_page  # not the specialist's to do
    assert loader.in_force().number == 1


def test_durations_are_typed_in_minutes_and_kept_in_seconds(web):
    chief = web("verksamhetsansvarig")
    draft = start(chief)
    url = reverse("routines:draft", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    assert fields["reserve_routine_after"] == "240"
    assert fields["label"] == "2024-1"
    response = chief.post(url, {**fields, "reserve_routine_after": "180", "label": "2025-1"})
    assert response.status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document["label"] == "2025-1"
    assert "Versionens namn: 2024-1 → 2025-1" in chief.get(url).content.decode()
    assert RoutineVersion.objects.get(pk=draft.pk).document["durations"]["reserve_routine_after"] == 3 * 3600
    assert "Reservrutin utan prognos efter: 4 tim → 3 tim" in chief.get(url).content.decode()

    for bad in ("0", "-5"):
        fields = form_of(chief.get(url), url)
        response = chief.post(url, {**fields, "ack_timeout": bad})
        assert response.status_code == 400
        assert "Tid att kvittera eskaleringen: en tid över noll behövs" in response.content.decode()
    assert RoutineVersion.objects.get(pk=draft.pk).document["durations"]["ack_timeout"] == 900


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("steg-2-role", "", f"{SESAM}, steg 3, roll: en roll behövs"),
        ("steg-2-instruction", "  ", f"{SESAM}, steg 3, text: en text behövs"),
        ("steg-2-within", "0", f"{SESAM}, steg 3, tidsgräns: en tid över noll behövs"),
    ],
)
def test_a_bad_step_is_refused_at_its_place_and_what_was_typed_is_kept(web, field, value, message):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft)
    fields = form_of(specialist.get(url), url)
    fields["steg-0-instruction"] = "Ring SA direkt."
    response = specialist.post(url, {**fields, field: value, "do": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Ring SA direkt." in page
    kept = RoutineVersion.objects.get(pk=draft.pk)
    assert kept.document == draft.document and kept.revision == draft.revision


def test_removing_the_last_step_is_refused_a_scenario_needs_a_way_to_end(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "full_it_outage")
    fields = form_of(specialist.get(url), url)
    assert specialist.post(url, {**fields, "do": "remove-1"}).status_code == 302
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "do": "remove-0"})
    assert response.status_code == 400
    assert "ett scenario behöver minst ett steg" in response.content.decode()


def test_steps_are_added_and_moved(web):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = scenario_url(draft, "full_it_outage")
    fields = form_of(specialist.get(url), url)
    fields.update({"nytt-instruction": "Ring leverantören.", "nytt-role": "kundservice", "nytt-within": "30"})
    assert specialist.post(url, {**fields, "do": "add"}).status_code == 302
    fields = form_of(specialist.get(url), url)
    assert specialist.post(url, {**fields, "do": "up-2"}).status_code == 302
    steps = next(
        s for s in RoutineVersion.objects.get(pk=draft.pk).document["scenarios"] if s["key"] == "full_it_outage"
    )["steps"]
    assert [s["instruction"] for s in steps][1] == "Ring leverantören."
    assert steps[1]["within"] == 1800 and steps[1]["role"] == "kundservice"
    page = specialist.get(reverse("routines:draft", args=[draft.pk])).content.decode()
    assert "Nytt steg 2 i Fullskaligt IT-haveri i Region Skåne: Kundservice, ”Ring leverantören.”" in page


def test_a_stale_form_is_refused_and_shows_the_other_persons_change(client, make_user):
    from django.test import Client

    specialist, chief = Client(), Client()
    specialist.force_login(make_user("verksamhetsspecialist"))
    chief.force_login(make_user("verksamhetsansvarig"))
    draft = start(specialist)
    url = scenario_url(draft)
    mine, theirs = form_of(specialist.get(url), url), form_of(chief.get(url), url)

    theirs["steg-0-within"] = "10"
    assert chief.post(url, {**theirs, "do": "save"}).status_code == 302
    mine["steg-0-within"] = "2"
    response = specialist.post(url, {**mine, "do": "save"})
    assert response.status_code == 409
    page = response.content.decode()
    assert STALE in page
    assert f"Steg 1 i {SESAM}: tidsgräns 5 min → 10 min" in page  # theirs
    assert f"Steg 1 i {SESAM}: tidsgräns 10 min → 2 min" in page  # mine, not saved
    steps = next(
        s for s in RoutineVersion.objects.get(pk=draft.pk).document["scenarios"] if s["key"] == "sesam_unreachable"
    )["steps"]
    assert steps[0]["within"] == 600
    assert form_of(response, url)["steg-0-within"] == "10"  # the page now shows the draft as it is


def test_notices_are_edited_and_an_empty_text_is_refused(web):
    chief = web("verksamhetsansvarig")
    draft = start(chief)
    url = reverse("routines:notices", args=[draft.pk])
    fields = form_of(chief.get(url), url)
    assert sorted(fields["regel-0-recipients"]) == ["verksamhetsansvarig", "verksamhetsspecialist"]
    assert chief.post(url, fields).status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document == draft.document  # saved as it was
    fields = form_of(chief.get(url), url)
    response = chief.post(url, {**fields, "regel-0-why": ""})
    assert response.status_code == 400
    assert "Meddelanderegel 1, varför (text): en text behövs" in response.content.decode()
    response = chief.post(url, {**fields, "regel-0-recipients": ["verksamhetsansvarig"]})
    assert response.status_code == 302
    assert RoutineVersion.objects.get(pk=draft.pk).document["notices"][0]["recipients"] == ["verksamhetsansvarig"]


def test_only_verksamhetsansvarig_publishes_with_a_reason_after_seeing_the_changes(web, client, make_user):
    specialist = web("verksamhetsspecialist")
    draft = start(specialist)
    url = reverse("routines:draft", args=[draft.pk])
    fields = form_of(specialist.get(url), url)
    specialist.post(url, {**fields, "reserve_routine_after": "180"})
    publish_url = reverse("routines:publish", args=[draft.pk])
    assert specialist.get(publish_url).status_code == 403
    assert specialist.post(publish_url, {"reason": "Tre timmar", "revision": "2"}).status_code == 403

    client.force_login(make_user("verksamhetsansvarig"))
    page = client.get(url).content.decode()
    assert publish_url in page
    confirm = client.get(publish_url)
    assert "Reservrutin utan prognos efter: 4 tim → 3 tim" in confirm.content.decode()
    fields = form_of(confirm, publish_url)
    response = client.post(publish_url, {**fields, "reason": "  "})
    assert response.status_code == 400 and "Skriv kort varför rutinen ändras." in response.content.decode()
    response = client.post(publish_url, {**fields, "reason": "x" * 501})
    assert response.status_code == 400 and "Skälet får vara högst 500 tecken." in response.content.decode()
    assert loader.in_force().number == 1

    response = client.post(publish_url, {**fields, "reason": "Reservrutinen efter tre timmar"}, follow=True)
    page = response.content.decode()
    assert "Version 2 är publicerad och är nu den version som gäller." in page
    assert "Reservrutinen efter tre timmar" in page
    assert loader.in_force().number == 2
    assert loader.in_force().duration("reserve_routine_after").total_seconds() == 3 * 3600
    assert client.get(url).status_code == 404  # a published version is no draft to edit


@pytest.mark.parametrize("role", ["kundservice", "systemansvarig", "telefoniansvarig"])
def test_other_roles_may_not_keep_the_routine(web, make_user, client, role):
    from django.test import Client

    keeper = Client()
    keeper.force_login(make_user("verksamhetsspecialist"))
    draft = start(keeper)
    other = web(role)
    versions_page = other.get(reverse("routines:versions")).content.decode()
    assert reverse("routines:start_draft", args=[draft.routine.key]) not in versions_page
    assert reverse("routines:draft", args=[draft.pk]) not in versions_page
    routine = draft.routine
    assert other.post(reverse("routines:start_draft", args=[routine.key])).status_code == 403
    for name in ("draft", "notices", "publish"):
        assert other.get(reverse(f"routines:{name}", args=[draft.pk])).status_code == 403
    assert other.post(reverse("routines:draft", args=[draft.pk]), {"reserve_routine_after": "1"}).status_code == 403
    assert other.get(scenario_url(draft)).status_code == 403


def test_forms_need_the_csrf_token(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("verksamhetsansvarig"))
    routine = Routine.objects.get(key=loader.DEFAULT_ROUTINE)
    assert strict.post(reverse("routines:start_draft", args=[routine.key])).status_code == 403
    assert not RoutineVersion.objects.filter(status="draft").exists()


def test_in_english_the_draft_and_its_refusals_are_english(web):
    specialist = web("verksamhetsspecialist")
    specialist.post(reverse("set_language"), {"language": "en", "next": "/"})
    draft = start(specialist)
    url = scenario_url(draft)
    fields = form_of(specialist.get(url), url)
    response = specialist.post(url, {**fields, "steg-2-role": "", "do": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Sesam LMN server unreachable for all users, step 3, role: a role is needed" in page
    assert "Save the scenario" in page
    assert "Draft of version 2 of" in specialist.get(reverse("routines:draft", args=[draft.pk])).content.decode()


def test_publishing_what_changed_after_the_confirmation_was_read_is_refused(make_user):
    from django.test import Client

    specialist, chief = Client(), Client()
    specialist.force_login(make_user("verksamhetsspecialist"))
    chief.force_login(make_user("verksamhetsansvarig"))
    draft = start(specialist)
    publish_url = reverse("routines:publish", args=[draft.pk])
    seen = form_of(chief.get(publish_url), publish_url)

    url = reverse("routines:draft", args=[draft.pk])
    fields = form_of(specialist.get(url), url)
    assert specialist.post(url, {**fields, "ack_timeout": "30"}).status_code == 302

    response = chief.post(publish_url, {**seen, "reason": "Inget ändrat"})
    assert response.status_code == 409
    page = response.content.decode()
    assert STALE in page
    assert "Tid att kvittera eskaleringen: 15 min → 30 min" in page  # what would be published now
    assert loader.in_force().number == 1
