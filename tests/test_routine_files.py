"""A routine version as a readable YAML file: version 1 in the repository is exactly what the
app exports from a freshly migrated database, every committed routine file meets the JSON
Schema, and an import (command or page) becomes a draft through the same services as the
pages: a published version is never written, a bad file is refused in the reader's language
saying where, and changes nothing."""

import json
import re
from io import StringIO
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import translation

from routines import document, loader, portable, services
from routines.models import Routine, RoutineVersion
from runbook.errors import ActionRefused

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
VERSION_1 = ROOT / "docs" / "routines" / "sesam-lmn-v1.yaml"
SCHEMA = ROOT / "routines" / "schema" / "routine-1.schema.json"
PUBLISHED_AT = re.compile(r"^  published_at: .*$", re.M)


def committed_files():
    return sorted((ROOT / "docs" / "routines").glob("*.yaml")) + sorted((ROOT / "tests" / "routines").glob("*.yaml"))


def v1():
    return RoutineVersion.objects.select_related("routine").get(routine__key="sesam-lmn", number=1)


def state():
    """Every version of every routine as stored."""
    return [
        (v.routine.key, v.number, v.status, v.revision, json.dumps(v.document, sort_keys=True), v.published_at)
        for v in RoutineVersion.objects.select_related("routine").order_by("routine__key", "number")
    ]


def file_with(change):
    data = yaml.safe_load(VERSION_1.read_text(encoding="utf-8"))
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_committed_version_1_is_the_export_of_a_freshly_migrated_database():
    out = StringIO()
    call_command("export_routine", "--routine", "sesam-lmn", "--version", "1", stdout=out)
    exported, committed = out.getvalue(), VERSION_1.read_text(encoding="utf-8")
    # Only when the migration ran differs from one database to the next.
    assert PUBLISHED_AT.search(exported) and PUBLISHED_AT.search(committed)
    assert PUBLISHED_AT.sub("", exported) == PUBLISHED_AT.sub("", committed)
    # The file holds the stored document as the app reads it: version 1 is kept as it was
    # published (format 1), and read with the words it sends written out (format 2).
    data = yaml.safe_load(committed)
    assert v1().document["format"] == 1 and "messages" not in v1().document
    assert {k: v for k, v in data.items() if k not in portable.ABOUT} == document.upgraded(v1().document)
    assert data["routine"] == {"key": "sesam-lmn", "name": "Driftstörningsrutin Sesam LMN", "system": "Sesam LMN"}
    assert data["version"]["number"] == 1 and data["version"]["reason"] == v1().reason


def test_every_committed_routine_file_meets_the_schema_and_loads():
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    files = committed_files()
    assert VERSION_1 in files
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, (path.name, errors)
        document.load({k: v for k, v in data.items() if k not in portable.ABOUT})


