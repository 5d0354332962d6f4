"""What changed between two versions of a routine, in words: one line per change, in the
routine's order ("Steg 3 i Sesam LMN-server oåtkomlig …: tidsgräns 5 min → 10 min").

``changes(old, new)`` reads two documents (``docs/routine-format.md``) and nothing else: no
database, no clock. Scenarios, steps and notices are matched by their stable ``key``, so a
moved step is one that moved, not one removed and one added. The lines are in the active
language.
"""

from django.utils.translation import gettext

from . import document, words

SHORT = 80


def _short(value):
    value = " ".join(words.text(value).split())
    return value if len(value) <= SHORT else value[: SHORT - 1] + "…"


def _by_key(items):
    return {item.get("key"): (i, item) for i, item in enumerate(items or []) if isinstance(item, dict)}


def _durations(old, new):
    lines = []
    old_d, new_d = old.get("durations") or {}, new.get("durations") or {}
    for name in words.DURATION_LABELS:
        if old_d.get(name) != new_d.get(name):
            before = words.duration(old_d.get(name))
            after = words.duration(new_d.get(name))
            lines.append(f"{words.label(words.DURATION_LABELS, name)}: {before} → {after}")
    return lines


def _step_changes(old, new):
    """What changed in one step, as "field a → b" phrases."""
    said = []
    if old.get("instruction") != new.get("instruction"):
        said.append(
            gettext("text ändrad: ”%(old)s” → ”%(new)s”")
            % {"old": _short(old.get("instruction")), "new": _short(new.get("instruction"))}
        )
    if old.get("role") != new.get("role"):
        said.append(
            gettext("roll %(old)s → %(new)s")
            % {
                "old": words.label(words.RECIPIENT_LABELS, old.get("role")),
                "new": words.label(words.RECIPIENT_LABELS, new.get("role")),
            }
        )
    if old.get("due_on") != new.get("due_on"):
        said.append(
            gettext("blir en uppgift: %(old)s → %(new)s")
            % {
                "old": words.label(words.DUE_ON_LABELS, old.get("due_on")).lower(),
                "new": words.label(words.DUE_ON_LABELS, new.get("due_on")).lower(),
            }
        )
    if old.get("within") != new.get("within"):
        said.append(
            gettext("tidsgräns %(old)s → %(new)s")
            % {"old": words.duration(old.get("within")), "new": words.duration(new.get("within"))}
        )
    if old.get("done_by") != new.get("done_by"):
        said.append(
            gettext("görs av: %(old)s → %(new)s")
            % {
                "old": words.label(words.DONE_BY_LABELS, old.get("done_by")).lower(),
                "new": words.label(words.DONE_BY_LABELS, new.get("done_by")).lower(),
            }
        )
    if old.get("only_after") != new.get("only_after"):
        said.append(
            gettext("görs: %(old)s → %(new)s")
            % {
                "old": words.label(words.ONLY_AFTER_LABELS, old.get("only_after")).lower(),
                "new": words.label(words.ONLY_AFTER_LABELS, new.get("only_after")).lower(),
            }
        )
    if old.get("delivered_by") != new.get("delivered_by"):
        said.append(
            gettext("klar när appen levererat: %(old)s → %(new)s")
            % {"old": _delivery(old.get("delivered_by")), "new": _delivery(new.get("delivered_by"))}
        )
    if bool(old.get("ongoing")) != bool(new.get("ongoing")):
        said.append(
            gettext("pågår nu så länge störningen pågår")
            if new.get("ongoing")
            else gettext("pågår inte längre så länge störningen pågår")
        )
    return said


def _delivery(value):
    """A step's ``delivered_by`` in words: "Telefonslingan (lavinmeddelande): lägg på"."""
    if not isinstance(value, dict):
        return gettext("inget")
    actions = ", ".join(words.label(words.DELIVERY_ACTION_LABELS, a) for a in value.get("actions") or [])
    return f"{words.label(words.CHANNEL_LABELS, value.get('channel'))}: {actions}"


