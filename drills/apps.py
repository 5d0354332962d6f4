from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    """Övningar: the pages that start, lead, plan and score drills of the routine. The drill
    itself is an incident (``incidents/drills.py``); this app sits on top of the others."""

    name = "drills"
    verbose_name = _("Övningar")