BAD = {
    "a step with an unknown role": (
        lambda d: d["scenarios"][1]["steps"][0].update(role="kundtjanst"),
        "scenarios[1].steps[0].role",
    ),
    "a step with no instruction": (lambda d: d["scenarios"][0]["steps"][1].pop("instruction"), "instruction"),
    "an empty instruction": (lambda d: d["scenarios"][0]["steps"][1].update(instruction=" "), "instruction"),
    "a duration of zero": (lambda d: d["durations"].update(ack_timeout=0), "durations.ack_timeout"),
    "a notice on an unknown channel": (lambda d: d["notices"][2].update(channel="fax"), "notices[2].channel"),
    "another format": (lambda d: d.update(format=3), "format"),
    "no scenarios": (lambda d: d.update(scenarios=[]), "scenarios: "),
    "a caller line that is no text": (
        lambda d: d["scenarios"][0]["caller_script"]["during"].append(12),
        "caller_script.during[3]",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_the_schema_and_the_loader_refuse_the_same_bad_files(name):
    change, where = BAD[name]
    data = yaml.safe_load(file_with(change))
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert not validator.is_valid(data)
    with pytest.raises(document.DocumentError) as refused:
        document.load({k: v for k, v in data.items() if k not in portable.ABOUT})
    assert where in str(refused.value)


def test_an_import_becomes_the_draft_and_never_touches_the_published_version(va):
    before = v1()
    text = file_with(lambda d: d["scenarios"][1]["steps"][0].update(within=600))
    draft = portable.import_file(va, text)
    assert (draft.routine.key, draft.number, draft.status) == ("sesam-lmn", 2, "draft")
    assert draft.document["scenarios"][1]["steps"][0]["within"] == 600
    after = v1()
    assert after.document == before.document and after.published_at == before.published_at and after.is_published
    assert loader.in_force().number == 1  # a draft is not in force until it is published

    # A second import replaces the draft (one draft at a time), never makes a version 3.
    again = portable.import_file(va, file_with(lambda d: d["scenarios"][1]["steps"][0].update(within=900)))
    assert again.pk == draft.pk and again.revision == draft.revision + 1
    assert again.document["scenarios"][1]["steps"][0]["within"] == 900
    assert RoutineVersion.objects.filter(routine__key="sesam-lmn").count() == 2
    assert v1().document == before.document


def test_an_import_with_a_new_key_makes_a_new_routine(vs):
    text = file_with(
        lambda d: d.update(routine={"key": "journal", "name": "Driftstörningsrutin Journal", "system": "Journal"})
    )
    draft = portable.import_file(vs, text)
    assert draft.number == 1 and not draft.is_published
    assert Routine.objects.get(key="journal").name == "Driftstörningsrutin Journal"
    assert loader.in_force().routine_key == "sesam-lmn"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_bad_file_is_refused_saying_where_and_changes_nothing(va, language):
    before = state()
    bad = file_with(lambda d: d["scenarios"][1]["steps"][0].update(role="kundtjanst"))
    with translation.override(language):
        with pytest.raises(ActionRefused) as refused:
            portable.import_file(va, bad)
        message = refused.value.message
    if language == "sv":
        assert message == "Sesam LMN-server oåtkomlig för samtliga användare, steg 1, roll: en roll behövs"
    else:
        assert message == "Sesam LMN server unreachable for all users, step 1, role: a role is needed"
    assert state() == before

    with pytest.raises(ActionRefused) as refused:
        portable.import_file(va, "routine:\n  key: sesam-lmn\n format: [1\n")
    assert "rad 3" in refused.value.message
    with pytest.raises(ActionRefused) as refused:
        portable.import_file(va, file_with(lambda d: d.pop("routine")))
    assert "routine" in refused.value.message
    assert state() == before


def test_only_verksamhetsansvarig_and_specialist_may_import(ks, sa):
    for person in (ks, sa):
        with pytest.raises(ActionRefused) as refused:
            portable.import_file(person, VERSION_1.read_text(encoding="utf-8"))
        assert refused.value.code == "forbidden"
    assert RoutineVersion.objects.count() == 1


def test_the_commands_export_and_import(va, tmp_path):
    path = tmp_path / "rutin.yaml"
    call_command("export_routine", "-o", str(path), stderr=StringIO())
    path.write_text(path.read_text(encoding="utf-8").replace("ack_timeout: 900", "ack_timeout: 1200"), encoding="utf-8")
    out = StringIO()
    call_command("import_routine", str(path), "--user", va.username, stdout=out)
    assert "version 2" in out.getvalue()
    draft = RoutineVersion.objects.get(routine__key="sesam-lmn", status="draft")
    assert draft.document["durations"]["ack_timeout"] == 1200

    path.write_text("format: 1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="routine"):
        call_command("import_routine", str(path), "--user", va.username)
    with pytest.raises(CommandError, match="no version 7"):
        call_command("export_routine", "--version", "7")


def test_the_routine_page_shows_the_version_in_force_and_who_published_it_and_why(client, ks, va):
    routine = Routine.objects.get(key="sesam-lmn")
    draft = services.start_draft(va, routine)
    services.publish(va, draft.pk, "Nytt nummer till Servicedesk", revision=draft.revision)
    client.force_login(ks)
    page = client.get("/rutin/").content.decode()
    assert "Driftstörningsrutin Sesam LMN" in page
    assert "Version i kraft" in page and ">2<" in page.replace(" (2024-1)", "")
    assert 'href="/rutin/versioner/#routine-' in page
    assert "Nytt nummer till Servicedesk" in page and va.get_full_name() in page
    assert "Ladda ner" not in page and "Läs in" not in page  # Kundservice neither downloads nor uploads
    assert client.get("/rutin/sesam-lmn/version-1.yaml").status_code == 403
    assert client.post("/rutin/", {"file": StringIO("x")}).status_code == 403


def test_verksamhetsansvarig_downloads_and_uploads_on_the_routine_page(client, va):
    client.force_login(va)
    page = client.get("/rutin/").content.decode()
    assert 'href="/rutin/sesam-lmn/version-1.yaml"' in page
    response = client.get("/rutin/sesam-lmn/version-1.yaml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    assert 'filename="sesam-lmn-v1.yaml"' in response["Content-Disposition"]
    downloaded = response.content.decode()
    assert PUBLISHED_AT.sub("", downloaded) == PUBLISHED_AT.sub("", VERSION_1.read_text(encoding="utf-8"))
    assert client.get("/rutin/sesam-lmn/version-9.yaml").status_code == 404

    before = state()
    bad = file_with(lambda d: d["durations"].update(reserve_routine_after=0))
    upload = StringIO(bad)
    upload.name = "rutin.yaml"
    response = client.post("/rutin/", {"file": upload})
    assert response.status_code == 400
    assert "Reservrutin utan prognos efter: en tid över noll behövs" in response.content.decode()
    assert state() == before

    upload = StringIO(file_with(lambda d: d["durations"].update(reserve_routine_after=3 * 3600)))
    upload.name = "rutin.yaml"
    response = client.post("/rutin/", {"file": upload}, follow=True)
    assert "inläst som utkast" in response.content.decode()
    draft = RoutineVersion.objects.get(routine__key="sesam-lmn", status="draft")
    assert draft.document["durations"]["reserve_routine_after"] == 3 * 3600
    assert v1().document["durations"]["reserve_routine_after"] == 4 * 3600


def test_a_second_routine_is_read_in_from_a_file_and_published_beside_sesam(va):
    text = (ROOT / "tests" / "routines" / "journalia-v1.yaml").read_text(encoding="utf-8")
    draft = portable.import_file(va, text)
    assert (draft.routine.key, draft.routine.system, draft.number) == ("journalia", "Journalia", 1)
    services.publish(va, draft.pk, "Journalia får en egen rutin", revision=draft.revision)
    journalia = loader.in_force("journalia")
    assert list(journalia.scenarios) == ["journalia_unreachable", "journalia_slow"]
    assert journalia.scenario("journalia_unreachable").uses("escalate")
    assert not journalia.scenario("journalia_slow").transitions
    assert journalia.duration("ack_timeout").total_seconds() == 600
    assert loader.in_force().routine_key == "sesam-lmn" and loader.in_force().number == 1
