"""The words a version's notices send (``messages`` in docs/routine-format.md): read, checked
and filled here, the one place that knows their shape.

A text is plain words with named placeholders in braces (``{system}``, ``{reference}``), filled
by ``str.format_map`` from a fixed list (``PLACEHOLDERS``); each place allows only some of them
(an acknowledge link only where one is sent). A line whose placeholders all fill to nothing is
left out (driftinfo's reserve-routine line outside the reserve routine). Nothing an incident's
reporter typed (summary, notes) is ever a placeholder: those may hold personal data.

``check`` refuses, naming the place, what would go out wrong: an empty text, an unknown
placeholder, braces that do not pair, a text too long once filled with the longest values the
app can give (an SMS one message of at most 160 GSM characters, the portal's notice and the
lavinmeddelande bounded), a notice without its words.
"""

import string
from dataclasses import dataclass
from types import MappingProxyType

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

# What a placeholder is filled with, in words (the notices page lists them).
PLACEHOLDERS = {
    "system": gettext_lazy("systemets namn"),
    "reference": gettext_lazy("störningens referens, t.ex. HJM-SESAM-12"),
    "scenario": gettext_lazy("scenariots rubrik"),
    "began": gettext_lazy("när störningen började (2026-12-03 08:14)"),
    "prognosis": gettext_lazy("prognosen i ord"),
    "next_update": gettext_lazy("när nästa uppdatering kommer"),
    "incident_url": gettext_lazy("länken till störningen i appen"),
    "affected": gettext_lazy("scenariots påverkan (texten nedan)"),
    "reserve_notice": gettext_lazy("reservrutinens notis (texten nedan)"),
    "reserve_active": gettext_lazy("reservrutinens notis medan reservrutinen gäller, annars inget"),
    "servicedesk_phone": gettext_lazy("Servicedesks telefonnummer"),
    "recipient": gettext_lazy("mottagarens namn"),
    "ack_url": gettext_lazy("länken för att kvittera"),
    "code": gettext_lazy("koden för att kvittera med SMS"),
}
# What most texts may use; the scenario's own texts and the reserve notice only the system's
# name (they are themselves placeholders of the others).
COMMON = (
    "system",
    "reference",
    "scenario",
    "began",
    "prognosis",
    "next_update",
    "incident_url",
    "affected",
    "reserve_notice",
    "reserve_active",
    "servicedesk_phone",
)
OWN = ("system",)

# SMS: one message of the GSM 03.38 default alphabet (in these characters alone an SMS holds 160;
# one character outside it and the whole message is UCS-2, at most 70 a part). Å, Ä, Ö are in it.
SMS_MAX_CHARS = 160
GSM_7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_fits(text):
    return len(text) <= SMS_MAX_CHARS and set(text) <= GSM_7_BASIC


# Bounds, in characters once filled: what a receiver is sure to take, and a page can show.
SUBJECT_MAX = 200  # a notification's subject column holds 300
PORTAL_TITLE_MAX = 120
PORTAL_BODY_MAX = 1000
LAVIN_MAX = 500  # read out on the phone queue: about two minutes
TEXT_MAX = 2000  # any other text
SYSTEM_MAX = 100
REFERENCE_MAX = 64  # HJM- and a routine key of 60

# The texts each notice's channel and action needs (``notices[].channel``/``action``); an SMS's
# are lists of what happened, longest first (the first that fits one SMS with its ending goes).
FIELDS = {
    ("vardgivare_skane", "publish"): ("subject", "body"),
    ("vardgivare_skane", "withdraw"): ("subject", "body"),
    ("driftinfo", "publish"): ("subject", "body"),
    ("driftinfo", "update"): ("subject", "body"),
    ("driftinfo", "end"): ("subject", "body"),
    ("telephony", "on"): ("subject",),
    ("telephony", "off"): ("subject",),
    ("email", "new_incident"): ("subject", "body"),
    ("email", "escalation"): ("subject", "body"),
    ("email", "sa_fallback"): ("subject", "off_duty", "not_acknowledged"),
    ("email", "prognosis_passed"): ("subject", "body"),
    ("email", "reserve_routine"): ("subject", "body"),
    ("email", "resolved"): ("subject", "body", "after_reserve"),
    ("sms", "escalation"): ("subject", "what"),
    ("sms", "sa_fallback"): ("subject", "off_duty", "not_acknowledged"),
}
# Texts that may be left out: the e-mail that service is back says ``body`` instead.
OPTIONAL = {("email", "resolved", "after_reserve")}
SMS_LISTS = ("what", "off_duty", "not_acknowledged")
EMAIL_PARTS = ("greeting", "greeting_without_name", "facts", "ack", "signature")
SMS_ENDINGS = ("with_link", "with_code", "without_code")
SCENARIO_TEXTS = ("affected", "lavin")


