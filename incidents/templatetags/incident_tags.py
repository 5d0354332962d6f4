from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from runbook import formatting
from runbook.scenarios import Role

register = template.Library()


@register.filter
def get_scenario_title(scenarios, key):
    scenario = scenarios.get(key)
    return scenario.title if scenario else ""


@register.filter
def role_label(role):
    return Role.label(role)


@register.filter
def is_overdue(task):
    return task.is_overdue(timezone.now())


@register.filter
def duration_text(value):
    """Seconds or a timedelta as "2 h 05 min"; "–" when there is none."""
    return formatting.format_duration(value)


time_left = register.filter("time_left", formatting.time_left)


@register.filter
def time_scale_text(scale):
    """How a drill's clocks run, in words: "realtid" or "tiden går 30 gånger fortare"."""
    try:
        scale = int(scale)
    except (TypeError, ValueError):
        return ""
    if scale == 1:
        return _("tiden går i realtid")
    return _("tiden går %(n)d gånger fortare") % {"n": scale}
