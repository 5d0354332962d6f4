"""The messages that go out, in the words of the incident's routine version.

The words are the version's (``messages`` of its document, read once per version by
``routines.loader``; ``routines.texts`` fills them): an incident sends what the version it was
reported under says, for ever. This module only gathers the facts a text may name and puts
the parts together: times in Stockholm time, links, which variant applies.

Only structured facts about the incident are used (scenario, state, times, prognosis): never
the free-text summary or notes, which could hold personal data about a patient.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from incidents import events
from routines.texts import GSM_7_BASIC, SMS_MAX_CHARS, fill, sms_candidates, sms_fits
from runbook.scenarios import RESERVE_ROUTINE

from .models import Channel

__all__ = ["GSM_7_BASIC", "SMS_MAX_CHARS", "render", "render_sms", "sms_fits"]

# What goes out is Swedish whoever acts: the portal, driftinfo, the phone queue and the
# e-mails are read outside the app, in the routine's language.
OUTGOING_LANGUAGE = "sv"
# Driftinfo's request, as the regional IT function's form has it (fields, not wording).
REQUESTED_BY = "Hjälpmedel Region Skåne, Kundservice"
RESTORED = "Driften återställd"
QUEUE = "Kundservice Hjälpmedel"


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def incident_url(incident):
    return settings.SITE_URL + reverse("incidents:detail", args=[incident.pk])


def prognosis_text(incident):
    if incident.prognosis_kind == "at" and incident.prognosis_at:
        return f"Åter i drift beräknas {_local(incident.prognosis_at)}"
    if incident.prognosis_kind == "none":
        return "Ingen prognos"
    return "Prognos saknas"


def next_update(incident, now):
    nxt = now + settings.DRIFTINFO_NEXT_UPDATE
    if incident.has_valid_prognosis(now) and incident.prognosis_at < nxt:
        nxt = incident.prognosis_at
    return nxt


def render(rule, incident, *, recipient_name="", ack_url="", reason=""):
    """(subject, body, payload) for one message of ``rule`` about ``incident``, in Swedish."""
    with translation.override(OUTGOING_LANGUAGE):
        return _render(rule, incident, recipient_name=recipient_name, ack_url=ack_url, reason=reason)


def reference(incident):
    """The incident's reference in what goes out, e.g. HJM-SESAM-12."""
    return f"{incident.routine.messages.reference}-{incident.pk}"


class _Facts(dict):
    """What the placeholders of ``routines.texts`` are filled with, each worked out only when
    a text names it (an e-mail's link needs the site's address; driftinfo's request does not)."""

    def __init__(self, makers, **given):
        super().__init__(given)
        self.makers = makers

    def __missing__(self, name):
        value = self[name] = self.makers[name]()
        return value

    def but(self, **given):
        return _Facts(self.makers, **{**self, **given})


def _values(incident, now, *, end=False):
    words = incident.routine.messages
    own = {"system": words.system}

    def scenario():
        return str(incident.scenario_def.title)

    def reserve_notice():
        return fill(words.reserve_notice, own)

    return _Facts(
        {
            "system": lambda: words.system,
            "reference": lambda: reference(incident),
            "scenario": scenario,
            "began": lambda: _local(incident.began_at),
            "prognosis": lambda: prognosis_text(incident),
            "next_update": lambda: "" if end else _local(next_update(incident, now)),
            "incident_url": lambda: incident_url(incident),
            "affected": lambda: fill(words.scenario_text(incident.scenario, "affected"), own) or scenario(),
            "reserve_notice": reserve_notice,
            "reserve_active": lambda: reserve_notice() if incident.state == "reserve_routine" else "",
            "servicedesk_phone": lambda: str(settings.SERVICEDESK_PHONE),
            "recipient": lambda: "",
            "ack_url": lambda: "",
            "code": lambda: "",
        }
    )


def _render(rule, incident, *, recipient_name, ack_url, reason):
    now = timezone.now()
    words = incident.routine.messages
    template = words.template(rule.channel, rule.action)
    values = _values(incident, now, end=rule.channel == Channel.DRIFTINFO and rule.action == "end")
    ref = values["reference"]
    if rule.channel == Channel.VARDGIVARE_SKANE:
        title, body = fill(template["subject"], values), fill(template["body"], values)
        payload = {"action": rule.action, "notice_id": ref, "title": title, "text": body, "at": now.isoformat()}
        return title, body, payload

    if rule.channel == Channel.DRIFTINFO:
        end = rule.action == "end"
        payload = {
            "action": {"publish": "publish", "update": "update", "end": "update"}[rule.action],
            "reference": ref,
            "system": words.system,
            "status": "Åtgärdad" if end else "Pågår",
            "started_at": incident.began_at.isoformat(),
            "affected": values["affected"],
            "prognosis": RESTORED if end else values["prognosis"],
            "prognosis_at": incident.prognosis_at.isoformat()
            if incident.prognosis_kind == "at" and incident.prognosis_at
            else None,
            "reserve_routine": incident.state == "reserve_routine",
            "next_update": None if end else next_update(incident, now).isoformat(),
            "requested_by": REQUESTED_BY,
        }
        return fill(template["subject"], values), fill(template["body"], values), payload

    if rule.channel == Channel.TELEPHONY:
        text = ""
        if rule.action == "on":
            text = fill(words.scenario_text(incident.scenario, "lavin"), {"system": words.system})
        payload = {"action": rule.action, "queue": QUEUE, "reference": ref, "text": text}
        return fill(template["subject"], values), text, payload

    # E-mail: greeting, what happened, the facts, the acknowledge link if any, the signature.
    if rule.action == "sa_fallback":
        text = template["off_duty" if reason == events.OFF_DUTY else "not_acknowledged"]
    elif rule.action == "resolved" and incident.scenario_def.uses(RESERVE_ROUTINE) and "after_reserve" in template:
        text = template["after_reserve"]
    else:
        text = template["body"]
    email = words.email
    greeting = (
        fill(email["greeting"], values.but(recipient=recipient_name))
        if recipient_name
        else fill(email["greeting_without_name"], values)
    )
    paragraphs = [greeting, fill(text, values), fill(email["facts"], values)]
    if ack_url:
        paragraphs.append(fill(email["ack"], values.but(ack_url=ack_url)))
    paragraphs.append(fill(email["signature"], values))
    body = "\n\n".join(paragraphs)
    return fill(template["subject"], values), body, {"action": rule.action, "reference": ref}


# --- SMS ---------------------------------------------------------------------------------
def render_sms(rule, incident, *, code="", link="", reason=""):
    """(subject, text, payload) of one SMS: the reference, what happened, how to acknowledge.

    No names, no summary, no notes: only what the routine says happened, the app's reference
    and the code. The longest wording that fits one SMS is used; the link is dropped before
    the code if the app's address is too long for both.
    """
    with translation.override(OUTGOING_LANGUAGE):
        words = incident.routine.messages
        template = words.template(rule.channel, rule.action)
        values = _values(incident, timezone.now())
        if rule.action == "sa_fallback":
            whats = template["off_duty" if reason == events.OFF_DUTY else "not_acknowledged"]
        else:
            whats = template["what"]
        candidates = [
            fill(t, values.but(code=code, ack_url=link)) for t in sms_candidates(whats, words.sms, code=code, link=link)
        ]
        text = next((t for t in candidates if sms_fits(t)), candidates[-1][:SMS_MAX_CHARS])
        subject = fill(template["subject"], values)
    return subject, text, {"action": rule.action, "reference": values["reference"], "text": text}
