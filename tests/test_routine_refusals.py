"""A bad draft is refused by the service with a message naming the place in words, and
changes nothing; so is an edit on an old revision, publishing by anyone but
Verksamhetsansvarig, and publishing without a reason."""

import copy

import pytest

from routines import loader, services
from routines.models import Routine, RoutineVersion
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db

SESAM = "Sesam LMN-server oåtkomlig för samtliga användare"


@pytest.fixture
def specialist(make_user):
    return make_user("verksamhetsspecialist")


@pytest.fixture
def chief(make_user):
    return make_user("verksamhetsansvarig")


@pytest.fixture
def draft(specialist):
    return services.start_draft(specialist, Routine.objects.get(key=loader.DEFAULT_ROUTINE))


def sesam_steps(document):
    return next(s for s in document["scenarios"] if s["key"] == "sesam_unreachable")["steps"]


def step_without_role(d):
    sesam_steps(d)[2]["role"] = ""


def step_with_empty_text(d):
    sesam_steps(d)[2]["instruction"] = "   "


def step_limit_of_zero(d):
    sesam_steps(d)[2]["within"] = 0


def routine_duration_of_zero(d):
    d["durations"]["ack_timeout"] = 0


def notice_with_empty_text(d):
    d["notices"][0]["why"] = ""


def scenario_without_steps(d):
    next(s for s in d["scenarios"] if s["key"] == "telephony_fault")["steps"] = []


def step_that_can_never_be_done(d):
    # Escalating is done before service is restored: a step due then could never be
    # ticked, and the incident could never be closed.
    sesam_steps(d)[0]["due_on"] = "resolved"


@pytest.mark.parametrize(
    "spoil, message",
    [
        (step_without_role, f"{SESAM}, steg 3, roll: en roll behövs"),
        (step_with_empty_text, f"{SESAM}, steg 3, text: en text behövs"),
        (step_limit_of_zero, f"{SESAM}, steg 3, tidsgräns: en tid över noll behövs"),
        (routine_duration_of_zero, "Tid att kvittera eskaleringen: en tid över noll behövs"),
        (notice_with_empty_text, "Meddelanderegel 1, varför (text): en text behövs"),
        (scenario_without_steps, "Störningar i telefonin, steg: ett scenario behöver minst ett steg"),
        (
            step_that_can_never_be_done,
            f"{SESAM}, steg 1, görs av: åtgärden kan inte ske när steget blir en uppgift: "
            "störningen skulle aldrig kunna avslutas",
        ),
    ],
)
def test_a_bad_draft_is_refused_naming_the_place_and_changes_nothing(specialist, draft, spoil, message):
    bad = copy.deepcopy(draft.document)
    spoil(bad)
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, bad, revision=draft.revision)
    assert refused.value.code == "invalid"
    assert refused.value.message == message
    kept = RoutineVersion.objects.get(pk=draft.pk)
    assert kept.document == draft.document and kept.revision == draft.revision


def test_an_edit_on_an_old_revision_is_refused_and_keeps_the_other_persons_change(specialist, chief, draft):
    theirs = copy.deepcopy(draft.document)
    sesam_steps(theirs)[0]["within"] = 600
    services.save_draft(chief, draft.pk, theirs, revision=draft.revision)
    mine = copy.deepcopy(draft.document)
    sesam_steps(mine)[0]["within"] = 120
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, mine, revision=draft.revision)
    assert refused.value.message == "Utkastet har ändrats av någon annan sedan du öppnade det: läs in det igen."
    assert sesam_steps(RoutineVersion.objects.get(pk=draft.pk).document)[0]["within"] == 600


def test_saving_without_a_change_leaves_the_other_persons_open_form_current(specialist, chief, draft):
    """Pressing "Spara" on an unchanged form must not make a colleague's open form stale."""
    same = services.save_draft(chief, draft.pk, copy.deepcopy(draft.document), revision=draft.revision)
    assert same.revision == draft.revision
    mine = copy.deepcopy(draft.document)
    sesam_steps(mine)[0]["within"] = 120
    saved = services.save_draft(specialist, draft.pk, mine, revision=draft.revision)
    assert saved.revision == draft.revision + 1 and sesam_steps(saved.document)[0]["within"] == 120


