"""Resultat: a drill's scorecard page (printable, downloadable as a PDF on A4), the leader's
notes on it, and drills of one scenario side by side. Parse, call scorecard.py, render."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Drill
from review import reports
from routines import loader
from runbook import pdf
from runbook.errors import ActionRefused

from . import scorecard

DOWNLOAD_PARAM = "ladda-ner"


def _forbidden(request):
    return render(request, "403.html", status=403)


def _drill_or_404(pk):
    try:
        return scorecard.drill_for_scorecard(pk)
    except Drill.DoesNotExist:
        raise Http404 from None


def _context(request, drill, **extra):
    card = scorecard.build(drill)
    return {
        "card": card,
        "incident": card.incident,
        "drill": drill,
        "reserve_after": reports.format_duration(loader.duration(drill.incident.routine, "reserve_routine_after")),
        "ack_timeout": reports.format_duration(loader.duration(drill.incident.routine, "ack_timeout")),
        "may_write_notes": scorecard.may_write_notes(request.user, drill),
        "may_compare": scorecard.may_compare(request.user),
        "notes_max": scorecard.NOTES_MAX,
        "printed_at": timezone.now(),
        **extra,
    }


@require_GET
def scorecard_page(request, pk):
    """Resultat för en övning: every step, time and injection in the routine's real time."""
    drill = _drill_or_404(pk)
    if not scorecard.may_view(request.user, drill):
        return _forbidden(request)
    context = _context(request, drill, notes_value=drill.notes)
    if request.GET.get(DOWNLOAD_PARAM) == "1":
        # The same card as a PDF on A4 (its print stylesheets inline), as the incident report.
        context["download"] = True
        context["inline_css"] = pdf.static_text("css/report.css") + pdf.static_text("css/scorecard.css")
        html = render(request, "drills/scorecard_file.html", context).content.decode()
        response = HttpResponse(pdf.html_to_pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="ovning-{drill.pk}-resultat.pdf"'
        return response
    return render(request, "drills/scorecard.html", context)


@require_POST
def scorecard_notes(request, pk):
    """Spara övningsledarens anteckningar."""
    drill = _drill_or_404(pk)
    if not scorecard.may_view(request.user, drill):
        return _forbidden(request)
    text = request.POST.get("notes", "")
    try:
        scorecard.record_notes(request.user, drill.pk, text)
    except ActionRefused as refused:
        if refused.code == "forbidden":
            return _forbidden(request)
        context = _context(request, drill, notes_error=refused.message, notes_value=text[: scorecard.NOTES_MAX * 2])
        return render(request, "drills/scorecard.html", context, status=400)
    messages.success(request, _("Anteckningarna är sparade."))
    return redirect(reverse("drills:scorecard", args=[drill.pk]) + "#anteckningar")


def _known_scenarios(drill=None, scenario=""):
    """{key: title}: the scenarios of every routine in force (their system named when there is
    more than one), and the one the drill was started as, as its pinned version has it."""
    systems = loader.routines_in_force()
    known = {}
    for version in systems:
        for key, title in version.scenario_choices:
            known.setdefault(key, f"{version.system}: {title}" if len(systems) > 1 else title)
    if drill is not None:
        definition = drill.incident.routine.scenarios.get(scenario)
        known.setdefault(scenario, definition.title if definition is not None else scenario)
    return known


@require_GET
def compare(request):
    """Övningar sida vid sida: one scenario's ended drills, or one drill and those before it."""
    if not scorecard.may_compare(request.user):
        return _forbidden(request)
    drill = None
    wanted = request.GET.get("ovning", "")
    if wanted:
        if not wanted.isdigit() or len(wanted) > 12:
            raise Http404
        drill = _drill_or_404(int(wanted))
    scenario = scorecard.started_as(drill) if drill is not None else request.GET.get("scenario", "")
    known = _known_scenarios(drill, scenario)
    if scenario not in known:
        return render(
            request,
            "drills/scorecard_compare.html",
            {"scenarios": list(known.items()), "comparison": None},
            status=400 if scenario else 200,
        )
    comparison = scorecard.compare(scenario, drill)
    if not comparison.cards:
        comparison.scenario_title = str(known[scenario])
    return render(
        request,
        "drills/scorecard_compare.html",
        {"scenarios": list(known.items()), "comparison": comparison, "scenario": scenario, "drill": drill},
    )
