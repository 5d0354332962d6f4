"""Which language a page is in: Swedish unless the person chose another.

A Swedish public-sector tool does not switch to English because a browser asks for it
(``Accept-Language``): a person's own choice, made with the language form in the header,
is kept with them (``Preferences``) and brought into their session when they sign in.
The JSON API is for tools, not people; there ``Accept-Language`` still decides.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

SESSION_KEY = "language"
API_PREFIX = "/api/"


def _supported(code):
    return code in dict(settings.LANGUAGES)


def chosen_language(request):
    """The language this person chose, or None.

    Signed in: what they keep (brought into the session at sign-in), not the browser's
    cookie, which may be another person's on a shared computer. Before signing in: the
    cookie the language form sets.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        code = request.session.get(SESSION_KEY)
    else:
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return code if code and _supported(code) else None


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, without the browser's language for pages."""

    def process_request(self, request):
        if request.path_info.startswith(API_PREFIX):
            return super().process_request(request)
        translation.activate(chosen_language(request) or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()
        return None


def remember(request, code):
    """Keep ``code`` as the person's language: in the session and, when signed in, with them."""
    if not _supported(code):
        return
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = code
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from .models import Preferences

        Preferences.objects.update_or_create(user=user, defaults={"language": code})


@receiver(user_logged_in)
def _bring_language_into_session(sender, request, user, **kwargs):
    from .models import Preferences

    if request is None:
        return
    code = Preferences.objects.filter(user=user).values_list("language", flat=True).first()
    # Only what this person kept: the browser's cookie may be another person's choice.
    if code and _supported(code):
        request.session[SESSION_KEY] = code
    else:
        request.session.pop(SESSION_KEY, None)
