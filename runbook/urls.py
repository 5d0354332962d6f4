from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from django.contrib.auth.decorators import login_not_required

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("logga-in/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("sprak/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("incidents.urls")),
]

handler403 = "runbook.views.forbidden"
handler404 = "runbook.views.not_found"