def _steps(title, old_steps, new_steps):
    lines = []
    old_by, new_by = _by_key(old_steps), _by_key(new_steps)
    for key, (i, step) in new_by.items():
        where = {"n": i + 1, "scenario": title}
        if key not in old_by:
            lines.append(
                gettext("Nytt steg %(n)d i %(scenario)s: %(role)s, ”%(text)s”")
                % {
                    **where,
                    "role": words.label(words.RECIPIENT_LABELS, step.get("role")),
                    "text": _short(step.get("instruction")),
                }
            )
            continue
        for phrase in _step_changes(old_by[key][1], step):
            lines.append(gettext("Steg %(n)d i %(scenario)s: %(change)s") % {**where, "change": phrase})
    for key, (i, step) in old_by.items():
        if key not in new_by:
            lines.append(
                gettext("Steg borttaget i %(scenario)s (var steg %(n)d): ”%(text)s”")
                % {"n": i + 1, "scenario": title, "text": _short(step.get("instruction"))}
            )
    kept_old = [key for key in old_by if key in new_by]
    kept_new = [key for key in new_by if key in old_by]
    if kept_old != kept_new:
        lines.append(gettext("Stegen i %(scenario)s har ny ordning") % {"scenario": title})
    return lines


def _script(title, old, new):
    lines = []
    old_script, new_script = old.get("caller_script") or {}, new.get("caller_script") or {}
    for part, part_label in words.SCRIPT_LABELS.items():
        before, after = old_script.get(part) or [], new_script.get(part) or []
        if before == after:
            continue
        where = {"part": str(part_label).lower(), "scenario": title}
        for line in after:
            if line not in before:
                lines.append(
                    gettext("Ny replik i %(scenario)s (%(part)s): ”%(text)s”") % {**where, "text": _short(line)}
                )
        for line in before:
            if line not in after:
                lines.append(
                    gettext("Replik borttagen i %(scenario)s (%(part)s): ”%(text)s”") % {**where, "text": _short(line)}
                )
        if [x for x in before if x in after] != [x for x in after if x in before]:
            lines.append(gettext("Replikerna i %(scenario)s (%(part)s) har ny ordning") % where)
    return lines


def _transitions(title, old, new):
    lines = []
    before, after = old.get("transitions") or [], new.get("transitions") or []
    for name in after:
        if name not in before:
            lines.append(
                gettext("Scenario ”%(scenario)s”: använder nu %(what)s")
                % {"scenario": title, "what": words.label(words.TRANSITION_NAMES, name)}
            )
    for name in before:
        if name not in after:
            lines.append(
                gettext("Scenario ”%(scenario)s”: använder inte längre %(what)s")
                % {"scenario": title, "what": words.label(words.TRANSITION_NAMES, name)}
            )
    return lines


def _scenarios(old, new):
    lines = []
    old_by, new_by = _by_key(old.get("scenarios")), _by_key(new.get("scenarios"))
    for key, (_i, scenario) in new_by.items():
        title = words.text(scenario.get("title"))
        if key not in old_by:
            lines.append(gettext("Nytt scenario ”%(title)s”") % {"title": title})
            continue
        before = old_by[key][1]
        if before.get("title") != scenario.get("title"):
            lines.append(
                gettext("Scenariots rubrik ändrad: ”%(old)s” → ”%(new)s”")
                % {"old": _short(before.get("title")), "new": _short(scenario.get("title"))}
            )
        if before.get("routine_text") != scenario.get("routine_text"):
            lines.append(gettext("Rutinens text i %(scenario)s ändrad") % {"scenario": title})
        lines += _transitions(title, before, scenario)
        lines += _steps(title, before.get("steps"), scenario.get("steps"))
        lines += _script(title, before, scenario)
    for key, (_i, scenario) in old_by.items():
        if key not in new_by:
            lines.append(gettext("Scenario ”%(title)s” borttaget") % {"title": words.text(scenario.get("title"))})
    if [k for k in old_by if k in new_by] != [k for k in new_by if k in old_by]:
        lines.append(gettext("Scenarierna har ny ordning"))
    return lines


def _answer(value):
    return gettext("ja") if value is True else gettext("nej") if value is False else str(value)


