"""A person's API tokens end with their password or their account.

When a password is changed (in the admin, with ``changepassword``, on a password page) or an
account is deactivated, every token the person holds is revoked, so that a token copied
before cannot outlive the change; reactivating the account does not bring them back. The
one save that does not count is Django's own rehash of an unchanged password at login
(``update_fields=["password"]``, a stronger hasher): the person's secret has not changed.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone


@receiver(pre_save, sender=get_user_model(), dispatch_uid="runbook.revoke_tokens_on_credential_change")
def revoke_tokens_on_credential_change(sender, instance, update_fields=None, raw=False, **kwargs):
    from .models import ApiToken

    if raw or instance.pk is None:
        return
    if update_fields is not None and set(update_fields) <= {"password", "last_login"}:
        return  # a rehash at login, or the login time
    old = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        ApiToken.objects.filter(user_id=instance.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@receiver(user_logged_in, dispatch_uid="runbook.idle_clock_starts_at_login")
def idle_clock_starts_at_login(sender, request, user, **kwargs):
    """The idle clock (runbook/middleware.py) starts at login, with the session it is in."""
    import time

    from .middleware import LAST_ACTIVITY

    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY] = int(time.time())
