"""What was registered on a device while the network was down, and reached the server later."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident


class OfflineSubmission(models.Model):
    """Registrering gjord offline: a report or a call kept on a device and sent later.

    The device makes the id when the person presses the button. A resend (the answer was
    lost, the page was reloaded, two tabs sent at once) finds this row and makes nothing twice:
    the id is the primary key, and the row is written in the transaction that makes the
    incident or the call.
    """

    class Kind(models.TextChoices):
        INCIDENT = "incident", _("Anmälan av störning")
        CALLER_REPORT = "caller_report", _("Samtal från förskrivare")

    client_id = models.UUIDField(primary_key=True)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="offline_submissions")
    # By the device's clock, when the person pressed the button.
    made_at = models.DateTimeField(_("gjord på enheten"))
    received_at = models.DateTimeField(_("mottagen"), default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("registrering gjord offline")
        verbose_name_plural = _("registreringar gjorda offline")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(made_at__lte=models.F("received_at")), name="offline_made_before_received"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.client_id}"
