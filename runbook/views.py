import json
import logging
import sys
from datetime import date

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, requires_csrf_token
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language
from prometheus_client import CONTENT_TYPE_LATEST

from runbook.errors import ActionRefused

from . import health, language, monitoring, oidc, services
from .forms import LimitsSaidForm
from .models import ApiToken

log = logging.getLogger(__name__)


class TokenForm(LimitsSaidForm):
    name = forms.CharField(
        label=gettext_lazy("Namn på nyckeln"),
        max_length=ApiToken._meta.get_field("name").max_length,
        required=False,
        help_text=gettext_lazy("Till exempel verktyget eller skriptet som ska använda den."),
    )


@login_not_required
@require_GET
@never_cache
def healthz(request):
    """The process is up."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
@never_cache
def readyz(request):
    """Ready when the database and the broker answer and the scheduler has swept lately."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = "ok" if health.broker_reachable() else "error"
    if checks["database"] == "ok":
        stale = health.scheduler_stale()
        checks["scheduler"] = "ok" if stale is None else f"stale since {stale}"
    else:
        checks["scheduler"] = "unknown"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    if may_read_health_detail(request):
        body["checks"] = checks
        if checks["database"] == "ok":
            # Reported, not a reason to take the app out of service: a person has a task for each.
            failing = health.failing_deadlines()
            body["deadlines"] = "ok" if not failing else f"{failing} failing to fire"
    return JsonResponse(body, status=200 if ready else 503)


