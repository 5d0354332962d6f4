"""A version's document (``docs/routine-format.md``) read into the objects the app runs on:
``runbook.scenarios.Scenario`` and ``Step``, the triage guide, the durations and the notice
rules (``notifications.rules.rules_of`` makes its ``Rule`` objects from ``notices``).

Texts are kept as written in the document and translated when shown (``gettext_lazy``): the
texts of version 1 are the Swedish msgids of ``locale/``, so they show in English as before;
a text the owner writes or edits has no translation and shows as written.
"""

from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext_lazy

from runbook.scenarios import Scenario, Step

# The format this module reads; a document says which it is written in.
FORMAT = 1
DURATIONS = ("reserve_routine_after", "ack_timeout")


class DocumentError(ValueError):
    """The document cannot be read: what is wrong, and where."""


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
        raise DocumentError(f"{where}: a text is needed")
    return gettext_lazy(value)


def _texts(values, where):
    if not isinstance(values, list):
        raise DocumentError(f"{where}: a list of texts is needed")
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(values))


def _seconds(value, where, *, optional=False):
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DocumentError(f"{where}: a whole number of seconds above zero is needed")
    return timedelta(seconds=value)


def _step(data, where):
    delivered = data.get("delivered_by")
    if delivered is not None:
        delivered = (str(delivered["channel"]), tuple(str(a) for a in delivered["actions"]))
    return Step(
        key=str(data["key"]),
        role=str(data["role"]),
        instruction=_text(data["instruction"], f"{where}.instruction"),
        due_on=str(data["due_on"]),
        within=_seconds(data.get("within"), f"{where}.within", optional=True),
        done_by=data.get("done_by"),
        only_after=data.get("only_after"),
        delivered_by=delivered,
        ongoing=bool(data.get("ongoing", False)),
    )


def _scenario(data, where):
    script = data.get("caller_script", {})
    return Scenario(
        key=str(data["key"]),
        title=_text(data["title"], f"{where}.title"),
        routine_text=_text(data["routine_text"], f"{where}.routine_text"),
        steps=tuple(_step(s, f"{where}.steps[{i}]") for i, s in enumerate(data["steps"])),
        caller_script=_texts(script.get("during", []), f"{where}.caller_script.during"),
        caller_script_reserve=_texts(script.get("reserve", []), f"{where}.caller_script.reserve"),
        caller_script_restored=_texts(script.get("restored", []), f"{where}.caller_script.restored"),
    )


def _frozen(value):
    """JSON lists become tuples (a rule's "any of"), objects read-only mappings."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return value


def load(document, *, id=None, routine_key="", routine_name="", system="", number=0, revision=1):
    """Read a document; raises DocumentError when it cannot be read."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DocumentError(f"format: {FORMAT} is needed")
    try:
        scenarios = {}
        for i, data in enumerate(document["scenarios"]):
            scenario = _scenario(data, f"scenarios[{i}]")
            if scenario.key in scenarios:
                raise DocumentError(f"scenarios[{i}].key: {scenario.key} twice")
            scenarios[scenario.key] = scenario
        triage = document["triage"]
        questions = tuple((str(q["key"]), _text(q["text"], "triage.questions")) for q in triage["questions"])
        proposals = tuple((str(p["question"]), p["answer"], str(p["scenario"])) for p in triage["proposals"])
        asked = {key for key, _text_ in questions}
        for question, answer, scenario_key in proposals:
            if question not in asked or scenario_key not in scenarios or not isinstance(answer, bool):
                raise DocumentError(f"triage.proposals: {question} → {scenario_key} names nothing")
        durations = {name: _seconds(document["durations"].get(name), f"durations.{name}") for name in DURATIONS}
        notices = tuple(_frozen(n) for n in document["notices"])
        for i, notice in enumerate(notices):
            unknown = set(notice["scenarios"]) - set(scenarios)
            if unknown:
                raise DocumentError(f"notices[{i}].scenarios: {', '.join(sorted(unknown))} is no scenario")
    except (KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"missing or malformed: {exc}") from exc
    return Loaded(
        id=id,
        routine_key=routine_key,
        routine_name=routine_name,
        system=system,
        number=number,
        revision=revision,
        label=str(document.get("label") or number),
        scenarios=MappingProxyType(scenarios),
        triage_questions=questions,
        triage_proposals=proposals,
        durations=MappingProxyType(durations),
        notices=notices,
    )
