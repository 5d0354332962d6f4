"""The texts that go out, in Swedish and in the routine's words.

Only structured facts about the incident are used (scenario, state, times, prognosis): never
the free-text summary or notes, which could hold personal data about a patient.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from incidents import events
from routines.loader import DEFAULT_ROUTINE
from runbook.scenarios import FULL_IT_OUTAGE, KUNDSERVICE_LINK_LOSS, RESERVE_ROUTINE, SESAM_UNREACHABLE, TELEPHONY_FAULT

from .models import Channel

# What goes out is Swedish whoever acts: the portal, driftinfo, the phone queue and the
# e-mails are read outside the app, in the routine's language.
OUTGOING_LANGUAGE = "sv"
SYSTEM = "Sesam LMN"
PRODUCT_AREAS = "inkontinenshjälpmedel, speciallivsmedel och diabeteshjälpmedel"
RESERVE_NOTICE = "Reservrutin för akuta förskrivningar gäller – kontakta Kundservice"

AFFECTED = {
    FULL_IT_OUTAGE.key: f"Fullskaligt IT-haveri i Region Skåne; {SYSTEM} kan inte nås av förskrivare eller Kundservice.",
    SESAM_UNREACHABLE.key: f"{SYSTEM} går inte att nå för någon användare: förskrivning av {PRODUCT_AREAS}.",
    KUNDSERVICE_LINK_LOSS.key: f"Kundservice Hjälpmedel har förlorat kontakten med {SYSTEM} (lokal störning). "
    f"{SYSTEM} fungerar för förskrivare.",
    TELEPHONY_FAULT.key: "Störningar i telefonin till Kundservice Hjälpmedel.",
}

LAVIN_TEXT = {
    KUNDSERVICE_LINK_LOSS.key: "Du har kommit till Kundservice Hjälpmedel. Just nu har vi en lokal "
    f"störning och når inte {SYSTEM}. Vi arbetar via tjänstemobiler och kan svara långsammare "
    "än vanligt. Mer information finns på regionala driftinfo.",
    TELEPHONY_FAULT.key: "Du har kommit till Kundservice Hjälpmedel. Vi har just nu störningar i "
    "telefonin och du kan behöva vänta längre än vanligt. Mer information finns på regionala driftinfo.",
    SESAM_UNREACHABLE.key: f"Du har kommit till Kundservice Hjälpmedel. {SYSTEM} går just nu inte "
    "att nå. Mer information och prognos finns på regionala driftinfo. Vänligen avvakta.",
    FULL_IT_OUTAGE.key: "Du har kommit till Kundservice Hjälpmedel. Region Skåne har just nu en "
    "omfattande IT-störning. Mer information finns på regionala driftinfo.",
}


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


def _own(incident):
    return incident.routine.routine_key in ("", DEFAULT_ROUTINE)


def _system_and_ref(incident):
    """The system and the reference of the incident's own routine: Sesam LMN's texts keep
    their reference (HJM-SESAM-12); another routine's say its system (HJM-JOURNALIA-12)."""
    if _own(incident):
        return SYSTEM, f"HJM-SESAM-{incident.pk}"
    routine = incident.routine
    return routine.system, f"HJM-{routine.routine_key.upper()}-{incident.pk}"


