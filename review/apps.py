from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("Historik")

    def ready(self):
        from incidents import signals

        from . import services

        # An incident ended (or its ended record changed): its metrics row and month's figures.
        signals.incident_ended.connect(services.record_metrics, dispatch_uid="record_metrics")