def _triage(old, new):
    """The triage guide's questions (matched by key) and proposals (matched as a whole)."""
    lines = []
    old_t, new_t = old.get("triage") or {}, new.get("triage") or {}
    old_q, new_q = _by_key(old_t.get("questions")), _by_key(new_t.get("questions"))
    for key, (_i, question) in new_q.items():
        if key not in old_q:
            lines.append(gettext("Triage: fråga ”%(text)s” tillagd") % {"text": _short(question.get("text"))})
        elif old_q[key][1].get("text") != question.get("text"):
            lines.append(
                gettext("Triage: fråga ”%(old)s” → ”%(new)s”")
                % {"old": _short(old_q[key][1].get("text")), "new": _short(question.get("text"))}
            )
    for key, (_i, question) in old_q.items():
        if key not in new_q:
            lines.append(gettext("Triage: fråga ”%(text)s” borttagen") % {"text": _short(question.get("text"))})
    if [k for k in old_q if k in new_q] != [k for k in new_q if k in old_q]:
        lines.append(gettext("Triage: frågorna har ny ordning"))

    def said(document, questions, proposal):
        scenario = _by_key(document.get("scenarios")).get(proposal.get("scenario"))
        question = questions.get(proposal.get("question"))
        return {
            "answer": _answer(proposal.get("answer")),
            "question": _short(question[1].get("text")) if question else proposal.get("question"),
            "scenario": _short(scenario[1].get("title")) if scenario else proposal.get("scenario"),
        }

    def ident(proposal):
        return (proposal.get("question"), proposal.get("answer"), proposal.get("scenario"))

    old_p = [p for p in old_t.get("proposals") or [] if isinstance(p, dict)]
    new_p = [p for p in new_t.get("proposals") or [] if isinstance(p, dict)]
    old_ids, new_ids = [ident(p) for p in old_p], [ident(p) for p in new_p]
    for proposal in new_p:
        if ident(proposal) not in old_ids:
            lines.append(
                gettext("Triage: svaret %(answer)s på ”%(question)s” föreslår ”%(scenario)s”")
                % said(new, new_q, proposal)
            )
    for proposal in old_p:
        if ident(proposal) not in new_ids:
            lines.append(
                gettext("Triage: svaret %(answer)s på ”%(question)s” föreslår inte längre ”%(scenario)s”")
                % said(old, old_q, proposal)
            )
    if [i for i in old_ids if i in new_ids] != [i for i in new_ids if i in old_ids]:
        lines.append(gettext("Triage: förslagen har ny ordning (det första som stämmer gäller)"))
    return lines


def _notice_name(notice):
    return f"{_short(notice.get('when'))}, {words.label(words.CHANNEL_LABELS, notice.get('channel'))}"


def _event(notice):
    name = document.notice_event(notice)
    return words.label(words.NOTICE_EVENT_LABELS, name) if name else _short(notice.get("when"))


def _only_after(notice):
    found = notice.get("only_after")
    if not isinstance(found, dict):
        return gettext("alltid")
    return gettext("bara medan %(name)s är ute") % {
        "name": words.notice_name(found.get("channel"), found.get("action"))
    }


def _scenario_title(document, key):
    for scenario in document.get("scenarios") or []:
        if isinstance(scenario, dict) and scenario.get("key") == key:
            return words.text(scenario.get("title")) or key
    return key


def _recipients(values):
    return ", ".join(words.label(words.RECIPIENT_LABELS, v) for v in values or []) or gettext("inga")


