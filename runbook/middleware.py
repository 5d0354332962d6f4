"""Request-wide rules of the session and of what browsers may keep."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.utils.cache import add_never_cache_headers

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
            elif not _is_background_refresh(request) and (
                last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS
            ):
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
