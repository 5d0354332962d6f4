from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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


@register.simple_tag
def timeline_items(events):
    """The incident page's timeline as ``<li>`` items, built here rather than in a template loop.

    A live incident gathers an event for every call, note and notice, and the page is
    reloaded all through it; a template loop with two ``date`` filters costs about 0.1 ms
    an event, this about a tenth. The entries are in Swedish, the record's language,
    so outside Swedish they say so (``lang="sv"``).
    """
    lang = "" if translation.get_language() == "sv" else ' lang="sv"'
    items = []
    for event in events:
        at = timezone.localtime(event.at)
        note = (
            format_html('<p class="event-note">{}</p>', linebreaksbr(event.note, autoescape=True)) if event.note else ""
        )
        items.append(
            format_html(
                '<li class="event event-{}"{}><time datetime="{}">{}</time> '
                '<span class="event-who">{}</span> <span class="event-what">{}</span>{}</li>',
                event.kind,
                mark_safe(lang),
                at.isoformat(),
                at.strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_label,
                event.message,
                note,
            )
        )
    return mark_safe("\n".join(items))
