"""A version's document (``docs/routine-format.md``) read into the objects the app runs on:
``runbook.scenarios.Scenario`` and ``Step``, the triage guide, the durations and the notice
rules (``notifications.rules.rules_of`` makes its ``Rule`` objects from ``notices``).

Texts are kept as written in the document and translated when shown (``gettext_lazy``): the
texts of version 1 are the Swedish msgids of ``locale/``, so they show in English as before;
a text the owner writes or edits has no translation and shows as written.
"""

import copy
import functools
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from runbook.scenarios import OPTIONAL_TRANSITIONS, Role, Scenario, Step

from . import texts as notice_texts
from . import words

# The format this module reads; a document says which it is written in. Format 1 had no
# ``messages``: ``upgraded`` gives such a document the words version 1 sent (a frozen file).
FORMAT = 2
FORMATS = (1, 2)
VERSION_1_MESSAGES = Path(__file__).resolve().parent / "migrations" / "version_1_messages.json"
# The routine the app was made for (routines.loader.DEFAULT_ROUTINE): its format-1 documents
# send exactly what version 1 sends.
OWN_ROUTINE = "sesam-lmn"
DURATIONS = ("reserve_routine_after", "ack_timeout")
# When a step becomes due: a state the incident reaches, or a deadline firing.
DUE_ON = (
    "reported",
    "escalated",
    "acknowledged",
    "awaiting_it",
    "reserve_routine",
    "resolved",
    "timer:sa_fallback",
    "timer:prognosis_passed",
)
# What does a step, and the due_on values at which it can still happen: a step due when its
# action can no longer happen stays open, and an incident with an open task is never closed.
DONE_BY = {
    "escalate": ("reported",),
    "await_it": ("reported",),
    "record_prognosis": ("reported", "escalated", "acknowledged", "reserve_routine", "timer:prognosis_passed"),
    "all_orders_entered": DUE_ON,
}
# A state a step may wait for (``only_after``): the incident must have passed through it.
ONLY_AFTER = ("escalated", "acknowledged", "awaiting_it", "reserve_routine")
# The optional transition (``scenarios[].transitions``) without which a state or deadline
# is never reached, and an action never possible: a step due then, made only after it, or
# done by it would never be a task, or never be done.
NEEDS_TRANSITION = {
    "escalated": "escalate",
    "acknowledged": "escalate",
    "timer:sa_fallback": "escalate",
    "escalate": "escalate",
    "awaiting_it": "await_it",
    "await_it": "await_it",
    "reserve_routine": "reserve_routine",
}
# What a notice may ask of each channel's receiver: the messages notifications/messages.py
# writes. Any other action would have no text, and the notice would fail when sent.
NOTICE_ACTIONS = {
    "email": ("new_incident", "escalation", "sa_fallback", "prognosis_passed", "reserve_routine", "resolved"),
    "sms": ("escalation", "sa_fallback"),
    "vardgivare_skane": ("publish", "withdraw"),
    "driftinfo": ("publish", "update", "end"),
    "telephony": ("on", "off"),
}
CHANNELS = tuple(NOTICE_ACTIONS)
# The timeline events a notice may follow (``notices[].event_kind``), as incidents/events.py
# names them; and those the editor offers, with what the event's data must hold (``match``).
NOTICE_EVENT_KINDS = ("reported", "reclassified", "transition", "timer", "prognosis")
NOTICE_EVENTS = {
    "reported": ("reported", {}),
    "reclassified": ("reclassified", {}),
    "escalate": ("transition", {"name": "escalate"}),
    "acknowledge": ("transition", {"name": "acknowledge"}),
    "await_it": ("transition", {"name": "await_it"}),
    "timer:sa_fallback": ("timer", {"timer": "sa_fallback"}),
    "prognosis": ("prognosis", {}),
    "timer:prognosis_passed": ("timer", {"timer": "prognosis_passed"}),
    "activate_reserve_routine": ("transition", {"name": "activate_reserve_routine"}),
    "resolve": ("transition", {"name": "resolve"}),
    "cancel": ("transition", {"name": "cancel"}),
    "resolve_or_cancel": ("transition", {"name": ["resolve", "cancel"]}),
}
# Who an e-mail or SMS goes to: a group (notifications/recipients.py) or a role.
NOTICE_GROUPS = ("sa", "sa_manager", "subscribers")


