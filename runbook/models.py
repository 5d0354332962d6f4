import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a periodic process last ran (the beat-driven sweep writes ``sweep``)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """API-nyckel: a personal token for the JSON API, carrying its owner's permissions.

    Only a SHA-256 digest of the token is stored. A token is 32 random bytes, so a fast
    digest is enough: there is no low-entropy secret to stretch, as there is with passwords.
    The first characters are kept in clear so the owner can tell tokens apart.
    """

    PREFIX = "sesam_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("ägare"),
    )
    name = models.CharField(_("namn"), max_length=100)
    key_prefix = models.CharField(_("början av nyckeln"), max_length=16)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("senast använd"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    @staticmethod
    def digest(key):
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def new_key(cls):
        return cls.PREFIX + secrets.token_urlsafe(32)


class Preferences(models.Model):
    """Inställningar: what a person chose for themselves, kept with them across devices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="preferences",
    )
    language = models.CharField(_("språk"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    class Meta:
        verbose_name = _("inställningar")
        verbose_name_plural = _("inställningar")

    def __str__(self):
        return f"{self.user} {self.language}"
