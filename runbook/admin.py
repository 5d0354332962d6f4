"""API tokens in the admin: an administrator sees every token and can revoke any."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "key_prefix"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = readonly_fields
    actions = ["revoke"]

    # Tokens are made by their owner (page or create_api_token), who alone sees them in clear.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Återkalla valda API-nycklar"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.revoke_token(request.user, token.pk)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(n)d API-nyckel återkallad.", "%(n)d API-nycklar återkallade.", revoked) % {"n": revoked},
            messages.SUCCESS,
        )


# --- login lock-outs: the administrator's way to let a locked person in ----------------------


@admin.action(description=_("Häv inloggningsspärren (för alla adresser)"), permissions=["change"])
def unlock_login(modeladmin, request, queryset):
    """A person locked out by repeated failed logins (django-axes) may log in again at once."""
    from axes.utils import reset

    cleared = sum(reset(username=user.get_username()) or 0 for user in queryset)
    modeladmin.message_user(
        request,
        ngettext(
            "Inloggningsspärren är hävd för %(n)d person (%(a)d misslyckade försök rensade).",
            "Inloggningsspärren är hävd för %(n)d personer (%(a)d misslyckade försök rensade).",
            queryset.count(),
        )
        % {"n": queryset.count(), "a": cleared},
        messages.SUCCESS,
    )


def _add_unlock_action():
    from django.contrib.auth import get_user_model

    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is not None and unlock_login not in (user_admin.actions or []):
        user_admin.actions = [*(user_admin.actions or []), unlock_login]


_add_unlock_action()