def first_words(key, system):
    """A new routine's words before it has a notice: its system and its reference."""
    return {"system": system, "reference": f"HJM-{key.upper()}"[:REFERENCE_MAX], "channels": {}}


class TextError(ValueError):
    """A text that cannot go out: where (a path in ``messages``) and what, in words."""

    def __init__(self, where, what):
        super().__init__(str(what))
        self.where = where
        self.what = what


_formatter = string.Formatter()


def placeholders(text, where, allowed):
    """The names ``text`` fills; refuses an unknown one, a format spec or unpaired braces."""
    try:
        parsed = list(_formatter.parse(text))
    except ValueError:
        raise TextError(where, gettext_lazy("klamrarna { } går inte ihop (skriv {{ eller }} för en klammer)")) from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            raise TextError(
                where,
                format_lazy(
                    gettext_lazy("okänd platshållare {{{name}}}; här kan stå {allowed}"),
                    name=name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""),
                    allowed=", ".join("{" + a + "}" for a in allowed),
                ),
            )
        names.append(name)
    return names


def fill(text, values):
    """``text`` with its placeholders filled; a line whose placeholders all fill to nothing is
    left out. ``text`` was checked when its version was saved."""
    lines = []
    for line in text.split("\n"):
        names = [name for _l, name, _s, _c in _formatter.parse(line) if name is not None]
        if names and not any(values[name] for name in names):
            continue
        lines.append(line.format_map(values))
    return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class Messages:
    """A version's words, read and checked once (``document.load``)."""

    system: str
    reference: str
    reserve_notice: str
    scenarios: MappingProxyType  # scenario key -> {"affected": ..., "lavin": ...}
    email: MappingProxyType  # greeting, greeting_without_name, facts, ack, signature
    sms: MappingProxyType  # with_link, with_code, without_code: tuples of endings
    channels: MappingProxyType  # (channel, action) -> {field: text or tuple of texts}

    def template(self, channel, action):
        return self.channels[(channel, action)]

    def scenario_text(self, scenario_key, name, default=""):
        return (self.scenarios.get(scenario_key) or {}).get(name) or default


def _text(value, where, *, allowed, most=TEXT_MAX, empty=False):
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise TextError(where, gettext_lazy("en text behövs"))
    if len(value) > most:
        raise TextError(where, format_lazy(gettext_lazy("högst {n} tecken"), n=most))
    placeholders(value, where, allowed)
    return value


def _texts(value, where, *, allowed, empty=False):
    if not isinstance(value, list) or not value:
        raise TextError(where, gettext_lazy("minst en text behövs"))
    return tuple(_text(v, f"{where}[{i}]", allowed=allowed, empty=empty) for i, v in enumerate(value))


def _mapping(value, where):
    if not isinstance(value, dict):
        raise TextError(where, gettext_lazy("saknas"))
    return value


def worst_values(messages, scenario_titles):
    """The longest each placeholder can be filled with (``messages``: a ``Messages``): what a
    length is checked against."""
    stamp = "2026-12-31 23:59"
    site = str(settings.SITE_URL or "")
    try:
        incident_url = site + reverse("incidents:detail", args=[9_999_999_999])
        sms_link = site + reverse("notifications:sms_ack", args=["W" * 20])
    except NoReverseMatch:  # pragma: no cover - both are in the app's URLs
        incident_url = sms_link = site + "/" + "W" * 40 + "/"
    system = messages.system
    own = {"system": system}
    reserve_notice = fill(messages.reserve_notice, own)
    affected = [fill(s.get("affected") or "", own) for s in messages.scenarios.values()]
    return {
        "system": system,
        "reference": f"{messages.reference}-9999999999",
        "scenario": max(scenario_titles, key=len, default=""),
        "began": stamp,
        "prognosis": f"Åter i drift beräknas {stamp}",  # the longest of notifications.messages' three
        "next_update": stamp,
        "incident_url": incident_url,
        "affected": max([*affected, *scenario_titles], key=len, default=""),
        "reserve_notice": reserve_notice,
        "reserve_active": reserve_notice,
        "servicedesk_phone": str(settings.SERVICEDESK_PHONE),
        "recipient": "W" * 150,
        "ack_url": sms_link,
        "code": "W" * 12,
    }


def _filled_at_most(text, where, values, most):
    filled = fill(text, values)
    if len(filled) > most:
        raise TextError(
            where,
            format_lazy(
                gettext_lazy("blir {n} tecken med de längsta värdena; högst {most}"),
                n=len(filled),
                most=most,
            ),
        )