def notice_event(notice):
    """The name ``NOTICE_EVENTS`` gives the notice's event and match, or None."""
    found = (notice.get("event_kind"), notice.get("match"))
    for name, (kind, match) in NOTICE_EVENTS.items():
        if found == (kind, match):
            return name
    return None


class DocumentError(ValueError):
    """The document cannot be read: what is wrong (``what``, in the reader's language), and
    where (``where``, the field's path, e.g. ``scenarios[1].steps[2].role``)."""

    def __init__(self, message="", *, where="", what=None):
        super().__init__(message)
        self.where = where
        self.what = what

    def __str__(self):
        if self.what is not None:
            return f"{self.where}: {self.what}" if self.where else str(self.what)
        return super().__str__()


def _refused(where, what):
    return DocumentError(where=where, what=what)


@dataclass(frozen=True, eq=False)
class Loaded:
    """One version of a routine, read once from its document."""

    id: int | None
    routine_key: str
    routine_name: str
    system: str
    number: int
    revision: int
    label: str
    scenarios: MappingProxyType  # key -> Scenario, in the document's order
    triage_questions: tuple[tuple[str, Any], ...]  # (key, text)
    # This answer to the question proposes the scenario; the first that applies wins.
    triage_proposals: tuple[tuple[str, bool, str], ...]  # (question key, answer, scenario key)
    durations: MappingProxyType  # name -> timedelta
    notices: tuple[MappingProxyType, ...]  # the rules as written, read by notifications.rules
    messages: notice_texts.Messages  # the words each notice sends (routines/texts.py)

    def scenario(self, key):
        return self.scenarios[key]

    @property
    def scenario_choices(self):
        return [(s.key, s.title) for s in self.scenarios.values()]

    def duration(self, name):
        return self.durations[name]

    def proposal(self, answers):
        """The scenario the triage answers (question key -> True/False/None) point to, or None."""
        return next((key for question, answer, key in self.triage_proposals if answers.get(question) is answer), None)


def _text(value, where):
    if not isinstance(value, str) or not value.strip():
        raise _refused(where, gettext_lazy("en text behövs"))
    return gettext_lazy(value)


def _texts(values, where):
    if not isinstance(values, list):
        raise _refused(where, gettext_lazy("en lista med texter behövs"))
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(values))


# The longest time a routine may name: a deadline is the moment plus this, which must stay a
# date every page can show (a year 30,000 would break each page that lists the incident).
LONGEST_SECONDS = 30 * 24 * 3600
# A key is kept in a column of this length: an incident's scenario, a task's step, a notice's rule.
SCENARIO_KEY_MAX, STEP_KEY_MAX, NOTICE_KEY_MAX = 40, 60, 60
# An incident keeps its version's name (``Incident.routine_version``) in a column this long.
LABEL_MAX = 20
_KEY = re.compile(r"[-a-zA-Z0-9_]+")


def _seconds(value, where, *, optional=False):
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _refused(where, gettext_lazy("en tid över noll behövs"))
    if value > LONGEST_SECONDS:
        raise _refused(where, gettext_lazy("högst 30 dygn"))
    return timedelta(seconds=value)


def _key(value, where, longest):
    if not isinstance(value, str) or not _KEY.fullmatch(value) or len(value) > longest:
        raise _refused(
            where, format_lazy(gettext_lazy("ett namn av högst {n} tecken (a–z, 0–9, _ och -) behövs"), n=longest)
        )
    return value


def _needs(value, transitions, where):
    """Refuse ``value`` (a state, deadline or action) when the scenario lacks its transition."""
    needed = NEEDS_TRANSITION.get(value)
    if needed is not None and needed not in transitions:
        raise _refused(
            where,
            format_lazy(
                gettext_lazy("scenariot använder inte {transition}: steget skulle aldrig bli gjort"),
                transition=words.TRANSITION_NAMES[needed],
            ),
        )


def _delivered_by(value, where):
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("channel") not in CHANNELS:
        raise _refused(f"{where}.channel", gettext_lazy("en kanal behövs"))
    actions = value.get("actions")
    if not isinstance(actions, list) or not actions:
        raise _refused(f"{where}.actions", gettext_lazy("minst en åtgärd behövs"))
    for i, action in enumerate(actions):
        if action not in NOTICE_ACTIONS[value["channel"]] or action in actions[:i]:
            raise _refused(
                f"{where}.actions[{i}]",
                format_lazy(
                    gettext_lazy("kanalen tar emot {actions}, var och en en gång"),
                    actions=", ".join(NOTICE_ACTIONS[value["channel"]]),
                ),
            )
    return (str(value["channel"]), tuple(str(a) for a in actions))