def _render(rule, incident, *, recipient_name, ack_url, reason):
    now = timezone.now()
    scenario = str(incident.scenario_def.title)
    routine = incident.routine
    own = _own(incident)
    system, ref = _system_and_ref(incident)
    if rule.channel == Channel.VARDGIVARE_SKANE:
        if rule.action == "publish":
            text = RESERVE_NOTICE
            body = (
                f"{system} går inte att nå. {RESERVE_NOTICE}. Förskrivare som behöver göra en "
                f"akut förskrivning av {PRODUCT_AREAS} kontaktar Kundservice Hjälpmedel. "
                "Mer information och prognos finns på regionala driftinfo."
            )
        else:
            text = "Reservrutinen för akuta förskrivningar gäller inte längre"
            body = f"Driften av {system} är återställd. Förskriv som vanligt i {system}."
        payload = {"action": rule.action, "notice_id": ref, "title": text, "text": body, "at": now.isoformat()}
        return text, body, payload

    if rule.channel == Channel.DRIFTINFO:
        status = "Åtgärdad" if rule.action == "end" else "Pågår"
        reserve = incident.state == "reserve_routine"
        lines = [
            f"{system}: {scenario}",
            f"Start: {_local(incident.began_at)}",
            f"Påverkan: {AFFECTED.get(incident.scenario, scenario)}",
            f"Prognos: {prognosis_text(incident) if rule.action != 'end' else 'Driften återställd'}",
        ]
        if reserve:
            lines.append(f"{RESERVE_NOTICE}.")
        payload = {
            "action": {"publish": "publish", "update": "update", "end": "update"}[rule.action],
            "reference": ref,
            "system": system,
            "status": status,
            "started_at": incident.began_at.isoformat(),
            "affected": AFFECTED.get(incident.scenario, scenario),
            "prognosis": prognosis_text(incident) if rule.action != "end" else "Driften återställd",
            "prognosis_at": incident.prognosis_at.isoformat()
            if incident.prognosis_kind == "at" and incident.prognosis_at
            else None,
            "reserve_routine": reserve,
            "next_update": None if rule.action == "end" else next_update(incident, now).isoformat(),
            "requested_by": "Hjälpmedel Region Skåne, Kundservice",
        }
        if payload["next_update"]:
            lines.append(f"Nästa uppdatering: {_local(next_update(incident, now))}")
        verb = {
            "publish": "Begäran om driftinfo",
            "update": "Uppdatering av driftinfo",
            "end": "Driftinfo: driften återställd",
        }[rule.action]
        return f"{verb}: {system} ({ref})", "\n".join(lines), payload

    if rule.channel == Channel.TELEPHONY:
        on = rule.action == "on"
        text = LAVIN_TEXT.get(incident.scenario, LAVIN_TEXT[SESAM_UNREACHABLE.key]) if on else ""
        payload = {"action": rule.action, "queue": "Kundservice Hjälpmedel", "reference": ref, "text": text}
        subject = "Lavinmeddelande på telefonslingan" if on else "Lavinmeddelande tas bort från telefonslingan"
        return subject, text, payload

    # E-mail.
    greeting = f"Hej {recipient_name}," if recipient_name else "Hej,"
    link = incident_url(incident)
    subjects = {
        "new_incident": f"Driftstörning anmäld: {scenario}",
        "escalation": f"Eskalering till systemansvarig: {system} går inte att nå",
        "sa_fallback": f"{system} går inte att nå – systemansvarig nås inte",
        "prognosis_passed": f"Prognosen för {system} har passerat",
        "reserve_routine": f"Reservrutin aktiverad: {system}",
        "resolved": f"Driften återställd: {system}",
    }
    texts = {
        "new_incident": f"En driftstörning har anmälts till Kundservice: {scenario}. "
        f"Påverkan: {AFFECTED.get(incident.scenario, scenario)}",
        "escalation": f"Hjälpmedel anmäler att {system} inte går att nå för någon användare"
        + (", men IT-miljön i Region Skåne i övrigt är opåverkad. " if own else ". ")
        + "Kvittera att du tagit emot eskaleringen och ange prognos.",
        "sa_fallback": f"{system} går inte att nå för någon användare. Systemansvarig "
        + ("är inte i tjänst." if reason == events.OFF_DUTY else "har inte kvitterat eskaleringen.")
        + " Enligt rutinen kontaktas enhetschef för SA samt en incident skapas hos Servicedesk "
        f"({settings.SERVICEDESK_PHONE} eller i Ritz).",
        "prognosis_passed": f"Prognosen för {system} har passerat och driften är inte återställd. "
        "Prognosen räknas som saknad; ange en ny prognos.",
        "reserve_routine": f"{RESERVE_NOTICE}. Efter 4 timmar utan prognos är reservrutin för "
        "akuta förskrivningar aktiverad. Information publiceras på Vårdgivare Skåne.",
        "resolved": f"Driften av {system} är återställd."
        + (
            f" Akuta förskrivningar som tagits under reservrutinen läggs in i {system}."
            if incident.scenario_def.uses(RESERVE_ROUTINE)
            else ""
        ),
    }
    lines = [
        greeting,
        "",
        texts[rule.action],
        "",
        f"Störningen började: {_local(incident.began_at)}",
        f"Prognos: {prognosis_text(incident)}",
        "",
        f"Störningen i appen: {link}",
    ]
    if ack_url:
        lines += ["", "Kvittera eskaleringen (länken gäller en gång, bara för dig):", ack_url]
    lines += ["", f"Hjälpmedel Region Skåne – {routine.routine_name or 'Driftstörningsrutin Sesam LMN'}"]
    body = "\n".join(lines)
    return subjects[rule.action], body, {"action": rule.action, "reference": ref}


# --- SMS ---------------------------------------------------------------------------------
SMS_MAX_CHARS = 160
# The GSM 03.38 default alphabet: a message in these characters alone is one SMS of up to 160
# (one character outside it and the whole message is UCS-2, at most 70 a part). Å, Ä, Ö are in it.
GSM_7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_fits(text):
    return len(text) <= SMS_MAX_CHARS and set(text) <= GSM_7_BASIC


def render_sms(rule, incident, *, code="", link="", reason=""):
    """(subject, text, payload) of one SMS: the reference, what happened, how to acknowledge.

    No names, no summary, no notes: only what the routine says happened, the app's reference
    and the code. The longest wording that fits one SMS is used; the link is dropped before
    the code if the app's address is too long for both.
    """
    system, ref = _system_and_ref(incident)
    if rule.action == "sa_fallback":
        what = "SA är inte i tjänst" if reason == events.OFF_DUTY else "SA har inte kvitterat"
        fact = f"{system} går inte att nå ({ref}), {what}."
        short_fact = f"{system} nås inte ({ref}), {what}."
    else:
        fact = f"{system} går inte att nå för någon användare ({ref})."
        short_fact = f"{system} nås inte ({ref})."
    candidates = []
    for head in (fact, short_fact):
        if code and link:
            candidates += [
                f"{head} Kvittera: {link} eller svara {code}. /Hjälpmedel",
                f"{head} Kvittera: {link} eller svara {code}",
            ]
    for head in (fact, short_fact):
        candidates += [
            f"{head} Svara {code} för att kvittera. /Hjälpmedel" if code else f"{head} /Hjälpmedel",
            f"{head} Svara {code} för att kvittera." if code else head,
        ]
    text = next((t for t in candidates if sms_fits(t)), candidates[-1][:SMS_MAX_CHARS])
    subject = {"escalation": "SMS: eskalering till systemansvarig", "sa_fallback": "SMS: systemansvarig nås inte"}.get(
        rule.action, "SMS"
    )
    return subject, text, {"action": rule.action, "reference": ref, "text": text}
