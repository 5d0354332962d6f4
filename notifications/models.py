"""The outbox of outgoing notifications (DESIGN section 5), and what the stub receivers keep.

A ``Notification`` row is written in the same transaction as the timeline event that causes
it; Celery is only told after commit. The row is the truth: the sweep re-sends whatever is
pending and due, so a lost broker message delays a notice but never drops it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    VARDGIVARE_SKANE = "vardgivare_skane", _("Vårdgivare Skåne")
    DRIFTINFO = "driftinfo", _("Driftinfo (regionala IT-funktionen)")
    TELEPHONY = "telephony", _("Telefonslingan (lavinmeddelande)")
    EMAIL = "email", _("E-post")
    SMS = "sms", _("SMS")


class Notification(models.Model):
    """Meddelande: one outgoing message to one recipient on one channel."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        SENT = "sent", _("Skickat")
        FAILED = "failed", _("Misslyckades")
        # Made obsolete by a later message about the same reference before it was delivered.
        SUPERSEDED = "superseded", _("Ersatt, skickas inte")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="notifications")
    # The timeline event that caused it (kept as an id: the timeline is append-only).
    cause_event_id = models.BigIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=60)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    action = models.CharField(max_length=20)
    recipient = models.CharField(max_length=254)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    # A drill's (övning's) notice, decided when it is written: it goes only to the drill
    # endpoints, whatever the settings say later, and never to the real ones.
    drill = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker that is sending holds the row until then; a worker that dies lets go by itself.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A person's resend starts a new delivery window (NOTIFY_MAX_AGE counts from here).
    resent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("meddelande")
        verbose_name_plural = _("meddelanden")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        permissions = [
            ("resend_notification", "Skicka om meddelande"),
            ("view_notification_rules", "Se vilka händelser som skickar vilka meddelanden"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient} ({self.get_status_display()})"

    @property
    def window_start(self):
        return self.resent_at or self.created_at

    @property
    def may_resend(self):
        return self.status == self.Status.FAILED or (self.status == self.Status.PENDING and self.attempts > 0)


class Subscription(models.Model):
    """Prenumeration: someone outside the roles who wants e-mail about disruptions."""

    email = models.EmailField(_("e-post"), unique=True)
    name = models.CharField(_("namn"), max_length=200, blank=True)
    active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        verbose_name = _("prenumeration")
        verbose_name_plural = _("prenumerationer")

    def __str__(self):
        return self.email


class AckLinkUse(models.Model):
    """A used acknowledge link: each link works once."""

    nonce = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="+")
    used_at = models.DateTimeField(default=timezone.now)


class SmsAck(models.Model):
    """SMS-kvittering: the code (and short link) in one escalation SMS to one phone.

    A reply from that phone with the code, through the gateway's signed webhook, or the
    link opened by a signed-in systemansvarig, acknowledges the escalation: once, and only
    until it expires.
    """

    code = models.CharField(max_length=12, unique=True)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=20)  # E.164, as the SMS went to it
    # Who it went to, in the record's words ("Enhetschef för SA: Namn"); never put in an SMS.
    recipient_label = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_via = models.CharField(max_length=10, blank=True)  # reply | link


class SmsWebhookCall(models.Model):
    """An accepted call to the inbound SMS webhook, kept by its signature so that the same
    signed request sent again is refused."""

    signature = models.CharField(max_length=64, unique=True)
    signed_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, blank=True)


class StubMessage(models.Model):
    """What a stub receiver got (demo and tests only): one row per idempotency key."""

    channel = models.CharField(max_length=20, choices=Channel.choices)
    idempotency_key = models.CharField(max_length=120)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict)
    duplicates = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "idempotency_key"], name="stub_once_per_key")]
        permissions = [("use_stubs", "Se stubbmottagarna och byta deras läge (demo)")]


class StubMode(models.Model):
    """How a stub receiver answers, switchable from its page so a demo can show retries."""

    class Mode(models.TextChoices):
        OK = "ok", _("Svarar normalt")
        FAIL = "fail", _("Svarar 503 (tillfälligt fel)")
        SLOW = "slow", _("Tar emot men svarar långsamt")

    channel = models.CharField(max_length=20, choices=Channel.choices, primary_key=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.OK)


class DrillReceipt(models.Model):
    """What the app's own drill receiver (``/stubs/ovning/<channel>/``) got: a drill's notice
    to Vårdgivare Skåne, driftinfo or the phone queue, kept for the drill's pages. On in
    production (drills are run there); it takes only the app's own drill notices."""

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="drill_receipt")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict)
    duplicates = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("mottaget i övning")
        verbose_name_plural = _("mottaget i övningar")
