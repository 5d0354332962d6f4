"""Driftstörningsrutin Sesam LMN, version 1: the routine as the code defined it until now
(``runbook/scenarios.py`` and ``notifications/rules.py`` of routine version 2024-1), frozen
in ``version_1.json`` beside this file. Its texts are the Swedish msgids of ``locale/``."""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DOCUMENT = Path(__file__).with_name("version_1.json")
ROUTINE = {"key": "sesam-lmn", "name": "Driftstörningsrutin Sesam LMN", "system": "Sesam LMN"}


def first_version(apps, schema_editor):
    Routine = apps.get_model("routines", "Routine")
    RoutineVersion = apps.get_model("routines", "RoutineVersion")
    routine, _made = Routine.objects.get_or_create(key=ROUTINE["key"], defaults=ROUTINE)
    if not RoutineVersion.objects.filter(routine=routine, number=1).exists():
        RoutineVersion.objects.create(
            routine=routine,
            number=1,
            status="published",
            document=json.loads(DOCUMENT.read_text(encoding="utf-8")),
            published_at=timezone.now(),
            reason="Rutinen som den gällde när den blev data i appen (version 2024-1).",
        )


class Migration(migrations.Migration):
    dependencies = [("routines", "0002_published_versions_are_kept")]
    operations = [migrations.RunPython(first_version, migrations.RunPython.noop)]
