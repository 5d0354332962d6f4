"""Relative times ("om 3 min", "2 h 05 min") that stay current without a render.

A part served from the shared cache may have been rendered minutes ago; its relative words
are kept current in the browser by ``static/js/app.js`` from ``data-until`` / ``data-since``
(an ISO 8601 time) and the words of the page's language, given once on ``<body>``.
"""

from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from runbook.formatting import format_duration, time_left

register = template.Library()


@lru_cache(maxsize=8)
def _attrs(language):
    words = {
        "rel-until-hm": _("om %(h)d h %(m)d min"),
        "rel-until-m": _("om %(m)d min"),
        "rel-until-s": _("om %(s)d s"),
        "rel-due": _("förfallen – utlöses vid nästa svep"),
    }
    return format_html_join(" ", 'data-{}="{}"', words.items())


@register.simple_tag
def relative_time_attrs():
    """The words the browser needs for relative times, as ``data-`` attributes for ``<body>``."""
    return _attrs(get_language())


@register.simple_tag
def until(moment):
    """ "om 2 h 13 min" until ``moment``, kept current in the browser."""
    return format_html('<span data-until="{}">{}</span>', moment.isoformat(), time_left(moment))


@register.simple_tag
def since(moment):
    """ "2 h 05 min" since ``moment``, kept current in the browser."""
    return format_html('<span data-since="{}">{}</span>', moment.isoformat(), format_duration(timezone.now() - moment))


@register.simple_tag
def checked_at(moment):
    """When the part was last found current: the render time, then each poll's (app.js)."""
    return format_html("<span data-poll-checked>{}</span>", timezone.localtime(moment).strftime("%H:%M:%S"))


class CachedPartNode(template.Node):
    def __init__(self, nodelist, part):
        self.nodelist, self.part = nodelist, part

    def render(self, context):
        from runbook import polling

        part = self.part.resolve(context, ignore_failures=True)
        if part is None:
            return self.nodelist.render(context)

        def render():
            with context.push(csrf_token=polling.CSRF_PLACEHOLDER):
                return self.nodelist.render(context)

        return mark_safe(part.html(render, context.get("request")))


@register.tag
def cached_part(parser, token):
    """``{% cached_part page_part %}...{% endcached_part %}``: the enclosed HTML is kept per
    change (``runbook.polling.CachedPart``); without a part it is rendered as usual."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("cached_part takes one argument")
    nodelist = parser.parse(("endcached_part",))
    parser.delete_first_token()
    return CachedPartNode(nodelist, parser.compile_filter(bits[1]))
