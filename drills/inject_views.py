"""Inspel: the drill leader's injections, posted from the inject panel on the incident page."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents import drills, permissions
from incidents.timeline import in_record_language
from runbook.errors import ActionRefused

# Where the page opens after an injection: at its confirmation (as after any action there).
CONFIRMATION_ANCHOR = "bekraftelse"


@require_POST
def inject(request, pk, kind):
    """Make one injection (``drills.inject``, which checks who and when), then back to the page."""
    if not permissions.has(request.user, "view_incident"):
        return render(request, "403.html", status=403)
    try:
        with in_record_language():
            drills.inject(request.user, pk, kind, note=request.POST.get("note", ""))
    except ActionRefused as refused:
        if refused.code == "not_found":
            raise Http404 from None
        if refused.code == "forbidden":
            return render(request, "403.html", {"refusal": refused.message}, status=403)
        messages.error(request, refused.message)
    else:
        what = capfirst(str(drills.INJECTION_LABELS[kind]))
        messages.success(request, _("Inspelet är gjort: %(what)s") % {"what": what})
    return redirect(reverse("incidents:detail", args=[pk]) + f"#{CONFIRMATION_ANCHOR}")
