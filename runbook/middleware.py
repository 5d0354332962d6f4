"""Request-wide rules of the session and of what browsers may keep."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import add_never_cache_headers

from . import logs, monitoring

LAST_ACTIVITY = "last_activity"
# The time of the last activity is written at most this often (a session write each time).
ACTIVITY_RESOLUTION_SECONDS = 30


def _is_background_refresh(request):
    """The live list refreshing itself is not the person doing something."""
    return request.method == "GET" and request.headers.get("HX-Request") == "true"


class IdleSessionMiddleware:
    """A session ends after SESSION_IDLE_MINUTES without anything the person did.

    The next request is then anonymous: pages send to the login page, the API answers 401.
    A page left open that only refreshes itself does not keep the session alive.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - last > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
            elif not _is_background_refresh(request) and (last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS):
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """What a signed-in person (or an API caller) is shown is kept in no cache: incident
    data on a shared or lost computer must not be readable from the browser's cache.
    A response that says itself how it may be cached keeps what it says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = (user is not None and user.is_authenticated) or request.path.startswith("/api/")
        if personal and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class RequestContextMiddleware:
    """Names each request and times it (outermost, so the time includes every middleware).

    The request id is the caller's ``X-Request-ID`` when it is a plain token (a proxy's or
    load balancer's), else a new one; it is echoed in the response's ``X-Request-ID`` and is
    on every log line written while the request is handled, with the incident of the URL
    (``storning/<pk>/...``). The time goes to the ``/metrics`` latency histogram by view.
    """

    # The URL namespace whose ``pk`` is an incident (the API names it ``incident_id``).
    INCIDENT_NAMESPACE = "incidents"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = logs.new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        # All three set here, so that resetting them undoes what process_view and the views set.
        tokens = logs.set_context(request_id=request_id, incident_id=None, notification_id=None)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match else "unmatched"
            monitoring.observe_request(view, request.method, time.perf_counter() - started)
            request.log_context = logs.current()
            logs.reset(tokens)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        incident_id = view_kwargs.get("incident_id")
        if incident_id is None and match and self.INCIDENT_NAMESPACE in match.namespaces:
            incident_id = view_kwargs.get("pk")
        if incident_id is not None:
            logs.set_context(incident_id=incident_id)  # undone when the request ends (__call__)
        return None
