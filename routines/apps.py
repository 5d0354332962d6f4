from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutinesConfig(AppConfig):
    name = "routines"
    verbose_name = _("Rutiner")
    default_auto_field = "django.db.models.BigAutoField"