def _step(data, where, transitions):
    if data.get("role") not in Role.ALL:
        raise _refused(f"{where}.role", gettext_lazy("en roll behövs"))
    if data.get("due_on") not in DUE_ON:
        raise _refused(f"{where}.due_on", gettext_lazy("när steget blir en uppgift behövs"))
    _needs(data["due_on"], transitions, f"{where}.due_on")
    done_by = data.get("done_by")
    if done_by is not None and done_by not in DONE_BY:
        raise _refused(f"{where}.done_by", gettext_lazy("okänd åtgärd"))
    if done_by is not None:
        _needs(done_by, transitions, f"{where}.done_by")
    if done_by is not None and data["due_on"] not in DONE_BY[done_by]:
        raise _refused(
            f"{where}.done_by",
            gettext_lazy("åtgärden kan inte ske när steget blir en uppgift: störningen skulle aldrig kunna avslutas"),
        )
    only_after = data.get("only_after")
    if only_after is not None and only_after not in ONLY_AFTER:
        raise _refused(f"{where}.only_after", gettext_lazy("okänt läge"))
    if only_after is not None:
        _needs(only_after, transitions, f"{where}.only_after")
    ongoing = data.get("ongoing", False)
    if not isinstance(ongoing, bool):
        raise _refused(f"{where}.ongoing", gettext_lazy("ja eller nej behövs"))
    return Step(
        key=_key(data["key"], f"{where}.key", STEP_KEY_MAX),
        role=str(data["role"]),
        instruction=_text(data["instruction"], f"{where}.instruction"),
        due_on=str(data["due_on"]),
        within=_seconds(data.get("within"), f"{where}.within", optional=True),
        done_by=done_by,
        only_after=only_after,
        delivered_by=_delivered_by(data.get("delivered_by"), f"{where}.delivered_by"),
        ongoing=ongoing,
    )


def _transitions(values, where):
    if not isinstance(values, list):
        raise _refused(where, gettext_lazy("en lista behövs"))
    for i, name in enumerate(values):
        if name not in OPTIONAL_TRANSITIONS or name in values[:i]:
            raise _refused(
                f"{where}[{i}]",
                format_lazy(gettext_lazy("en av {names}, var och en en gång"), names=", ".join(OPTIONAL_TRANSITIONS)),
            )
    return tuple(values)


def _scenario(data, where):
    script = data.get("caller_script", {})
    key = _key(data["key"], f"{where}.key", SCENARIO_KEY_MAX)
    title = _text(data["title"], f"{where}.title")
    routine_text = _text(data["routine_text"], f"{where}.routine_text")
    transitions = _transitions(data.get("transitions", []), f"{where}.transitions")
    if not data["steps"]:
        raise _refused(f"{where}.steps", gettext_lazy("ett scenario behöver minst ett steg"))
    steps = []
    for i, step_data in enumerate(data["steps"]):
        step = _step(step_data, f"{where}.steps[{i}]", transitions)
        if any(s.key == step.key for s in steps):
            raise _refused(f"{where}.steps[{i}].key", format_lazy(gettext_lazy("{key} finns redan"), key=step.key))
        steps.append(step)
    return Scenario(
        key=key,
        title=title,
        routine_text=routine_text,
        steps=tuple(steps),
        caller_script=_texts(script.get("during", []), f"{where}.caller_script.during"),
        caller_script_reserve=_texts(script.get("reserve", []), f"{where}.caller_script.reserve"),
        caller_script_restored=_texts(script.get("restored", []), f"{where}.caller_script.restored"),
        transitions=transitions,
    )


