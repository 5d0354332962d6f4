"""The JSON API, version 1 (DESIGN section 8): ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``.

For Region Skåne IT's monitoring and service-desk tools and operators' scripts. It calls the
same services as the pages, so a rule holds for both or for neither. A caller authenticates
with a personal token (``Authorization: Bearer <token>``) or, from the app's own pages, with
the session (and CSRF). Every refusal has one shape, ``{code, message, errors}``, with the
message in the request's language (``Accept-Language``; Swedish by default).
"""

import logging

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from django_ratelimit.core import _split_rate, is_ratelimited
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from incidents.api import router as incidents_router
from incidents.schemas import READ_ERRORS, RoutineKey, ScenarioOut
from routines import loader
from runbook.errors import ActionRefused, NeedsConfirmation

from . import scenarios
from . import services as token_services
from .client import client_ip
from .models import ApiToken

logger = logging.getLogger(__name__)

STATUS_OF_CODE = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
    "error": 500,
    "unavailable": 503,
}
CODE_OF_STATUS = {status: code for code, status in STATUS_OF_CODE.items()}


class Renderer(JSONRenderer):
    # Swedish stays readable in the raw answer (å, ä, ö rather than \u00e5).
    json_dumps_params = {"ensure_ascii": False}


class CsrfFailed(HttpError):
    def __init__(self):
        super().__init__(403, "CSRF")


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _limit(request, group, key, rate):
    """Count this request against ``rate`` (django-ratelimit, "120/m") for ``key``; refuse
    it with 429 once the window is full. The counts live in the ``ratelimit`` cache."""
    if not rate:
        return
    try:
        limited = is_ratelimited(request, group=group, key=lambda _g, _r: key, rate=rate, increment=True)
    except Exception:  # noqa: BLE001 - a cache that does not answer must not take the API down
        logger.warning("Rate-limit cache unreachable; request let through", exc_info=True)
        return
    if limited:
        _count, seconds = _split_rate(rate)
        raise RateLimited(seconds)


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``. A token that is given but not valid is a 401 at once,
    even with a session cookie alongside: a script must learn its token is wrong.

    Every API request counts against the caller's address (API_RATE_PER_ADDRESS), and a
    request with a token against that token (API_RATE_PER_TOKEN), before anything else."""

    def __call__(self, request):
        _limit(request, "api-address", client_ip(request), settings.API_RATE_PER_ADDRESS)
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError()
        key = key.strip()
        if key:
            _limit(request, "api-token", ApiToken.digest(key), settings.API_RATE_PER_TOKEN)
        user = token_services.user_for_token(key)
        if user is None:
            raise AuthenticationError()
        return user

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return token_services.user_for_token(token)


class Session(APIKeyCookie):
    """The app's own session, for its pages' scripts. Unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request):
        if not request.user.is_authenticated:
            # No session: a 401, not a CSRF complaint about a session that does not exist.
            return None
        if check_csrf(request):
            raise CsrfFailed()
        return request.user

    def _get_key(self, request):  # pragma: no cover - __call__ does the work
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):  # pragma: no cover
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="Driftstörningsrutin Sesam LMN",
    version="1",
    description=(
        "Open incidents, read their state and record a prognosis without a browser. "
        "Authenticate with `Authorization: Bearer <token>` (make one with "
        "`python manage.py create_api_token USERNAME` or on the page /tokens/). "
        "Errors: `{code, message, errors}`; `message` follows `Accept-Language` (sv by default, en)."
    ),
    urls_namespace="api-v1",
    auth=[BearerToken(), Session()],
    docs=Swagger(settings={"persistAuthorization": False}),
    renderer=Renderer(),
)
api.add_router("/incidents", incidents_router)


def error_response(request, code, message, errors=None, status=None):
    response = api.create_response(
        request,
        {"code": code, "message": str(message), "errors": errors or []},
        status=status or STATUS_OF_CODE[code],
    )
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(ActionRefused)
def refused(request, exc):
    # Services run in the record language; ActionRefused.message is in the reader's.
    errors = None
    if isinstance(exc, NeedsConfirmation):
        errors = [{"field": f"confirm.{key}", "message": message} for key, message in exc.warnings]
    elif exc.field:
        errors = [{"field": exc.field, "message": exc.message}]
    return error_response(request, exc.code if exc.code in STATUS_OF_CODE else "conflict", exc.message, errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return error_response(
        request,
        "unauthorized",
        _("Ange en giltig API-nyckel: Authorization: Bearer <nyckel>."),
    )


@api.exception_handler(RateLimited)
def rate_limited(request, exc):
    response = error_response(
        request,
        "rate_limited",
        _("För många förfrågningar. Vänta %(s)d sekunder och försök igen.") % {"s": exc.retry_after},
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(CsrfFailed)
def csrf_failed(request, exc):
    return error_response(request, "forbidden", _("CSRF-kontrollen misslyckades. Ladda om sidan och försök igen."))


def _field(loc):
    # ninja puts the source first ("body", "query", "path") and the parameter's name next.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path"} and len(parts) > 2:
        parts = parts[:1] + parts[2:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def invalid(request, exc):
    errors = [{"field": _field(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
    fields = ", ".join(sorted({e["field"] for e in errors})) or "body"
    return error_response(request, "invalid", _("Ogiltiga uppgifter: %(fields)s.") % {"fields": fields}, errors)


@api.exception_handler(Http404)
def not_found(request, exc):
    return error_response(request, "not_found", _("Finns inte."))


@api.exception_handler(HttpError)
def http_error(request, exc):
    code = CODE_OF_STATUS.get(exc.status_code, "invalid" if exc.status_code < 500 else None)
    if code is None:
        raise exc
    if exc.status_code == 400:
        # ninja's own 400s are about a body it could not parse (not JSON, or a form).
        return error_response(
            request,
            "invalid",
            _("Förfrågans innehåll kunde inte tolkas. Skicka JSON."),
            [{"field": "body", "message": str(exc)}],
        )
    return error_response(request, code, _("Förfrågan kunde inte utföras."), status=exc.status_code)


@api.get(
    "/scenarios",
    response={200: list[ScenarioOut], **READ_ERRORS},
    tags=["routine"],
    summary="The scenarios",
    operation_id="listScenarios",
)
def list_scenarios(request, routine: RoutineKey | None = None):
    """The routine's scenarios (section 3) with their steps, in the routine's words: the
    version in force, which new incidents start under. `routine`: another routine's (IT
    system's) by its key; default the app's own, `sesam-lmn`."""
    try:
        in_force = loader.in_force(routine)
    except loader.NoVersionInForce:
        raise ActionRefused(
            _("Okänd rutin: det finns ingen publicerad rutin med den nyckeln."), code="not_found", field="routine"
        ) from None
    return [
        {
            "key": s.key,
            "routine": in_force.routine_key,
            "system": in_force.system,
            "title": str(s.title),
            "routine_text": str(s.routine_text),
            "routine_version": in_force.label,
            "caller_script": [str(line) for line in s.caller_script],
            "steps": [
                {
                    "key": step.key,
                    "role": step.role,
                    "role_label": str(scenarios.Role.label(step.role)),
                    "instruction": str(step.instruction),
                    "due_on": step.due_on,
                    "within_seconds": int(step.within.total_seconds()) if step.within is not None else None,
                    "done_by": step.done_by,
                }
                for step in s.steps
            ],
        }
        for s in in_force.scenarios.values()
    ]