@login_not_required
@require_GET
@never_cache
def metrics(request):
    """Prometheus's scrape: the figures IT alerts on, read from the database now."""
    refused = monitoring.refusal(request)
    if refused == monitoring.Refusal.OFF:
        return HttpResponse(
            _("Mätvärdena är avstängda: ange METRICS_TOKEN eller METRICS_ALLOWED_NETWORKS."),
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    if refused == monitoring.Refusal.NETWORK:
        return HttpResponse(
            _("Mätvärdena läses inte från den här adressen."), status=403, content_type="text/plain; charset=utf-8"
        )
    if refused == monitoring.Refusal.TOKEN:
        response = HttpResponse(
            _("Mätvärdena kräver en giltig nyckel (Authorization: Bearer)."),
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(monitoring.exposition(), content_type=CONTENT_TYPE_LATEST)


def may_read_health_detail(request):
    """What is down, and since when, is for monitoring (``Authorization: Bearer`` with
    READYZ_TOKEN) and for people signed in; a stranger learns only ok or not ok."""
    token = settings.READYZ_TOKEN
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and constant_time_compare(given.strip(), token):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _database_down(exc):
    """Whether an unhandled error is the database not answering (as opposed to a bug)."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


@requires_csrf_token
def server_error(request, *args, **kwargs):
    """500, and 503 when the database cannot be reached: the API answers in its own shape,
    pages with a Swedish page that needs neither the database nor the session."""
    from django.template import loader

    exc = sys.exc_info()[1]
    down = _database_down(exc)
    status = 503 if down else 500
    if request.path.startswith("/api/"):
        body = {
            "code": "unavailable" if down else "error",
            "message": str(
                _("Tjänsten kan inte nå sin databas. Inget har sparats; försök igen om en stund.")
                if down
                else _("Ett oväntat fel inträffade. Försök igen; kontrollera först om något redan sparats.")
            ),
            "errors": [],
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
        )
    else:
        html = loader.get_template("500.html").render({"database_down": down})
        response = HttpResponse(html, status=status)
    if down:
        response["Retry-After"] = "30"
    add_never_cache_headers(response)
    return response


def forbidden(request, exception=None):
    return render(request, "403.html", status=403)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


@login_not_required
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    from .api import error_response

    return error_response(request, "not_found", _("Finns inte."))


@require_http_methods(["GET", "POST"])
def tokens(request):
    """API-nycklar: the person's own tokens; a new one is shown once, when it is made."""
    new_key = None
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, new_key = services.issue_token(request.user, form.cleaned_data["name"])
            except ActionRefused as refused:
                form.add_error("name", refused.message)
                status = 400
            else:
                form = TokenForm()
        else:
            status = 400
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    response = render(request, "runbook/tokens.html", context, status=status)
    if new_key:
        # The token in clear is in this page only: keep it out of every cache.
        add_never_cache_headers(response)
    return response


@require_POST
def revoke_token(request, token_id):
    try:
        token = services.revoke_token(request.user, token_id)
    except ActionRefused as refused:
        if refused.code == "not_found":
            raise Http404 from None
        raise
    messages.success(request, _("API-nyckeln ”%(name)s” är återkallad.") % {"name": token.name})
    return redirect("tokens")


# When the statement's assessment was last made (DIGG asks for the date); change it with it.
ACCESSIBILITY_ASSESSED_ON = date(2026, 12, 3)


@login_not_required
@require_GET
def accessibility(request):
    """Tillgänglighetsredogörelse, as DIGG prescribes it: open to anyone, signed in or not."""
    return render(
        request,
        "runbook/accessibility.html",
        {
            "contact_email": settings.ACCESSIBILITY_CONTACT_EMAIL,
            "assessed_on": ACCESSIBILITY_ASSESSED_ON,
            "idle_minutes": settings.SESSION_IDLE_MINUTES,
        },
    )


@login_not_required
@require_POST
def set_language(request):
    """The language form in the header: Django's view, and the choice kept with the person."""
    response = django_set_language(request)
    language.remember(request, request.POST.get("language", ""))
    return response


# --- sign-in --------------------------------------------------------------------------------

OIDC_NEXT = "oidc_next"


class LoginView(auth_views.LoginView):
    """The password form, and, when the region's identity provider is configured, the way
    in for everyone else: "Logga in med SITHS (Region Skånes inloggning)"."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.enabled()
        return context


def _refused_sign_in(request, message, status):
    form = AuthenticationForm(request)
    return render(
        request,
        "registration/login.html",
        {
            "form": form,
            "oidc_enabled": True,
            "oidc_error": message,
            "next": request.session.get(OIDC_NEXT, ""),
        },
        status=status,
    )


@login_not_required
@require_GET
def oidc_start(request):
    """To the provider's sign-in, back to the page asked for."""
    if not oidc.enabled():
        raise Http404
    wanted = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        wanted = ""
    request.session[OIDC_NEXT] = wanted
    try:
        return oidc.client().authorize_redirect(request, settings.SITE_URL + reverse("oidc_callback"))
    except Exception:  # noqa: BLE001 - the provider unreachable or its discovery broken
        log.warning("The identity provider could not be reached", exc_info=True)
        return _refused_sign_in(
            request, _("Region Skånes inloggning svarar inte just nu. Försök igen om en stund."), 503
        )


@login_not_required
@require_GET
def oidc_callback(request):
    """The provider sends the person back here with a code: exchanged for the ID token, which
    is checked (signature, issuer, audience, expiry, nonce), then the person signed in."""
    if not oidc.enabled():
        raise Http404
    try:
        token = oidc.fetch_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise ValueError("no ID token")
        if settings.OIDC_ROLE_CLAIM not in claims:
            # Some providers give the role claim only from the userinfo endpoint.
            extra = oidc.client().userinfo(token=token)
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
    except Exception as exc:  # noqa: BLE001 - whatever failed, the person is not signed in
        log.warning("Sign-in through the identity provider refused: %s: %s", exc.__class__.__name__, exc)
        return _refused_sign_in(
            request, _("Inloggningen via Region Skånes inloggning kunde inte godkännas. Försök igen."), 403
        )
    try:
        user = oidc.sign_in(claims)
    except oidc.SignInRefused as refused:
        log.info("Sign-in refused for %s: %s", claims.get(settings.OIDC_USERNAME_CLAIM), refused)
        return _refused_sign_in(request, refused.message, 403)
    wanted = request.session.pop(OIDC_NEXT, "")
    auth_login(request, user, backend="runbook.auth.ModelBackend")
    return redirect(wanted or settings.LOGIN_REDIRECT_URL)
