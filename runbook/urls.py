from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import URLResolver, include, path, re_path

from . import views
from .api import api


def _authenticated_by_the_api(urls):
    """The API answers 401 itself (token or session), so the page login redirect is off."""
    patterns, app_name, namespace = urls
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _authenticated_by_the_api((pattern.url_patterns, None, None))
        else:
            login_not_required(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("logga-in/", views.LoginView.as_view(), name="login"),
    path("logga-in/region/", views.oidc_start, name="oidc_start"),
    path("logga-in/region/klar/", views.oidc_callback, name="oidc_callback"),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("sprak/", views.set_language, name="set_language"),
    path("tillganglighet/", views.accessibility, name="accessibility"),
    path("admin/", admin.site.urls),
    path("api/v1/", _authenticated_by_the_api(api.urls)),
    # Anything else under the API is a 404 in the API's error shape, not the HTML page.
    re_path(r"^api/v1/", views.api_not_found),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("", include("notifications.urls")),
    path("", include("offline.urls")),
    path("", include("routines.urls")),
    path("", include("incidents.urls")),
    path("", include("review.urls")),
    path("ovningar/", include("drills.urls")),
]

handler403 = "runbook.views.forbidden"
handler404 = "runbook.views.not_found"
handler500 = "runbook.views.server_error"
