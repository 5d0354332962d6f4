"""What a person does with their API tokens: issue, revoke; and how a token is recognised."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from runbook.errors import ActionRefused

from .models import ApiToken

TOKEN_NAME_MAX = ApiToken._meta.get_field("name").max_length
# last_used_at is a hint for the owner, not an audit log: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def may_manage_all_tokens(user):
    return user.is_active and (user.is_superuser or user.has_perm("runbook.change_apitoken"))


@transaction.atomic
def issue_token(user, name=""):
    """Make a new token for ``user``; returns (token row, the token in clear, shown once)."""
    name = (name or "").strip() or _("API-nyckel")
    if len(name) > TOKEN_NAME_MAX:
        raise ActionRefused(
            _("%(field)s får vara högst %(n)d tecken.") % {"field": _("Namn"), "n": TOKEN_NAME_MAX},
            code="invalid",
        )
    if "\x00" in name:
        raise ActionRefused(_("Texten innehåller otillåtna tecken."), code="invalid")
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name, key_prefix=key[: len(ApiToken.PREFIX) + 6], key_hash=ApiToken.digest(key)
    )
    return token, key


@transaction.atomic
def revoke_token(user, token_id):
    """Revoke a token: by its owner, or by an administrator. Revoking twice changes nothing."""
    try:
        token = ApiToken.objects.select_for_update().get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise ActionRefused(_("API-nyckeln finns inte."), code="not_found") from None
    if token.user_id != user.pk and not may_manage_all_tokens(user):
        # Someone else's token is reported as missing, so ids reveal nothing.
        raise ActionRefused(_("API-nyckeln finns inte."), code="not_found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_for_token(key):
    """The active owner of an active token, or None."""
    if not key or len(key) > 200:
        return None
    try:
        token = ApiToken.objects.active().select_related("user").get(key_hash=ApiToken.digest(key))
    except ApiToken.DoesNotExist:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
