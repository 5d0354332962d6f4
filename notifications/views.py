"""Pages: the acknowledge link, the rules table, resend, and the stub receivers."""

import json
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.db.models import F
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import permissions as incident_permissions
from incidents.models import Incident, State, Timer
from incidents.services import ActionRefused
from incidents.timeline import in_record_language
from routines import loader
from runbook import drill_endpoints

from . import ack, rules, services, sms, stubs
from .models import Channel, DrillReceipt, Notification, StubMessage, StubMode

# Lazy: read in the language of whoever opens the link, not the one at import.
LINK_REFUSALS = {
    "expired": gettext_lazy("Länken har gått ut. Kvittera i stället på störningens sida."),
    "invalid": gettext_lazy("Länken är ogiltig eller har ändrats."),
    "used": gettext_lazy("Länken har redan använts. En kvitteringslänk fungerar bara en gång."),
    "foreign": gettext_lazy(
        "Länken är skickad till en annan person. Logga in som mottagaren eller kvittera på störningens sida."
    ),
}


def _refused(request, message, incident_id=None, status=403):
    return render(
        request,
        "notifications/ack_refused.html",
        {"message": message, "incident_id": incident_id},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def acknowledge_link(request, token):
    """Kvittera via länk: GET shows what will happen; only the POST acknowledges."""
    try:
        incident_id, _nonce = ack.read_token(token, request.user)
    except ack.LinkRefused as refused:
        return _refused(
            request, LINK_REFUSALS[refused.reason], status=410 if refused.reason in ("expired", "used") else 403
        )
    try:
        incident = Incident.objects.get(pk=incident_id)
    except Incident.DoesNotExist:
        raise Http404 from None
    if request.method == "POST":
        try:
            with in_record_language():
                services.acknowledge_from_link(request.user, token)
        except ack.LinkRefused as refused:
            return _refused(request, LINK_REFUSALS[refused.reason], incident.pk, status=410)
        except ActionRefused as refused:
            return _refused(request, refused.message, incident.pk, status=409)
        flash.success(request, _("Eskaleringen är kvitterad."))
        return redirect("incidents:detail", incident.pk)
    if incident.state != State.ESCALATED:
        return _refused(
            request,
            _("Störningen har status ”%(state)s” och kan inte kvitteras via länken.")
            % {"state": incident.get_state_display()},
            incident.pk,
            status=409,
        )
    return render(request, "notifications/ack_confirm.html", {"incident": incident, "token": token})


@require_http_methods(["GET", "POST"])
def acknowledge_sms_link(request, token):
    """Kvittera via länken i SMS: like the e-mail's link, GET shows, only the POST acknowledges."""
    try:
        row = sms.ack_for_link(token)
    except ack.LinkRefused as refused:
        return _refused(
            request, LINK_REFUSALS[refused.reason], status=410 if refused.reason in ("expired", "used") else 403
        )
    incident = Incident.objects.get(pk=row.incident_id)
    if request.method == "POST":
        try:
            with in_record_language():
                sms.acknowledge_from_link(request.user, token)
        except ack.LinkRefused as refused:
            return _refused(request, LINK_REFUSALS[refused.reason], incident.pk, status=410)
        except ActionRefused as refused:
            return _refused(request, refused.message, incident.pk, status=409 if refused.code == "conflict" else 403)
        flash.success(request, _("Eskaleringen är kvitterad."))
        return redirect("incidents:detail", incident.pk)
    if incident.state != State.ESCALATED:
        return _refused(
            request,
            _("Störningen har status ”%(state)s” och kan inte kvitteras via länken.")
            % {"state": incident.get_state_display()},
            incident.pk,
            status=409,
        )
    return render(request, "notifications/ack_confirm.html", {"incident": incident, "token": token})


@csrf_exempt
@login_not_required
@require_POST
def sms_webhook(request):
    """The SMS gateway's inbound webhook: a signed reply; one with the code acknowledges."""
    try:
        result = sms.receive(
            request.body,
            request.headers.get("X-Sms-Timestamp", ""),
            request.headers.get("X-Sms-Signature", ""),
        )
    except sms.WebhookRefused as refused:
        return JsonResponse({"error": refused.reason}, status=refused.status)
    return JsonResponse(result)


@require_GET
def rules_page(request):
    """Vilken händelse skickar vad – the rules table for Verksamhetsansvarig."""
    if not services.may_view_rules(request.user):
        return render(request, "403.html", status=403)
    in_force = loader.in_force()
    by_scenario = OrderedDict()
    for scenario in in_force.scenarios.values():
        by_scenario[scenario] = [r for r in rules.rules_of(in_force) if scenario.key in r.scenarios]
    return render(
        request,
        "notifications/rules.html",
        {
            "by_scenario": by_scenario,
            "timer_notes": [(Timer.Kind(k).label, note) for k, note in rules.TIMER_NOTES.items()],
            "fallbacks": [(Channel(c).label, role, label) for c, (role, label) in rules.MANUAL_FALLBACK.items()],
            "group_labels": {
                rules.SA: _("Systemansvarig (användare och kontakter)"),
                rules.SA_MANAGER: _("Enhetschef för SA (kontakt)"),
                rules.SUBSCRIBERS: _("Prenumeranter"),
            },
        },
    )


@require_POST
def resend(request, pk):
    try:
        with in_record_language():
            notification = services.resend(request.user, pk)
    except ActionRefused as refused:
        if refused.code == "not_found":
            raise Http404 from None
        if refused.code == "forbidden":
            return render(request, "403.html", status=403)
        flash.error(request, refused.message)
        incident_id = Notification.objects.filter(pk=pk).values_list("incident_id", flat=True).first()
        return redirect(reverse("incidents:detail", args=[incident_id]) + "#meddelanden")
    flash.success(request, _("Meddelandet skickas om."))
    # As after any action on the incident page: it opens at the confirmation, which has the focus.
    return redirect(reverse("incidents:detail", args=[notification.incident_id]) + "#bekraftelse")


# --- stub receivers (demo and tests; off in production) ----------------------------------


def _stub_channel(channel):
    if not settings.STUBS_ENABLED or channel not in Channel.values:
        raise Http404


def _mode(channel):
    return StubMode.objects.filter(channel=channel).values_list("mode", flat=True).first() or StubMode.Mode.OK


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def stub(request, channel):
    """A stand-in for the real receiver: stores what arrives, once per idempotency key.

    Receiving takes the shared secret (``stubs``); reading takes a signed-in person with
    the permission, or the secret for the JSON list."""
    _stub_channel(channel)
    if request.method == "POST":
        if not stubs.has_secret(request):
            return JsonResponse({"error": "stubbens hemlighet saknas eller är fel"}, status=403)
        return _stub_receive(request, channel)
    as_json = request.GET.get("format") == "json"
    if not (stubs.may_view(request.user) or (as_json and stubs.has_secret(request))):
        return _stub_refused(request)
    received = list(StubMessage.objects.filter(channel=channel))
    if as_json:
        return JsonResponse(
            {
                "channel": channel,
                "mode": _mode(channel),
                "messages": [
                    {
                        "idempotency_key": m.idempotency_key,
                        "received_at": m.received_at.isoformat(),
                        "duplicates": m.duplicates,
                        "payload": m.payload,
                    }
                    for m in received
                ],
            }
        )
    current = OrderedDict()
    for m in reversed(received):  # oldest first, so the latest per reference wins
        ref = (
            m.payload.get("notice_id") or m.payload.get("reference") or m.payload.get("recipient") or m.idempotency_key
        )
        current[ref] = m
    return render(
        request,
        "notifications/stub.html",
        {
            "channel": channel,
            "channel_label": Channel(channel).label,
            "mode": _mode(channel),
            "modes": StubMode.Mode.choices,
            "received": received,
            "current": [m for m in reversed(list(current.values()))],
            "channels": Channel.choices,
            # SMS: each as the phone shows it, with a reply that carries its code.
            "sms": [(m, (ack.codes_in(m.payload.get("text")) or [""])[-1]) for m in received]
            if channel == Channel.SMS
            else [],
        },
    )


def _posted_notice(request):
    """(idempotency key, JSON payload, None) of a notice posted to a receiver, or a 400 saying
    what is wrong with it as the third."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 120:
        return key, None, JsonResponse({"error": "Idempotency-Key saknas"}, status=400)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return key, None, JsonResponse({"error": "ogiltig JSON"}, status=400)
    if not isinstance(payload, dict):
        return key, None, JsonResponse({"error": "ett JSON-objekt väntas"}, status=400)
    return key, payload, None


def _stub_receive(request, channel):
    mode = _mode(channel)
    if mode == StubMode.Mode.FAIL:
        return JsonResponse({"error": "tillfälligt fel (stubbe i felläge)"}, status=503)
    key, payload, refused = _posted_notice(request)
    if refused:
        return refused
    with transaction.atomic():
        message, created = StubMessage.objects.get_or_create(
            channel=channel, idempotency_key=key, defaults={"payload": payload}
        )
        if not created:
            StubMessage.objects.filter(pk=message.pk).update(duplicates=F("duplicates") + 1)
    if mode == StubMode.Mode.SLOW:
        time.sleep(settings.STUB_SLOW_SECONDS)
    return JsonResponse({"id": message.pk, "duplicate": not created}, status=201 if created else 200)


def _stub_refused(request):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return render(request, "403.html", status=403)


@require_POST
def stub_sms_reply(request):
    """The SMS stub answers as a phone would: a reply from the number an SMS went to, sent to
    the inbound webhook signed with the shared secret, as the real gateway does."""
    _stub_channel(Channel.SMS)
    if not stubs.may_view(request.user):
        return _stub_refused(request)
    sender = request.POST.get("from", "").strip()[:30]
    text = request.POST.get("text", "").strip()[:160]
    if not sender or not text:
        flash.error(request, _("Ange nummer och svarstext."))
        return redirect("notifications:stub", Channel.SMS)
    body = json.dumps({"from": sender, "text": text}).encode()
    timestamp = str(int(time.time()))
    try:
        result = sms.receive(body, timestamp, sms.sign(body, timestamp))
    except sms.WebhookRefused as refused:
        flash.error(request, _("Webhooken vägrade svaret: %(reason)s") % {"reason": refused.reason})
    else:
        flash.success(request, STUB_REPLY_OUTCOMES.get(result["outcome"], result["outcome"]))
    return redirect("notifications:stub", Channel.SMS)


STUB_REPLY_OUTCOMES = {
    "acknowledged": gettext_lazy("Svaret togs emot: eskaleringen är kvitterad."),
    "no_code": gettext_lazy("Svaret togs emot men innehöll ingen kod: inget hände."),
    "unknown_code": gettext_lazy("Koden hör inte till ett SMS till det numret: inget hände."),
    "used": gettext_lazy("Koden är redan använd: inget hände."),
    "expired": gettext_lazy("Koden har gått ut: inget hände."),
    "not_escalated": gettext_lazy("Störningen väntar inte på kvittering: inget hände."),
}


@login_not_required
@require_POST
def stub_mode(request, channel):
    _stub_channel(channel)
    if not stubs.may_view(request.user):
        return _stub_refused(request)
    mode = request.POST.get("mode")
    if mode not in StubMode.Mode.values:
        return JsonResponse({"error": "okänt läge"}, status=400)
    StubMode.objects.update_or_create(channel=channel, defaults={"mode": mode})
    return redirect("notifications:stub", channel)


# --- the drill receivers (in production too: drills are run there) ------------------------

DRILL_RECEIPTS_SHOWN = 200


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST"])
def drill_receiver(request, channel):
    """Övningens mottagare: stands in for Vårdgivare Skåne, driftinfo or the phone queue
    during a drill (the default DRILL_*_URL). It takes only the app's own drill notices (the
    stubs' shared secret, an idempotency key of a drill's notice on this channel) and keeps
    each once; the drill's incident page shows what arrived. GET ``?incident=<id>`` lists
    one drill's as JSON, for the secret or a person who may see incidents."""
    if channel not in drill_endpoints.DRILL_CHANNELS:
        raise Http404
    if request.method == "POST":
        if not stubs.has_secret(request):
            return JsonResponse({"error": "stubbens hemlighet saknas eller är fel"}, status=403)
        return _drill_receive(request, channel)
    if not (stubs.has_secret(request) or incident_permissions.has(request.user, "view_incident")):
        return _stub_refused(request)
    try:
        incident_id = int(request.GET.get("incident", ""))
    except ValueError:
        return JsonResponse({"error": "ange ?incident=<id>"}, status=400)
    received = DrillReceipt.objects.filter(channel=channel, incident_id=incident_id).select_related("notification")
    return JsonResponse(
        {
            "channel": channel,
            "incident": incident_id,
            "messages": [
                {
                    "idempotency_key": r.notification.idempotency_key,
                    "received_at": r.received_at.isoformat(),
                    "duplicates": r.duplicates,
                    "payload": r.payload,
                }
                for r in received[:DRILL_RECEIPTS_SHOWN]
            ],
        }
    )


def _drill_receive(request, channel):
    key, payload, refused = _posted_notice(request)
    if refused:
        return refused
    notification = Notification.objects.filter(idempotency_key=key, channel=channel, drill=True).first()
    if notification is None:
        # Anything but a drill's own notice is not the drill receiver's to keep.
        return JsonResponse({"error": "inget övningsmeddelande med den nyckeln"}, status=422)
    with transaction.atomic():
        receipt, created = DrillReceipt.objects.get_or_create(
            notification=notification,
            defaults={"incident_id": notification.incident_id, "channel": channel, "payload": payload},
        )
        if not created:
            DrillReceipt.objects.filter(pk=receipt.pk).update(duplicates=F("duplicates") + 1)
    return JsonResponse({"id": receipt.pk, "duplicate": not created}, status=201 if created else 200)
