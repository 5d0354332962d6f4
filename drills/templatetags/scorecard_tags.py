"""The way from a drill's pages to its scorecard (``templates/drills/_scorecard_link.html``)."""

from django import template

from .. import scorecard

register = template.Library()


@register.inclusion_tag("drills/_scorecard_link.html", takes_context=True)
def scorecard_link(context, incident):
    """A link to the drill's scorecard (Resultat), for those who may see it; none on the
    scorecard itself. The incident page is kept rendered per kind of viewer
    (``permissions.viewer_variant``), which tells a drill's leader and participants apart."""
    request = context.get("request")
    drill = getattr(incident, "drill", None) if incident.is_drill else None
    shown = (
        request is not None and drill is not None and "card" not in context and scorecard.may_view(request.user, drill)
    )
    return {"incident": incident, "shown": shown}