def _notice(notice, where):
    _key(notice["key"], f"{where}.key", NOTICE_KEY_MAX)
    if notice["channel"] not in CHANNELS:
        raise _refused(f"{where}.channel", gettext_lazy("en kanal behövs"))
    if not isinstance(notice["action"], str) or not notice["action"].strip():
        raise _refused(f"{where}.action", gettext_lazy("en åtgärd behövs"))
    if notice["action"] not in NOTICE_ACTIONS[notice["channel"]]:
        raise _refused(
            f"{where}.action",
            format_lazy(
                gettext_lazy("kanalen {channel} har inget meddelande för den åtgärden"),
                channel=words.label(words.CHANNEL_LABELS, notice["channel"]),
            ),
        )
    if notice["channel"] in ("email", "sms") and not notice["recipients"]:
        raise _refused(f"{where}.recipients", gettext_lazy("e-post och SMS behöver mottagare"))
    if not notice["scenarios"]:
        raise _refused(f"{where}.scenarios", gettext_lazy("minst ett scenario behövs, annars skickas regeln aldrig"))
    for i, recipient in enumerate(notice.get("recipients") or ()):
        if recipient not in NOTICE_GROUPS and recipient not in Role.ALL:
            raise _refused(f"{where}.recipients[{i}]", gettext_lazy("okänd mottagare"))
    if notice.get("event_kind") not in NOTICE_EVENT_KINDS:
        raise _refused(f"{where}.event_kind", gettext_lazy("en händelse behövs"))
    if not isinstance(notice.get("match"), MappingProxyType):
        raise _refused(f"{where}.match", gettext_lazy("vad händelsen ska hålla behövs (namn: värde)"))
    only_after = notice.get("only_after")
    if only_after is not None and (
        not isinstance(only_after, MappingProxyType)
        or only_after.get("action") not in NOTICE_ACTIONS.get(only_after.get("channel"), ())
    ):
        raise _refused(f"{where}.only_after", gettext_lazy("en kanal och en åtgärd den har behövs, eller inget"))
    for flag in ("unless_out", "ack_link"):
        if not isinstance(notice.get(flag, False), bool):
            raise _refused(f"{where}.{flag}", gettext_lazy("ja eller nej behövs"))
    _text(notice.get("when"), f"{where}.when")
    _text(notice.get("why"), f"{where}.why")


QUESTION_KEY_MAX = 60


def _triage(triage, scenarios):
    """The questions (key, text) and the proposals (question, answer, scenario), each
    naming a question and a scenario that exist; keys unique."""
    questions = []
    for i, question in enumerate(triage["questions"]):
        key = _key(question["key"], f"triage.questions[{i}].key", QUESTION_KEY_MAX)
        if any(key == k for k, _t in questions):
            raise _refused(f"triage.questions[{i}].key", format_lazy(gettext_lazy("{key} finns redan"), key=key))
        questions.append((key, _text(question["text"], f"triage.questions[{i}].text")))
    asked = {key for key, _t in questions}
    proposals = []
    for i, proposal in enumerate(triage["proposals"]):
        where = f"triage.proposals[{i}]"
        question, answer, scenario_key = proposal["question"], proposal["answer"], proposal["scenario"]
        if question not in asked:
            raise _refused(
                f"{where}.question",
                format_lazy(gettext_lazy("ingen fråga heter {key}"), key=question),
            )
        if not isinstance(answer, bool):
            raise _refused(f"{where}.answer", gettext_lazy("svaret ja eller nej behövs"))
        if scenario_key not in scenarios:
            raise _refused(
                f"{where}.scenario",
                format_lazy(gettext_lazy("inget scenario heter {keys}"), keys=scenario_key),
            )
        proposals.append((str(question), answer, str(scenario_key)))
    return tuple(questions), tuple(proposals)


def _unique_keys(items, where):
    """Refuse the second of two items with the same ``key`` (a notice's names its rule)."""
    seen = set()
    for i, item in enumerate(items):
        if item["key"] in seen:
            raise _refused(f"{where}[{i}].key", format_lazy(gettext_lazy("{key} finns redan"), key=item["key"]))
        seen.add(item["key"])


