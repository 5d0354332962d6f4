"""What the base page asks of drills: whether to offer "Övningar" in the menu."""

import functools

from incidents import drills


def drill_menu(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Asked when the menu is drawn, once a request; a part rendered for a poll does not ask.
    return {"may_lead_drills": functools.cache(lambda: drills.may_lead(user))}
