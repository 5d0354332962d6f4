from django.apps import AppConfig


class OfflineConfig(AppConfig):
    """Offline on a phone or laptop: the routine kept on the device, reports sent later."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "offline"
    verbose_name = "Offline"
