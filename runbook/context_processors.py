import functools

from django.conf import settings

from runbook.scenarios import Role

from . import health, roles


def app(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        demo = {"demo_passwords_file": settings.DATA_DIR / "demo-passwords.txt"} if settings.DEMO_MODE else {}
        return {"demo_mode": settings.DEMO_MODE, **demo}
    held = roles.user_roles(user)
    return {
        "demo_mode": settings.DEMO_MODE,
        "user_role_labels": [Role.label(r) for r in sorted(held, key=Role.ALL.index)],
        # Read when a template asks (the base page's banner), once a request; a part rendered
        # for a poll does not ask.
        "scheduler_stale": functools.cache(health.scheduler_stale),
        "may_report": roles.has(user, "report_incident"),
    }
