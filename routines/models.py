"""A routine (one per IT system) and its versions: a version holds the whole routine as one
document (``docs/routine-format.md``). A draft may be edited; a published version never is:
the service refuses it and, below the ORM, a trigger does (migration 0001)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Routine(models.Model):
    key = models.SlugField(_("nyckel"), max_length=60, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    # The IT system the routine is for, e.g. "Sesam LMN".
    system = models.CharField(_("system"), max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name = _("rutin")
        verbose_name_plural = _("rutiner")

    def __str__(self):
        return self.name


class RoutineVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        PUBLISHED = "published", _("Publicerad")

    routine = models.ForeignKey(Routine, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    document = models.JSONField(_("rutinen"))
    published_at = models.DateTimeField(_("publicerad"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("skäl"), max_length=500, blank=True)
    # Raised by every saved edit of a draft: an edit based on an older revision is refused.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["routine", "-number"]
        verbose_name = _("rutinversion")
        verbose_name_plural = _("rutinversioner")
        constraints = [
            models.UniqueConstraint(fields=["routine", "number"], name="routine_version_number_unique"),
            models.UniqueConstraint(fields=["routine"], condition=models.Q(status="draft"), name="routine_one_draft"),
            models.CheckConstraint(
                condition=models.Q(status="draft", published_at__isnull=True)
                | models.Q(status="published", published_at__isnull=False),
                name="routine_version_published_has_time",
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="routine_version_number_positive"),
        ]

    def __str__(self):
        return f"{self.routine} v{self.number}"

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED
