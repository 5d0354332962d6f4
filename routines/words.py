"""A routine document in the owner's words: the name of a place in it ("Sesam LMN-server
oåtkomlig för samtliga användare, steg 3, roll"), a duration ("4 tim"), and the labels of the
values a step or a notice holds. Read by the editor's pages and ``routines.diff``."""

import re

from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from runbook.scenarios import Role

DURATION_LABELS = {
    "reserve_routine_after": _("Reservrutin utan prognos efter"),
    "ack_timeout": _("Tid att kvittera eskaleringen"),
}
DUE_ON_LABELS = {
    "reported": _("När störningen anmäls"),
    "escalated": _("När den eskalerats till SA"),
    "acknowledged": _("När SA kvitterat"),
    "awaiting_it": _("När Hjälpmedel avvaktar IT"),
    "reserve_routine": _("När reservrutinen gäller"),
    "resolved": _("När driften är återställd"),
    "timer:sa_fallback": _("När SA inte är i tjänst eller inte kvitterar"),
    "timer:prognosis_passed": _("När prognosen passerat"),
}
DONE_BY_LABELS = {
    None: _("En person bockar av"),
    "escalate": _("Eskalera till systemansvarig"),
    "await_it": _("Avvaktar IT"),
    "record_prognosis": _("Ange prognos"),
    "all_orders_entered": _("Alla akuta förskrivningar inlagda"),
}
CHANNEL_LABELS = {
    "email": _("E-post"),
    "sms": _("SMS"),
    "vardgivare_skane": _("Vårdgivare Skåne"),
    "driftinfo": _("Driftinfo (regionala IT-funktionen)"),
    "telephony": _("Telefonslingan (lavinmeddelande)"),
}
SCRIPT_LABELS = {
    "during": _("Repliker medan störningen pågår"),
    "reserve": _("Repliker när reservrutinen gäller"),
    "restored": _("Repliker när driften är återställd"),
}
RECIPIENT_LABELS = {
    "sa": _("Systemansvarig (SA)"),
    "sa_manager": _("Enhetschef för SA"),
    "subscribers": _("Prenumeranter"),
    **Role.LABELS,
}
STEP_FIELD_LABELS = {
    "role": _("roll"),
    "instruction": _("text"),
    "due_on": _("när"),
    "within": _("tidsgräns"),
    "done_by": _("görs av"),
}
NOTICE_FIELD_LABELS = {
    "key": _("nyckel"),
    "channel": _("kanal"),
    "action": _("åtgärd"),
    "recipients": _("mottagare"),
    "when": _("när (text)"),
    "why": _("varför (text)"),
    "scenarios": _("scenarier"),
    "event_kind": _("händelse"),
    "match": _("händelse"),
    "only_after": _("bara efter"),
    "unless_out": _("inte om något redan är ute"),
    "ack_link": _("kvitteringslänk"),
}
# The events a notice may follow (``routines.document.NOTICE_EVENTS``), as the rules page says them.
NOTICE_EVENT_LABELS = {
    "reported": _("Störning anmäld"),
    "reclassified": _("Nytt scenario"),
    "escalate": _("Eskalera till systemansvarig"),
    "acknowledge": _("SA har kvitterat"),
    "await_it": _("Hjälpmedel avvaktar IT"),
    "timer:sa_fallback": _("SA ej i tjänst eller har inte kvitterat"),
    "prognosis": _("Prognos angiven"),
    "timer:prognosis_passed": _("Prognosen har passerat"),
    "activate_reserve_routine": _("Reservrutin aktiverad (4-timmarstimern eller manuellt)"),
    "resolve": _("Driften återställd"),
    "cancel": _("Störningen makulerad"),
    "resolve_or_cancel": _("Driften återställd eller makulerad"),
}
SCENARIO_FIELD_LABELS = {
    "key": _("nyckel"),
    "title": _("rubrik"),
    "routine_text": _("rutinens text"),
    "steps": _("steg"),
    "transitions": _("använder"),
}
# The state machine's optional transitions a scenario uses (``scenarios[].transitions``).
TRANSITION_LABELS = {
    "escalate": _("Eskalering till SA (eskalera, SA kvitterar, SA:s reservväg)"),
    "reserve_routine": _("Reservrutinen (klockan och start för hand)"),
    "await_it": _("Avvakta instruktioner från IT"),
}
# The same, short, inside a sentence ("använder nu eskalering till SA").
TRANSITION_NAMES = {
    "escalate": _("eskalering till SA"),
    "reserve_routine": _("reservrutinen"),
    "await_it": _("att avvakta IT"),
}
ONLY_AFTER_LABELS = {
    None: _("Alltid"),
    "escalated": _("Bara om den eskalerats till SA"),
    "acknowledged": _("Bara om SA kvitterat"),
    "awaiting_it": _("Bara om Hjälpmedel avvaktat IT"),
    "reserve_routine": _("Bara om reservrutinen gällt"),
}
# What a step's ``delivered_by`` may wait for the app to deliver on a channel.
DELIVERY_ACTION_LABELS = {
    "publish": _("publicera"),
    "update": _("uppdatera"),
    "end": _("avsluta"),
    "withdraw": _("ta bort"),
    "on": _("lägg på"),
    "off": _("ta av"),
}
STEP_MORE_LABELS = {
    "key": _("nyckel"),
    "only_after": _("bara efter"),
    "delivered_by": _("klar när appen levererat"),
    "channel": _("kanal"),
    "actions": _("åtgärd"),
    "ongoing": _("pågår så länge störningen pågår"),
}
TRIAGE_FIELD_LABELS = {
    "key": _("nyckel"),
    "text": _("text"),
    "question": _("fråga"),
    "answer": _("svar"),
    "scenario": _("scenario"),
}
# The notices' words (``messages``, routines/texts.py), as the owner reads them.
MESSAGE_CHANNEL_LABELS = {
    "email": _("E-post"),
    "sms": _("SMS"),
    "vardgivare_skane": _("Vårdgivare Skåne"),
    "driftinfo": _("Driftinfo"),
    "telephony": _("Telefonslingan"),
}
MESSAGE_ACTION_LABELS = {
    "publish": _("publicera"),
    "withdraw": _("ta bort"),
    "update": _("uppdatera"),
    "end": _("avsluta"),
    "on": _("lägg på"),
    "off": _("ta av"),
    "new_incident": _("störning anmäld"),
    "escalation": _("eskalering"),
    "sa_fallback": _("SA nås inte"),
    "prognosis_passed": _("prognosen har passerat"),
    "reserve_routine": _("reservrutin aktiverad"),
    "resolved": _("driften återställd"),
}
MESSAGE_FIELD_LABELS = {
    "subject": _("rubrik"),
    "body": _("text"),
    "off_duty": _("text när SA inte är i tjänst"),
    "not_acknowledged": _("text när SA inte kvitterat"),
    "after_reserve": _("text efter reservrutin"),
    "what": _("vad som hänt"),
}
MESSAGE_PART_LABELS = {
    "system": _("systemets namn"),
    "reference": _("referens"),
    "reserve_notice": _("reservrutinens notis"),
    "affected": _("påverkan"),
    "lavin": _("lavinmeddelande"),
    "greeting": _("hälsning"),
    "greeting_without_name": _("hälsning utan namn"),
    "facts": _("fakta om störningen"),
    "ack": _("kvittering"),
    "signature": _("avslutning"),
    "with_link": _("slut med länk och kod"),
    "with_code": _("slut med kod"),
    "without_code": _("slut utan kod"),
}


