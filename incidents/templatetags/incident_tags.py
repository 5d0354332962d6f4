from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from runbook import scenarios
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
    from incidents.reports import format_duration

    return format_duration(value)


@register.filter
def time_left(due_at):
    """ "om 2 h 13 min" until a deadline; once it has passed, that it waits for the sweep."""
    seconds = int((due_at - timezone.now()).total_seconds())
    if seconds <= 0:
        return _("förfallen – utlöses vid nästa svep")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("om %(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("om %(m)d min") % {"m": minutes}
    return _("om %(s)d s") % {"s": secs}


@register.simple_tag
def task_action(task, transitions, can_prognosis):
    """The button on this page that does ``task`` (routine steps done by an action).

    Returns ``{"label", "anchor"}`` when the person can do that action here, else None and
    the task keeps its own "Klar" button: ticking "Klar" on "Ange prognos" would mark the
    step done without recording a prognosis.
    """
    scenario = scenarios.SCENARIOS.get(task.scenario)
    step = next((s for s in scenario.steps if s.key == task.step_key), None) if scenario else None
    action = step.done_by if step else None
    if not action:
        return None
    if action == "record_prognosis":
        return {"label": _("Ange prognos"), "anchor": "prognos-form"} if can_prognosis else None
    for name, label in transitions:
        if name == action:
            return {"label": label, "anchor": f"action-{name}"}
    return None
