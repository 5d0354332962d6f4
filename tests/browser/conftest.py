"""Browser tests: real Chromium against pytest-django's live server.

Every page a test opens is watched: a Content-Security-Policy violation, a script error, a
failed resource or a request to any host but the live server fails the test.
"""

import re
from urllib.parse import urlparse

import pytest

PASSWORD = "ett-långt-testlösenord"  # make_user's default


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Each login hashes a password; the real hasher costs seconds over a walkthrough."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Serve the app's own static files under their plain names.

    pytest-django's live server answers /static/ from the finders, which know no hashed
    (manifest) names; the files and the CSP are the same as in production.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


class PageWatch:
    """What went wrong in the browser while a test ran, checked at the end."""

    # What a browser says about a request while a test has switched the network off.
    OFFLINE_FAILURES = ("ERR_INTERNET_DISCONNECTED",)

    def __init__(self, origin):
        self.origin = origin
        self.problems = []
        # Set by a test while its context is offline: requests failing for that are expected.
        self.offline = False
        # Set by a test that opens error pages on purpose (404, 403, a form sent back with
        # 400): the browser's note that the page came with that status is then expected.
        self.error_pages_expected = False
        self._error_pages = set()

    def _offline_failure(self, text):
        return self.offline and any(failure in (text or "") for failure in self.OFFLINE_FAILURES)

    def attach(self, context):
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI); });"
        )
        context.route("**/*", self._route)
        context.on("page", self._watch_page)
        return context

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if f"{parsed.scheme}://{parsed.netloc}" != self.origin:
            self.problems.append(f"request to another host: {url}")
            route.abort()
        else:
            route.continue_()

    def _watch_page(self, page):
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        page.on("requestfailed", self._failed)

    def _response(self, response):
        if response.status >= 400 and response.request.is_navigation_request():
            self._error_pages.add(response.url)

    def _console(self, message):
        text = message.text
        if self._offline_failure(text):
            return
        if (
            self.error_pages_expected
            and text.startswith("Failed to load resource: the server responded with a status of 4")
            and message.location.get("url") in self._error_pages
        ):
            return
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type}: {text} ({message.location.get('url', '')})")

    def _failed(self, request):
        if urlparse(request.url).netloc == urlparse(self.origin).netloc:
            # Navigations away from a page that is still polling cancel its request.
            if request.failure and "ERR_ABORTED" in request.failure:
                return
            if self._offline_failure(request.failure):
                return
            self.problems.append(f"request failed: {request.url} {request.failure}")

    def check(self):
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def watch(live_server):
    watch = PageWatch(live_server.url)
    yield watch
    watch.check()


@pytest.fixture
def new_page(browser, watch, live_server):
    """new_page(viewport=...) -> a page in its own context (its own login), watched."""
    contexts = []

    def make(**context_options):
        # Staff browsers here are Swedish; Django would otherwise pick English from en-US.
        context_options.setdefault("locale", "sv-SE")
        context = watch.attach(browser.new_context(base_url=live_server.url, **context_options))
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    # Close the test's own database connection while still beside Playwright's sync API:
    # afterwards Django sees a fresh connection object, this one would stay open and
    # dropping the test database at the end of the run would find it in use.
    from django.db import connections

    connections.close_all()


@pytest.fixture
def log_in():
    """log_in(page, username): through the login form, landing on the live list."""

    def log_in(page, username, password=PASSWORD):
        page.goto("/logga-in/")
        page.get_by_label("Användarnamn").fill(username)
        page.get_by_label("Lösenord").fill(password)
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(re.compile(r"/$"))

    return log_in