def _sms_fits(text, where, values):
    filled = fill(text, values)
    outside = sorted(set(filled) - GSM_7_BASIC)
    if outside:
        raise TextError(
            where,
            format_lazy(gettext_lazy("tecknet {chars} går inte att skicka i ett SMS"), chars=" ".join(outside)),
        )
    if len(filled) > SMS_MAX_CHARS:
        raise TextError(
            where,
            format_lazy(
                gettext_lazy("det kortaste SMS:et blir {n} tecken med de längsta värdena; högst {most}"),
                n=len(filled),
                most=SMS_MAX_CHARS,
            ),
        )


def sms_candidates(whats, endings, *, code, link):
    """What an SMS may say, longest first: each ``what`` with each ending that fits the message
    (with a code and link, then with the code alone; without a code, the plain endings)."""
    groups = []
    if code and link:
        groups.append(endings["with_link"])
    if code:
        groups.append(endings["with_code"])
    else:
        groups.append(endings["without_code"])
    return [f"{what} {end}" if end else what for group in groups for what in whats for end in group]


def check(messages, *, scenarios, notices, lengths=False):
    """``messages`` read into ``Messages``; raises TextError naming the place.

    ``scenarios``: key -> title of the version's scenarios; ``notices``: the version's notices
    (each needs the words of its channel and action). ``lengths``: also that each text fits
    once filled with the longest values this installation gives (its address, Servicedesk's
    number): checked when a draft is saved, imported or published, never when a published
    version is read, which must always be read, whatever the settings became since."""
    messages = _mapping(messages, "messages")
    base = "messages"
    system = _text(messages.get("system"), f"{base}.system", allowed=(), most=SYSTEM_MAX)
    reference = messages.get("reference")
    if not isinstance(reference, str) or not reference or len(reference) > REFERENCE_MAX:
        raise TextError(f"{base}.reference", format_lazy(gettext_lazy("högst {n} tecken behövs"), n=REFERENCE_MAX))
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in reference):
        raise TextError(f"{base}.reference", gettext_lazy("bara A–Z, 0–9, - och _"))
    reserve_notice = messages.get("reserve_notice", "")
    if reserve_notice != "":
        _text(reserve_notice, f"{base}.reserve_notice", allowed=OWN, most=PORTAL_TITLE_MAX)
    used = {(n["channel"], n["action"]) for n in notices}
    sent_on = {channel for channel, _action in used}
    scenario_texts = _mapping(messages.get("scenarios", {}), f"{base}.scenarios")
    read_scenarios = {}
    for key, texts in scenario_texts.items():
        where = f"{base}.scenarios.{key}"
        if key not in scenarios:
            raise TextError(where, format_lazy(gettext_lazy("inget scenario heter {key}"), key=key))
        texts = _mapping(texts, where)
        unknown = set(texts) - set(SCENARIO_TEXTS)
        if unknown:
            raise TextError(where, format_lazy(gettext_lazy("okänt fält {names}"), names=", ".join(sorted(unknown))))
        read = {}
        for name in SCENARIO_TEXTS:
            if name in texts:
                read[name] = _text(texts[name], f"{where}.{name}", allowed=OWN, most=TEXT_MAX)
        read_scenarios[key] = MappingProxyType(read)
    # The e-mail's frame and the SMS's endings: needed once a notice sends on that channel.
    # A part no notice uses may be left empty (a new routine's signature, before its rules):
    # the frame once an e-mail notice exists, the acknowledge text once one carries the link.
    email = _mapping(messages.get("email", {}), f"{base}.email")
    needed = set(EMAIL_PARTS) - {"ack"} if "email" in sent_on else set()
    if any(n["channel"] == "email" and n.get("ack_link") for n in notices):
        needed.add("ack")
    email_parts = {}
    for name in EMAIL_PARTS:
        allowed = COMMON + {"greeting": ("recipient",), "ack": ("ack_url",)}.get(name, ())
        where = f"{base}.email.{name}"
        if name in needed and not (isinstance(email.get(name), str) and email[name].strip()):
            why = (
                gettext_lazy("behövs när en e-postregel skickar kvitteringslänken")
                if name == "ack"
                else gettext_lazy("behövs när en regel skickar e-post")
            )
            raise TextError(where, why)
        if email.get(name, "") != "":
            email_parts[name] = _text(email.get(name), where, allowed=allowed)
    sms = _mapping(messages.get("sms", {} if "sms" not in sent_on else None), f"{base}.sms")
    endings = {}
    for name in SMS_ENDINGS if sms else ():
        allowed = COMMON + {"with_link": ("ack_url", "code"), "with_code": ("code",)}.get(name, ())
        endings[name] = _texts(sms.get(name), f"{base}.sms.{name}", allowed=allowed, empty=name == "without_code")
        for i, ending in enumerate(endings[name]):
            used = set(placeholders(ending, "", allowed))
            needs = {"with_link": {"ack_url", "code"}, "with_code": {"code"}}.get(name, set())
            if not needs <= used:
                raise TextError(
                    f"{base}.sms.{name}[{i}]",
                    format_lazy(
                        gettext_lazy("ska innehålla {names}"), names=" ".join("{" + n + "}" for n in sorted(needs))
                    ),
                )
    raw_channels = _mapping(messages.get("channels"), f"{base}.channels")
    channels = {}
    for channel, actions in raw_channels.items():
        for action, fields in _mapping(actions, f"{base}.channels.{channel}").items():
            where = f"{base}.channels.{channel}.{action}"
            if (channel, action) not in FIELDS:
                raise TextError(where, gettext_lazy("ingen notis har den kanalen och åtgärden"))
            fields = _mapping(fields, where)
            unknown = set(fields) - set(FIELDS[(channel, action)])
            if unknown:
                raise TextError(
                    where, format_lazy(gettext_lazy("okänt fält {names}"), names=", ".join(sorted(unknown)))
                )
            read = {}
            for name in FIELDS[(channel, action)]:
                if (channel, action, name) in OPTIONAL and name not in fields:
                    continue
                if channel == "sms" and name in SMS_LISTS:
                    read[name] = _texts(fields.get(name), f"{where}.{name}", allowed=COMMON)
                else:
                    read[name] = _text(fields.get(name), f"{where}.{name}", allowed=COMMON)
            channels[(channel, action)] = MappingProxyType(read)
    if not reserve_notice:
        for fields in channels.values():
            for value in fields.values():
                for text in value if isinstance(value, tuple) else (value,):
                    if {"reserve_notice", "reserve_active"} & set(placeholders(text, "", COMMON)):
                        raise TextError(
                            f"{base}.reserve_notice",
                            gettext_lazy("reservrutinens notis behövs: en text nämner {reserve_notice}"),
                        )
    for notice in notices:
        pair = (notice["channel"], notice["action"])
        if pair not in channels:
            raise TextError(f"{base}.channels.{pair[0]}.{pair[1]}", gettext_lazy("notisens text saknas"))
        if pair == ("telephony", "on"):
            for key in notice["scenarios"]:
                if not (read_scenarios.get(key) or {}).get("lavin"):
                    raise TextError(f"{base}.scenarios.{key}.lavin", gettext_lazy("lavinmeddelandet behövs"))
    read = Messages(
        system=system,
        reference=reference,
        reserve_notice=reserve_notice,
        scenarios=MappingProxyType(read_scenarios),
        email=MappingProxyType(email_parts),
        sms=MappingProxyType(endings),
        channels=MappingProxyType(channels),
    )
    if lengths:
        _check_lengths(read, scenarios, notices)
    return read