def duration(seconds):
    """Seconds in words: "4 tim", "15 min", "1 tim 30 min", "90 s"."""
    if seconds is None:
        return gettext("ingen")
    if seconds % 60:
        return gettext("%(n)d s") % {"n": seconds}
    hours, minutes = divmod(seconds // 60, 60)
    if hours and minutes:
        return gettext("%(h)d tim %(m)d min") % {"h": hours, "m": minutes}
    if hours:
        return gettext("%(h)d tim") % {"h": hours}
    return gettext("%(m)d min") % {"m": minutes}


def text(value):
    """A text of the document as the reader reads it (version 1's are msgids of locale/)."""
    return gettext(value) if isinstance(value, str) and value else (value or "")


def label(labels, value):
    found = labels.get(value)
    return str(found) if found is not None else str(value)


def notice_name(channel, action):
    """A notice's words by channel and action: Notis ”Vårdgivare Skåne: publicera”."""
    return gettext("Notis ”%(channel)s: %(action)s”") % {
        "channel": label(MESSAGE_CHANNEL_LABELS, channel),
        "action": label(MESSAGE_ACTION_LABELS, action),
    }


def notice_name_lazy(channel, action):
    """``channel: action`` in words, translated when shown (for a form's choices)."""
    return format_lazy(
        "{channel}: {action}", channel=MESSAGE_CHANNEL_LABELS[channel], action=MESSAGE_ACTION_LABELS[action]
    )


def _scenario_title_by_key(document, key):
    for scenario in (document or {}).get("scenarios") or []:
        if isinstance(scenario, dict) and scenario.get("key") == key:
            return text(scenario.get("title")) or key
    return key


def message_place(document, where):
    """A path in ``messages`` in words: ``messages.channels.sms.escalation.what[1]`` is
    Notis ”SMS: eskalering”, vad som hänt, rad 2."""
    parts = []
    for piece in where.split(".")[1:]:
        name, _sep, index = piece.partition("[")
        parts.append((name, int(index.rstrip("]")) if index.rstrip("]").isdigit() else None))
    said = []
    if parts and parts[0][0] == "channels":
        if len(parts) >= 3:
            said.append(notice_name(parts[1][0], parts[2][0]))
        elif len(parts) == 2:
            said.append(label(MESSAGE_CHANNEL_LABELS, parts[1][0]))
        rest = parts[3:]
    elif parts and parts[0][0] == "scenarios":
        said.append(gettext("Meddelandetexter"))
        if len(parts) >= 2:
            said.append(_scenario_title_by_key(document, parts[1][0]))
        rest = parts[2:]
    elif parts and parts[0][0] in ("email", "sms"):
        said.append(label(MESSAGE_CHANNEL_LABELS, parts[0][0]))
        rest = parts[1:]
    else:
        said.append(gettext("Meddelandetexter"))
        rest = parts
    for name, i in rest:
        said.append(label({**MESSAGE_FIELD_LABELS, **MESSAGE_PART_LABELS}, name))
        if i is not None:
            said.append(gettext("rad %(n)d") % {"n": i + 1})
    return ", ".join(said)


def scenario_title(document, index):
    try:
        return text(document["scenarios"][index]["title"]) or gettext("Scenario %(n)d") % {"n": index + 1}
    except (KeyError, IndexError, TypeError):
        return gettext("Scenario %(n)d") % {"n": index + 1}


_PART = re.compile(r"([a-z_]+)(?:\[(\d+)\])?")


def place(document, where):
    """A field's path (``scenarios[1].steps[2].role``) in words, naming the scenario by its
    title and the step, line or notice by its number."""
    if where == "messages" or where.startswith("messages."):
        return message_place(document, where)
    parts = [(m.group(1), int(m.group(2)) if m.group(2) is not None else None) for m in _PART.finditer(where)]
    if not parts:
        return where
    head, index = parts[0]
    rest = parts[1:]
    words = []
    if head == "scenarios" and index is None:
        words.append(gettext("Scenarier"))
    elif head == "scenarios":
        words.append(scenario_title(document, index))
        in_step = False
        for name, i in rest:
            if name == "steps" and i is not None:
                in_step = True
                words.append(gettext("steg %(n)d") % {"n": i + 1})
            elif name in STEP_FIELD_LABELS:
                words.append(str(STEP_FIELD_LABELS[name]))
            elif in_step and name in STEP_MORE_LABELS:
                words.append(str(STEP_MORE_LABELS[name]))
            elif name in SCENARIO_FIELD_LABELS:
                words.append(str(SCENARIO_FIELD_LABELS[name]))
            elif name in SCRIPT_LABELS:
                words.append(str(SCRIPT_LABELS[name]).lower())
                if i is not None:
                    words.append(gettext("rad %(n)d") % {"n": i + 1})
    elif head == "durations":
        words.append(label(DURATION_LABELS, rest[0][0]) if rest else gettext("Tider"))
    elif head == "notices" and index is not None:
        words.append(gettext("Meddelanderegel %(n)d") % {"n": index + 1})
        for name, _i in rest:
            words.append(label(NOTICE_FIELD_LABELS, name))
    elif head == "triage":
        words.append(gettext("Triageguiden"))
        for name, i in rest:
            if name == "questions" and i is not None:
                words.append(gettext("fråga %(n)d") % {"n": i + 1})
            elif name == "proposals" and i is not None:
                words.append(gettext("förslag %(n)d") % {"n": i + 1})
            elif name in TRIAGE_FIELD_LABELS:
                words.append(str(TRIAGE_FIELD_LABELS[name]))
    elif head == "label":
        words.append(gettext("Versionens namn"))
    else:
        return where
    return ", ".join(words)
