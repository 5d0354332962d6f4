"""Övningar: start a drill and see the running and ended ones. Parse the request, call the
service (``incidents.drills``), render. No rules live here."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents import drills
from incidents.models import Incident
from incidents.pagination import page_number
from incidents.timeline import in_record_language
from runbook.errors import ActionRefused

from .forms import StartDrillForm

# Ended drills shown a page.
ENDED_PAGE_SIZE = 20


def _forbidden(request):
    return render(request, "403.html", status=403)


def _drills():
    return (
        Incident.objects.drills()
        .select_related("drill__leader", "drill__broken_off_by")
        .order_by("-reported_at", "-id")
    )


def _page(request, form, status=200):
    ended = Paginator(_drills().ended(), ENDED_PAGE_SIZE).get_page(page_number(request))
    context = {
        "form": form,
        "running": list(_drills().not_ended()),
        "ended": ended,
    }
    return render(request, "drills/start.html", context, status=status)


@require_http_methods(["GET", "POST"])
def index(request):
    """Övningar: the start form, the drills running now and those ended, newest first."""
    if not drills.may_lead(request.user):
        return _forbidden(request)
    if request.method != "POST":
        return _page(request, StartDrillForm(initial={"participants": [request.user.pk]}))
    form = StartDrillForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        with in_record_language():
            incident = drills.start_drill(request.user, **form.start_arguments())
    except ActionRefused as refused:
        # Nothing was created; the reason is said beside the form, which keeps what was chosen.
        form.add_error(None, refused.message)
        return _page(request, form, status={"forbidden": 403}.get(refused.code, 400))
    messages.success(request, _("Övningen är startad. Deltagarna ser den under Pågående störningar."))
    return redirect("incidents:detail", incident.pk)