def _check_lengths(read, scenarios, notices):
    values = worst_values(read, [str(t) for t in scenarios.values()])
    own = {"system": read.system}
    base = "messages"
    for key, texts in read.scenarios.items():
        if "lavin" in texts:
            _filled_at_most(texts["lavin"], f"{base}.scenarios.{key}.lavin", own, LAVIN_MAX)
    for (channel, action), fields in read.channels.items():
        where = f"{base}.channels.{channel}.{action}"
        _filled_at_most(fields["subject"], f"{where}.subject", values, SUBJECT_MAX)
        if channel == "vardgivare_skane":
            _filled_at_most(fields["subject"], f"{where}.subject", values, PORTAL_TITLE_MAX)
            _filled_at_most(fields["body"], f"{where}.body", values, PORTAL_BODY_MAX)
        elif channel == "sms" and read.sms:
            with_code = any(n["channel"] == "sms" and n["action"] == action and n.get("ack_link") for n in notices)
            for name in FIELDS[(channel, action)][1:]:
                whats = fields[name]
                for i, what in enumerate(whats):
                    _filled_at_most(what, f"{where}.{name}[{i}]", values, SMS_MAX_CHARS)
                # The last a message can fall back on must fit, with and without a code.
                shortest = f"{where}.{name}[{len(whats) - 1}]"
                for code in (True, False) if with_code else (False,):
                    last = sms_candidates(whats, read.sms, code="W" if code else "", link="")[-1]
                    _sms_fits(last, shortest, values)
        else:
            for name in FIELDS[(channel, action)][1:]:
                if name in fields:
                    _filled_at_most(fields[name], f"{where}.{name}", values, TEXT_MAX)