def _notices(old, new):
    lines = []
    old_by, new_by = _by_key(old.get("notices")), _by_key(new.get("notices"))
    for key, (_i, notice) in new_by.items():
        name = {"notice": _notice_name(notice)}
        if key not in old_by:
            lines.append(gettext("Ny meddelanderegel: %(notice)s") % name)
            continue
        before = old_by[key][1]
        said = []
        if before.get("channel") != notice.get("channel"):
            said.append(
                gettext("kanal %(old)s → %(new)s")
                % {
                    "old": words.label(words.CHANNEL_LABELS, before.get("channel")),
                    "new": words.label(words.CHANNEL_LABELS, notice.get("channel")),
                }
            )
        if before.get("action") != notice.get("action"):
            said.append(
                gettext("åtgärd %(old)s → %(new)s") % {"old": before.get("action"), "new": notice.get("action")}
            )
        if list(before.get("recipients") or []) != list(notice.get("recipients") or []):
            said.append(
                gettext("mottagare %(old)s → %(new)s")
                % {"old": _recipients(before.get("recipients")), "new": _recipients(notice.get("recipients"))}
            )
        if before.get("when") != notice.get("when"):
            said.append(
                gettext("när ändrad: ”%(old)s” → ”%(new)s”")
                % {"old": _short(before.get("when")), "new": _short(notice.get("when"))}
            )
        if before.get("why") != notice.get("why"):
            said.append(
                gettext("varför ändrad: ”%(old)s” → ”%(new)s”")
                % {"old": _short(before.get("why")), "new": _short(notice.get("why"))}
            )
        if (before.get("event_kind"), before.get("match")) != (notice.get("event_kind"), notice.get("match")):
            said.append(gettext("händelse %(old)s → %(new)s") % {"old": _event(before), "new": _event(notice)})
        old_keys, new_keys = list(before.get("scenarios") or []), list(notice.get("scenarios") or [])
        for key in new_keys:
            if key not in old_keys:
                said.append(gettext("gäller nu även ”%(scenario)s”") % {"scenario": _scenario_title(new, key)})
        for key in old_keys:
            if key not in new_keys:
                said.append(gettext("gäller inte längre ”%(scenario)s”") % {"scenario": _scenario_title(old, key)})
        if before.get("only_after") != notice.get("only_after"):
            said.append(gettext("skickas %(old)s → %(new)s") % {"old": _only_after(before), "new": _only_after(notice)})
        for flag, on, off in (
            ("unless_out", gettext("inte om något redan är ute"), gettext("även om något redan är ute")),
            ("ack_link", gettext("med kvitteringslänk"), gettext("utan kvitteringslänk")),
        ):
            if bool(before.get(flag)) != bool(notice.get(flag)):
                said.append(on if notice.get(flag) else off)
        for phrase in said:
            lines.append(gettext("Meddelanderegel %(notice)s: %(change)s") % {**name, "change": phrase})
    for key, (_i, notice) in old_by.items():
        if key not in new_by:
            lines.append(gettext("Meddelanderegel borttagen: %(notice)s") % {"notice": _notice_name(notice)})
    return lines


def _flat_messages(messages):
    """Every text of ``messages`` by its path (``messages.channels.email.escalation.body``)."""
    flat = {}

    def walk(value, path):
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, f"{path}.{name}")
        elif isinstance(value, list):
            flat[path] = value
        else:
            flat[path] = value

    walk(messages if isinstance(messages, dict) else {}, "messages")
    return flat


def _said(value):
    if isinstance(value, list):
        return " | ".join(_short(v) if v else "–" for v in value)
    return _short(value)


def _messages(old, new):
    """The notices' words that changed: one line per text, named as the editor names it
    ("Notis ”Vårdgivare Skåne: publicera”, text: ”…” → ”…”)."""
    lines = []
    before, after = _flat_messages(old.get("messages")), _flat_messages(new.get("messages"))
    for path, value in after.items():
        place = words.message_place(new, path)
        if path not in before:
            lines.append(gettext("%(place)s: ny text ”%(new)s”") % {"place": place, "new": _said(value)})
        elif before[path] != value:
            lines.append(
                gettext("%(place)s: ”%(old)s” → ”%(new)s”")
                % {"place": place, "old": _said(before[path]), "new": _said(value)}
            )
    for path, value in before.items():
        if path not in after:
            lines.append(
                gettext("%(place)s: tas bort (var ”%(old)s”)")
                % {"place": words.message_place(old, path), "old": _said(value)}
            )
    return lines


def changes(old, new):
    """The differences from ``old`` to ``new`` (two documents), one line each, in words. A
    document of format 1 is compared as it is read, with the words version 1 sends."""
    old, new = document.upgraded(old or {}), document.upgraded(new or {})
    lines = []
    if old.get("label") != new.get("label"):
        lines.append(
            gettext("Versionens namn: %(old)s → %(new)s")
            % {"old": old.get("label") or "–", "new": new.get("label") or "–"}
        )
    lines += _durations(old, new)
    lines += _triage(old, new)
    lines += _scenarios(old, new)
    lines += _notices(old, new)
    lines += _messages(old, new)
    return lines
