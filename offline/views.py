"""The installable web app: its manifest, its service worker, the pages kept on the device,
and where the device sends what was registered while the network was down."""

import hashlib
import json
import uuid
from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from incidents import forms as incident_forms
from incidents import permissions
from incidents.services import ActionRefused, NeedsConfirmation
from incidents.timeline import in_record_language
from routines import loader

from . import selectors, services

THEME_COLOR = "#0b5394"
# The app's own files the device keeps, so that the kept pages look and work offline.
KEPT_STATIC = (
    "css/app.css",
    "js/app.js",
    "js/offline.js",
    "django_htmx/htmx-2.min.js",
    "img/favicon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
)
STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409, "rate_limited": 429}


def kept_pages():
    """The pages the device keeps: the routine pack first (shown when a page needs the network),
    then Anmäl störning and, with more than one routine, its form for each system."""
    pages = [reverse("offline:pack"), reverse("incidents:report")]
    systems = loader.routines_in_force()
    if len(systems) > 1:
        pages += [reverse("incidents:report_routine", args=[v.routine_key]) for v in systems]
    return pages


@cache
def _version():
    """Changes when a kept file changes, so that the device takes new copies. A new routine
    version needs no new worker: the kept pages are fetched afresh while online (network
    first, and every few minutes, static/js/offline.js)."""
    digest = hashlib.sha256()
    for name in KEPT_STATIC:
        path = finders.find(name)
        if path:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


@login_not_required
@require_GET
def service_worker(request):
    """Served from the app's own origin at its root, so that its scope covers every page."""
    response = render(
        request,
        "offline/sw.js",
        {
            "version": _version(),
            "pages": json.dumps(kept_pages()),
            "static": json.dumps([static(name) for name in KEPT_STATIC]),
        },
        content_type="text/javascript; charset=utf-8",
    )
    # The browser checks for a new worker at each visit; never an old copy from a cache.
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_GET
def manifest(request):
    data = {
        "name": _("Driftstörningsrutin Sesam LMN"),
        "short_name": _("Driftstörning"),
        "description": _("Region Skånes rutin för driftstörning i Sesam LMN, även utan nät."),
        "lang": get_language(),
        "start_url": reverse("incidents:live"),
        "scope": reverse("incidents:live"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def pack(request):
    """Rutinen på enheten: the routine, the caller scripts, the triage guide and the contacts."""
    if not permissions.has(request.user, "view_incident"):
        return render(request, "403.html", status=403)
    return render(request, "offline/pack.html", selectors.device_pack() | {"report_url": reverse("incidents:report")})


def _error(status, code, message, errors=()):
    return JsonResponse({"code": code, "message": str(message), "errors": list(errors)}, status=status)


def _form_errors(form):
    errors = [{"field": name, "message": str(msg)} for name, msgs in form.errors.items() for msg in msgs]
    return _error(400, "invalid", errors[0]["message"] if errors else _("Ogiltig registrering."), errors)


def _answer(submission, created):
    incident = submission.incident
    return JsonResponse(
        {
            "status": "created" if created else "already_received",
            "incident": incident.pk,
            "url": reverse("incidents:detail", args=[incident.pk]),
            "made_at": submission.made_at.isoformat(),
            "received_at": submission.received_at.isoformat(),
        },
        status=201 if created else 200,
    )


@login_not_required  # answers 401 in its own shape: the device keeps what it could not send
@never_cache
@require_POST
def submit(request):
    """One report or call kept on the device: ``{client_id, kind, made_at, incident?, fields}``."""
    if not request.user.is_authenticated:
        return _error(401, "unauthorized", _("Logga in igen för att skicka det som sparats på enheten."))
    try:
        payload = json.loads(request.body)
        client_id = uuid.UUID(str(payload["client_id"]))
        made_at = parse_datetime(str(payload["made_at"]))
        kind = payload["kind"]
        fields = payload["fields"]
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise ValueError("fields")
        incident_id = int(payload["incident"]) if kind == "caller_report" else None
        confirmed = payload.get("confirmed") or []
        if not isinstance(confirmed, list) or not all(isinstance(k, str) for k in confirmed):
            raise ValueError("confirmed")
    except (ValueError, KeyError, TypeError):
        return _error(400, "invalid", _("Registreringen från enheten kunde inte läsas."))
    # The device says when in UTC (toISOString): a time without its offset is not its own.
    if made_at is None or timezone.is_naive(made_at):
        return _error(400, "invalid", _("Tiden från enheten saknas eller saknar tidszon."))

    existing = services.received(client_id)
    if existing is not None:
        return _answer(existing, created=False)
    try:
        with in_record_language():
            if kind == "incident":
                # A report kept before the form named its routine is in the app's own.
                try:
                    routine = loader.in_force(fields.get("routine") or loader.DEFAULT_ROUTINE)
                except loader.NoVersionInForce:
                    return _error(400, "invalid", _("Okänd rutin: det finns ingen publicerad rutin med den nyckeln."))
                form = incident_forms.ReportForm(fields, routine=routine)
                if not form.is_valid():
                    return _form_errors(form)
                submission, created = services.submit_report(
                    request.user,
                    client_id=client_id,
                    made_at=made_at,
                    routine=routine.routine_key,
                    scenario=form.cleaned_data["scenario"],
                    summary=form.cleaned_data["summary"],
                    began_at=form.cleaned_data.get("began_at"),
                    triage=form.triage_answers(),
                    confirmed=confirmed,
                )
            elif kind == "caller_report":
                form = incident_forms.CallerReportForm(fields)
                if not form.is_valid():
                    return _form_errors(form)
                submission, created = services.submit_caller_report(
                    request.user,
                    incident_id,
                    client_id=client_id,
                    made_at=made_at,
                    functions=form.cleaned_data["functions"],
                    error_message=form.cleaned_data["error_message"],
                    prescribers=form.cleaned_data["prescribers"],
                    since=form.cleaned_data.get("since"),
                    confirmed=confirmed,
                )
            else:
                return _error(400, "invalid", _("Okänd sorts registrering."))
    except NeedsConfirmation as refused:
        # Nothing was made: the device shows the warnings and sends again once confirmed.
        return JsonResponse(
            {
                "code": "needs_confirmation",
                "message": refused.message,
                "warnings": [{"key": key, "message": message} for key, message in refused.warnings],
                "errors": [],
            },
            status=400,
        )
    except ActionRefused as refused:
        return _error(STATUS.get(refused.code, 409), refused.code, refused.message)
    return _answer(submission, created)