def test_only_verksamhetsansvarig_publishes_and_only_with_a_reason(specialist, chief, draft):
    with pytest.raises(ActionRefused) as refused:
        services.publish(specialist, draft.pk, "Ny tidsgräns", revision=draft.revision)
    assert refused.value.code == "forbidden"
    for reason in ("", "   ", "x" * (services.REASON_MAX + 1)):
        with pytest.raises(ActionRefused) as refused:
            services.publish(chief, draft.pk, reason, revision=draft.revision)
        assert refused.value.code == "invalid"
    assert RoutineVersion.objects.get(pk=draft.pk).status == RoutineVersion.Status.DRAFT
    assert loader.in_force().number == 1
    assert services.publish(chief, draft.pk, "Ny tidsgräns", revision=draft.revision).is_published
    assert loader.in_force().number == 2


def test_roles_that_do_not_keep_the_routine_may_not_start_or_save_a_draft(make_user, draft):
    for role in ("kundservice", "systemansvarig", "telefoniansvarig"):
        person = make_user(role)
        with pytest.raises(ActionRefused) as refused:
            services.start_draft(person, draft.routine)
        assert refused.value.code == "forbidden"
        with pytest.raises(ActionRefused) as refused:
            services.save_draft(person, draft.pk, draft.document, revision=draft.revision)
        assert refused.value.code == "forbidden"


def step_limit_of_a_millennium(d):
    # Due in a thousand years: a year no page could show once the task is made.
    sesam_steps(d)[2]["within"] = 1000 * 365 * 24 * 3600


def step_key_longer_than_a_task_keeps(d):
    sesam_steps(d)[2]["key"] = "s" * 61


def scenario_key_with_spaces(d):
    next(s for s in d["scenarios"] if s["key"] == "telephony_fault")["key"] = "telefoni fel"


@pytest.mark.parametrize(
    "spoil, ending",
    [
        (step_limit_of_a_millennium, "högst 30 dygn"),
        (step_key_longer_than_a_task_keeps, "ett namn av högst 60 tecken (a–z, 0–9, _ och -) behövs"),
        (scenario_key_with_spaces, "ett namn av högst 40 tecken (a–z, 0–9, _ och -) behövs"),
    ],
)
def test_a_draft_the_incidents_could_not_store_is_refused(specialist, draft, spoil, ending):
    """Every incident started under a published version stores its keys and deadlines: a value
    the database or a page cannot take would break reporting for everyone, so the draft is
    refused first."""
    bad = copy.deepcopy(draft.document)
    spoil(bad)
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, bad, revision=draft.revision)
    assert refused.value.code == "invalid"
    assert str(refused.value.message).endswith(ending), refused.value.message
    kept = RoutineVersion.objects.get(pk=draft.pk)
    assert kept.document == draft.document and kept.revision == draft.revision


def test_a_version_name_longer_than_an_incident_keeps_is_refused(specialist, draft):
    """Each incident stores its version's name: one too long would stop every report."""
    bad = copy.deepcopy(draft.document)
    bad["label"] = "Rutin 2025, revision 3"  # 22 characters
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, bad, revision=draft.revision)
    assert refused.value.message == "Versionens namn: högst 20 tecken"
    assert RoutineVersion.objects.get(pk=draft.pk).revision == draft.revision


def test_a_notice_asking_a_channel_for_something_it_has_no_message_for_is_refused(specialist, draft):
    """A misspelt action would pass the editor and then fail every time the notice is sent."""
    bad = copy.deepcopy(draft.document)
    bad["notices"][0]["action"] = "publsh" if bad["notices"][0]["channel"] != "email" else "new_incidnet"
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(specialist, draft.pk, bad, revision=draft.revision)
    assert refused.value.code == "invalid" and str(refused.value.message).endswith(
        "har inget meddelande för den åtgärden"
    )
    assert RoutineVersion.objects.get(pk=draft.pk).revision == draft.revision
