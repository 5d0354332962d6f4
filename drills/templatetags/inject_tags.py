"""The drill leader's inject panel on the incident page (``templates/drills/_inject_panel.html``)."""

from django import template

from incidents import drills

register = template.Library()


@register.inclusion_tag("drills/_inject_buttons.html", takes_context=True)
def inject_panel(context, incident):
    """Inspel: the injections the viewer may make on this drill now (none unless they lead it).

    The incident page is kept rendered per kind of viewer (``permissions.viewer_variant``),
    which tells the drill's leader apart, so no one else is shown a kept copy of this."""
    return {
        "incident": incident,
        "offered": drills.available_injections(context["request"].user, incident),
        "csrf_token": context.get("csrf_token"),
        "LANGUAGE_CODE": context.get("LANGUAGE_CODE"),
    }
