"""A routine version as a readable YAML file, and back (``docs/routine-format.md``).

The file is the version's document with two more blocks: ``routine`` (its key, name and
system) and ``version`` (its number, status, when, by whom and why it was published). An
import reads ``routine`` to find the routine (or make a new one) and stores the rest as its
draft through ``routines.services``, the same door the pages use: it never writes a
published version, and a file the services refuse changes nothing. ``version`` is what an
export says about the version it came from; an import does not read it.
"""

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from runbook.errors import ActionRefused

from . import document as routine_document
from . import services
from . import texts as notice_texts
from .models import Routine, RoutineVersion

# The most an import reads: version 1 is about 40 kB.
MAX_BYTES = 1_000_000
ABOUT = ("routine", "version")
HEADER = "# {name}, version {number}. Format: docs/routine-format.md\n"


# The order fields are written in, as docs/routine-format.md lists them (the database keeps
# a JSON object's keys in an order of its own); a field not named here follows, by name.
ORDER = {
    "": ("routine", "version", "format", "label", "durations", "triage", "scenarios", "notices", "messages"),
    "durations": ("reserve_routine_after", "ack_timeout"),
    "triage": ("questions", "proposals"),
    "triage.questions": ("key", "text"),
    "triage.proposals": ("question", "answer", "scenario"),
    "scenarios": ("key", "title", "routine_text", "transitions", "steps", "caller_script"),
    "scenarios.steps": (
        "key",
        "role",
        "instruction",
        "due_on",
        "within",
        "done_by",
        "only_after",
        "delivered_by",
        "ongoing",
    ),
    "scenarios.steps.delivered_by": ("channel", "actions"),
    "scenarios.caller_script": ("during", "reserve", "restored"),
    "notices": (
        "key",
        "event_kind",
        "match",
        "scenarios",
        "channel",
        "action",
        "recipients",
        "only_after",
        "unless_out",
        "ack_link",
        "when",
        "why",
    ),
    "notices.only_after": ("channel", "action"),
    "messages": ("system", "reference", "reserve_notice", "scenarios", "email", "sms", "channels"),
    "messages.email": notice_texts.EMAIL_PARTS,
    "messages.sms": notice_texts.SMS_ENDINGS,
}


def _ordered(value, path=""):
    if isinstance(value, list):
        return [_ordered(v, path) for v in value]
    if not isinstance(value, dict) or path not in ORDER:
        return value
    known = ORDER[path]
    names = [n for n in known if n in value] + sorted(n for n in value if n not in known)
    return {n: _ordered(value[n], f"{path}.{n}" if path else n) for n in names}


def _ordered_messages(messages, scenario_keys):
    """The words in the routine's order: scenarios as the document has them, channels and
    actions as docs/routine-format.md lists them, each one's fields in ``texts.FIELDS`` order."""
    if not isinstance(messages, dict):
        return messages
    out = dict(messages)
    scenarios = messages.get("scenarios")
    if isinstance(scenarios, dict):
        keys = [k for k in scenario_keys if k in scenarios] + sorted(k for k in scenarios if k not in scenario_keys)
        out["scenarios"] = {
            k: _by(scenarios[k], notice_texts.SCENARIO_TEXTS) if isinstance(scenarios[k], dict) else scenarios[k]
            for k in keys
        }
    channels = messages.get("channels")
    if isinstance(channels, dict):
        known = routine_document.NOTICE_ACTIONS
        out["channels"] = {}
        for channel in _by(channels, tuple(known)):
            actions = channels[channel]
            if not isinstance(actions, dict):
                out["channels"][channel] = actions
                continue
            out["channels"][channel] = {
                action: _by(fields, notice_texts.FIELDS.get((channel, action), ()))
                if isinstance(fields, dict)
                else fields
                for action, fields in _by(actions, known.get(channel, ())).items()
            }
    return out


def _by(mapping, known):
    names = [n for n in known if n in mapping] + sorted(n for n in mapping if n not in known)
    return {n: mapping[n] for n in names}


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as blocks (``|``), the way they read."""


def _str(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def export_version(version: RoutineVersion) -> str:
    """The version as YAML text, its fields in the order docs/routine-format.md gives. A
    version of format 1 is written as the app reads it, with the words version 1 sends."""
    routine = version.routine
    document = routine_document.upgraded(
        version.document, routine_key=routine.key, routine_name=routine.name, system=routine.system
    )
    if isinstance(document.get("messages"), dict):
        keys = [s.get("key") for s in document.get("scenarios") or [] if isinstance(s, dict)]
        document = {**document, "messages": _ordered_messages(document["messages"], keys)}
    published_at = (
        timezone.localtime(version.published_at).isoformat(timespec="seconds") if version.published_at else None
    )
    data = _ordered(
        {
            **document,
            "routine": {"key": routine.key, "name": routine.name, "system": routine.system},
            "version": {
                "number": version.number,
                "status": version.status,
                "published_at": published_at,
                "published_by": version.published_by.get_username() if version.published_by else None,
                "reason": version.reason or None,
            },
        }
    )
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)
    return HEADER.format(name=routine.name, number=version.number) + text


def file_name(version: RoutineVersion) -> str:
    return f"{version.routine.key}-v{version.number}.yaml"


def _refused(message):
    return ActionRefused(message, code="invalid")


def _parsed(text: str | bytes) -> dict:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _refused(_("Filen är för stor (högst 1 MB)."))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _refused(_("Filen är inte text i UTF-8.")) from None
    if len(text) > MAX_BYTES:
        raise _refused(_("Filen är för stor (högst 1 MB)."))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is None:
            raise _refused(_("Filen är inte läsbar YAML.")) from None
        line, column = mark.line + 1, mark.column + 1
        raise _refused(
            lambda: _("Filen är inte läsbar YAML: rad %(line)d, kolumn %(column)d.") % {"line": line, "column": column}
        ) from None
    if not isinstance(data, dict):
        raise _refused(_("Filen ska vara en rutin: namn och värden, som en exporterad version."))
    return data


def _about_routine(data: dict) -> tuple[str, str, str]:
    about = data.get("routine")
    if not isinstance(about, dict):
        raise _refused(_("routine: saknas (rutinens key, name och system)."))
    values = []
    for name in ("key", "name", "system"):
        value = about.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _refused(lambda name=name: _("routine.%(name)s: en text behövs") % {"name": name})
        values.append(value.strip())
    return values[0], values[1], values[2]


def import_file(user, text: str | bytes) -> RoutineVersion:
    """Make the file the draft of its routine (a new routine if its key is new); returns the
    draft. Refused, with what is wrong and where, without changing anything."""
    if not services.may_edit(user):
        raise ActionRefused(_("Du får inte ändra rutinen."), code="forbidden")
    data = _parsed(text)
    key, name, system = _about_routine(data)
    document = {k: v for k, v in data.items() if k not in ABOUT}
    with transaction.atomic():
        routine = Routine.objects.filter(key=key).first()
        if routine is None:
            return services.create_routine(user, key=key, name=name, system=system, document=document)
        draft = services.start_draft(user, routine)
        return services.save_draft(user, draft.pk, document, revision=draft.revision)
