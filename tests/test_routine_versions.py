"""The routine is data in versions: version 1, made by a data migration from a frozen copy,
is the routine the code defined (every scenario, step, caller script, triage answer, notice
rule and duration, field by field, in Swedish and in English); a published version is never
changed, there is one draft at a time, and a draft edited by two people is not overwritten."""

from dataclasses import fields
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from notifications import rules
from routines import document, loader, services
from routines.models import Routine, RoutineVersion
from runbook import scenarios
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db


def plain(value):
    """A field's value as the reader sees it (texts translated in the active language)."""
    if isinstance(value, tuple | list):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, str | bool | int | timedelta) or value is None:
        return value if not isinstance(value, str) else str(value)
    return str(value)  # a lazy text


def same_fields(loaded, defined, names):
    for name in names:
        assert plain(getattr(loaded, name)) == plain(getattr(defined, name)), name


@pytest.mark.parametrize("language", ["sv", "en"])
def test_version_1_is_the_routine_the_code_defined(language):
    with translation.override(language):
        v1 = loader.in_force()
        assert v1.number == 1 and v1.label == scenarios.ROUTINE_VERSION
        assert v1.routine_name == "Driftstörningsrutin Sesam LMN" and v1.system == "Sesam LMN"
        assert list(v1.scenarios) == list(scenarios.SCENARIOS)
        for key, defined in scenarios.SCENARIOS.items():
            loaded = v1.scenario(key)
            same_fields(loaded, defined, [f.name for f in fields(scenarios.Scenario) if f.name != "steps"])
            assert [s.key for s in loaded.steps] == [s.key for s in defined.steps]
            for loaded_step, defined_step in zip(loaded.steps, defined.steps, strict=True):
                same_fields(loaded_step, defined_step, [f.name for f in fields(scenarios.Step)])
            assert loaded == defined
        assert plain(v1.triage_questions) == plain(scenarios.Triage.QUESTIONS)
        assert [(q, key) for q, answer, key in v1.triage_proposals if answer is False] == list(scenarios.Triage.RULES)
        assert v1.durations == {"reserve_routine_after": timedelta(hours=4), "ack_timeout": timedelta(minutes=15)}

        loaded_rules = rules.rules_of(v1)
        assert [r.key for r in loaded_rules] == [r.key for r in rules.RULES]
        for loaded_rule, defined_rule in zip(loaded_rules, rules.RULES, strict=True):
            same_fields(loaded_rule, defined_rule, [f.name for f in fields(rules.Rule)])
            assert plain(loaded_rule.channel_label) == plain(defined_rule.channel_label)
            assert plain(loaded_rule.action_label) == plain(defined_rule.action_label)
            assert loaded_rule == defined_rule


def test_english_texts_of_version_1_are_todays_translations():
    with translation.override("en"):
        title = str(loader.in_force().scenario(scenarios.SESAM_UNREACHABLE.key).title)
    assert title == "Sesam LMN server unreachable for all users"


def test_a_version_is_read_once_and_then_kept(django_assert_num_queries):
    first = loader.in_force()
    with django_assert_num_queries(0):
        again = loader.loaded(first.id)
        assert again is first
        assert rules.rules_of(again) is rules.rules_of(first)


def published_v1():
    return RoutineVersion.objects.get(routine__key=loader.DEFAULT_ROUTINE, number=1)


def test_a_published_version_is_never_changed(make_user):
    chief = make_user("verksamhetsansvarig")
    v1 = published_v1()
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(chief, v1.pk, v1.document, revision=v1.revision)
    assert "publicerad version ändras aldrig" in refused.value.message

    # Below the service, the database refuses it as well.
    if connection.vendor in ("postgresql", "sqlite"):
        with pytest.raises(Exception, match="never changed"), transaction.atomic():
            RoutineVersion.objects.filter(pk=v1.pk).update(reason="ändrad i efterhand")
    assert published_v1().reason != "ändrad i efterhand"


def test_one_draft_at_a_time_and_version_numbers_are_unique():
    routine = Routine.objects.get(key=loader.DEFAULT_ROUTINE)
    RoutineVersion.objects.create(routine=routine, number=2, document={})
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutineVersion.objects.create(routine=routine, number=3, document={})
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutineVersion.objects.create(routine=routine, number=1, document={}, status="published")


def test_two_people_editing_the_draft_do_not_overwrite_each_other(make_user):
    chief, specialist = make_user("verksamhetsansvarig"), make_user("verksamhetsspecialist")
    routine = Routine.objects.get(key=loader.DEFAULT_ROUTINE)
    draft = services.start_draft(specialist, routine)
    # A new version carries, written out, the words version 1 sends.
    assert draft.number == 2 and draft.document == document.upgraded(published_v1().document)
    assert draft.document["format"] == 2 and draft.document["messages"]["system"] == "Sesam LMN"
    assert services.start_draft(chief, routine).pk == draft.pk  # the same draft, not a second

    edited = dict(draft.document, durations={"reserve_routine_after": 3 * 3600, "ack_timeout": 900})
    saved = services.save_draft(specialist, draft.pk, edited, revision=draft.revision)
    assert saved.revision == draft.revision + 1
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(chief, draft.pk, draft.document, revision=draft.revision)
    assert "ändrats av någon annan" in refused.value.message
    assert RoutineVersion.objects.get(pk=draft.pk).document["durations"]["reserve_routine_after"] == 3 * 3600

    bad = dict(edited, durations={"reserve_routine_after": 0, "ack_timeout": 900})
    with pytest.raises(ActionRefused) as refused:
        services.save_draft(chief, draft.pk, bad, revision=saved.revision)
    assert refused.value.code == "invalid"

    with pytest.raises(ActionRefused) as refused:
        services.publish(specialist, draft.pk, "Fyra timmar blir tre", revision=saved.revision)
    assert refused.value.code == "forbidden"
    with pytest.raises(ActionRefused):
        services.publish(chief, draft.pk, "  ", revision=saved.revision)
    published = services.publish(chief, draft.pk, "Fyra timmar blir tre", revision=saved.revision)
    assert published.is_published and published.published_by == chief and published.reason == "Fyra timmar blir tre"
    assert loader.in_force().number == 2
    assert loader.in_force().duration("reserve_routine_after") == timedelta(hours=3)
    assert loader.loaded(published_v1().pk).duration("reserve_routine_after") == timedelta(hours=4)
