"""What every page needs to be part of the installable app: two tags for base.html."""

import json

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from incidents.forms import report_field_name
from routines import loader

from ..views import THEME_COLOR

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_head(context):
    """The manifest, and the script that registers the service worker and keeps the outbox,
    with its words in the reader's language (no inline script: the CSP allows none)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    username = user.get_username() if user is not None and user.is_authenticated else ""
    return format_html(
        '<link rel="manifest" href="{}">\n  <meta name="theme-color" content="{}">\n'
        '  <script src="{}" data-sw="{}" data-submit="{}" data-user="{}" data-tz="{}" data-health="{}" data-texts="{}" defer></script>',
        reverse("offline:manifest"),
        THEME_COLOR,
        static("js/offline.js"),
        reverse("offline:service_worker"),
        reverse("offline:submit"),
        username,
        settings.TIME_ZONE,
        reverse("healthz"),
        json.dumps(texts(), ensure_ascii=False),
    )


@register.simple_tag
def offline_form(kind, incident=None, routine=None):
    """Attributes for a form that keeps working offline: ``<form {% offline_form "incident" %}>``.

    ``kind`` is ``incident`` (Anmäl störning, with the triage guide's rules so that the device
    can propose a scenario; ``routine``: the version the form reports in, default the app's
    own in force) or ``caller_report`` (with the incident's id).
    """
    attrs = format_html(' data-offline="{}"', kind)
    if kind == "incident":
        # A "no" to the question proposes the scenario, as the routine in force says.
        version = routine or loader.in_force()
        rules = [
            [report_field_name(question), key] for question, answer, key in version.triage_proposals if answer is False
        ]
        attrs += format_html(' data-triage-rules="{}"', json.dumps(rules))
        if version.routine_key != loader.DEFAULT_ROUTINE:
            # Its draft on the device is kept apart from the other systems' forms.
            attrs += format_html(' data-routine="{}"', version.routine_key)
    if incident is not None:
        attrs += format_html(' data-incident="{}"', incident)
    return attrs


def texts():
    """The script's words, in the reader's language (the script itself holds none)."""
    return {
        "saved": _("Sparad på enheten kl. {time}. Den skickas när nätet är tillbaka."),
        "waiting": _("Sparat på enheten, väntar på nätet:"),
        "incident": _("Anmälan: {summary}"),
        "caller_report": _("Samtal till störning {incident}: {summary}"),
        "made": _("gjord {time}"),
        "sent": _("Skickad: {what}."),
        "open": _("Öppna störningen"),
        "refused": _("Kunde inte skickas: {message}"),
        "login": _("Logga in för att skicka det som sparats på enheten."),
        "remove": _("Ta bort från enheten"),
        "confirm": _("Bekräfta och skicka"),
        "other_user": _("Sparat på enheten av en annan användare: {n}. Det skickas när den personen loggar in här."),
        "age": _("Sparad på enheten {time}, {age} gammal."),
        "age_new": _("mindre än en minut"),
        "minute": _("1 minut"),
        "minutes": _("{n} minuter"),
        "hour": _("1 timme"),
        "hours": _("{n} timmar"),
        "day": _("1 dag"),
        "days": _("{n} dagar"),
        "stale": _("Kopian kan vara inaktuell. Kontrollera kontakterna när nätet är tillbaka."),
        "offline_page": _(
            "Ingen kontakt med servern. Sidan du bad om behöver nätet; här är rutinen som är sparad på enheten."
        ),
        "offline_form": _(
            "Ingen kontakt med servern. Det du skickar nu sparas på enheten och skickas när nätet är tillbaka."
        ),
        "proposal": _("Förslag utifrån svaren (räknat på enheten): {title}. Bekräfta eller välj ett annat."),
        "draft": _("Det du skrev offline är återställt från enheten."),
        "missing": _("Fyll i det som är markerat med * och välj scenario innan du sparar."),
    }