def _frozen(value):
    """JSON lists become tuples (a rule's "any of"), objects read-only mappings."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


@functools.cache
def _version_1_messages():
    return json.loads(VERSION_1_MESSAGES.read_text(encoding="utf-8"))


def _literal(text):
    """A text put into a template as it is (its braces are not placeholders)."""
    return text.replace("{", "{{").replace("}", "}}")


def upgraded(document, *, routine_key="", routine_name="", system=""):
    """``document`` in the current format: one of format 1 gets the words version 1 sends
    (``version_1_messages.json``): the Sesam LMN routine's exactly, another routine's with its
    system, its reference and its name, as notifications/messages.py wrote them for it. Any
    other document is returned as it is."""
    if not isinstance(document, dict) or document.get("format") != 1:
        return document
    own = routine_key in ("", OWN_ROUTINE)
    messages = copy.deepcopy(_version_1_messages()["sesam-lmn" if own else "other"])
    if not own:
        messages["system"] = system or messages["system"]
        messages["reference"] = f"HJM-{routine_key.upper()}"
        messages["email"]["signature"] = messages["email"]["signature"].replace(
            "{routine_name}", _literal(routine_name or "Driftstörningsrutin Sesam LMN")
        )
    keys = [s.get("key") for s in document.get("scenarios") or [] if isinstance(s, dict)]
    frozen = messages["scenarios"]
    messages["scenarios"] = {key: frozen[key] for key in keys if key in frozen}
    # A scenario version 1 did not know put the phone queue's general text on the line.
    for notice in document.get("notices") or []:
        if isinstance(notice, dict) and (notice.get("channel"), notice.get("action")) == ("telephony", "on"):
            for key in notice.get("scenarios") or []:
                if key in keys and key not in frozen:
                    messages["scenarios"][key] = {"lavin": frozen["sesam_unreachable"]["lavin"]}
    return {**document, "format": FORMAT, "messages": messages}


def load(
    document, *, id=None, routine_key="", routine_name="", system="", number=0, revision=1, draft=False, strict=False
):
    """Read a document (of format 1 as ``upgraded`` makes it); raises DocumentError when it
    cannot be read. A ``draft`` (a new routine's, on its way) may have no scenario yet; a
    routine in force needs one. ``strict``: also what a draft must meet to be saved (the
    notices' texts fit once filled, ``texts.check``)."""
    if not isinstance(document, dict) or document.get("format") not in FORMATS:
        raise _refused("format", format_lazy(gettext_lazy("format {format} behövs"), format=FORMAT))
    document = upgraded(document, routine_key=routine_key, routine_name=routine_name, system=system)
    try:
        if not draft and not document["scenarios"]:
            raise _refused("scenarios", gettext_lazy("rutinen behöver minst ett scenario"))
        scenarios = {}
        for i, data in enumerate(document["scenarios"]):
            scenario = _scenario(data, f"scenarios[{i}]")
            if scenario.key in scenarios:
                raise _refused(f"scenarios[{i}].key", format_lazy(gettext_lazy("{key} finns redan"), key=scenario.key))
            scenarios[scenario.key] = scenario
        questions, proposals = _triage(document["triage"], scenarios)
        durations = {name: _seconds(document["durations"].get(name), f"durations.{name}") for name in DURATIONS}
        notices = tuple(_frozen(n) for n in document["notices"])
        for i, notice in enumerate(notices):
            unknown = set(notice["scenarios"]) - set(scenarios)
            if unknown:
                raise _refused(
                    f"notices[{i}].scenarios",
                    format_lazy(gettext_lazy("inget scenario heter {keys}"), keys=", ".join(sorted(unknown))),
                )
            _notice(notice, f"notices[{i}]")
        _unique_keys(notices, "notices")
        label = document.get("label") or str(number)
        if not isinstance(label, str) or len(label) > LABEL_MAX:
            raise _refused("label", format_lazy(gettext_lazy("högst {n} tecken"), n=LABEL_MAX))
        try:
            messages = notice_texts.check(
                document.get("messages"),
                scenarios={data["key"]: data["title"] for data in document["scenarios"]},
                notices=notices,
                lengths=strict,
            )
        except notice_texts.TextError as error:
            raise _refused(error.where, error.what) from None
    except KeyError as exc:
        # A field ``load`` reads without checking it first: named, though not where.
        raise _refused(str(exc.args[0]), gettext_lazy("saknas")) from exc
    except (TypeError, AttributeError) as exc:
        raise _refused("", gettext_lazy("ett fält har fel form (en text, en lista eller namn: värde)")) from exc
    return Loaded(
        id=id,
        routine_key=routine_key,
        routine_name=routine_name,
        system=system,
        number=number,
        revision=revision,
        label=label,
        scenarios=MappingProxyType(scenarios),
        triage_questions=questions,
        triage_proposals=proposals,
        durations=MappingProxyType(durations),
        notices=notices,
        messages=messages,
    )
