"""Övningsplan (/ovningar/plan/): how often each scenario is drilled, when it last was and
when it is next due. Verksamhetsansvarig changes the intervals; Verksamhetsspecialist reads
them. The rules live in ``incidents.drill_plan``."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incidents import drill_plan
from runbook.errors import ActionRefused

# The select's choice that means "the number of days typed beside it".
OTHER = "dagar"


def _forbidden(request):
    return render(request, "403.html", status=403)


@require_http_methods(["GET", "POST"])
def plan(request):
    """The plan; a POST sets one scenario's interval (Verksamhetsansvarig only)."""
    if not drill_plan.may_view(request.user):
        return _forbidden(request)
    refused = None
    typed = {}
    status = 200
    if request.method == "POST":
        if not drill_plan.may_set(request.user):
            return _forbidden(request)
        routine = request.POST.get("rutin", "")[:60]
        scenario = request.POST.get("scenario", "")[:40]
        choice = request.POST.get("intervall", "")[:10]
        days = request.POST.get("dagar", "")[:10]
        try:
            saved = drill_plan.set_interval(
                request.user,
                routine=routine or None,
                scenario=scenario,
                interval_days=days if choice == OTHER else choice,
            )
        except ActionRefused as error:
            refused = (routine, scenario, error.message)
            typed = {"choice": choice, "days": days}
            status = 403 if error.code == "forbidden" else 400
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Övningsplanen är sparad: %(scenario)s övas %(interval)s.")
                % {
                    "scenario": drill_plan.scenario_title(saved),
                    "interval": drill_plan.interval_words(saved.interval_days),
                },
            )
            return redirect("drills:plan")
    lines = drill_plan.plan()
    rows = []
    presets = {days for days, _label in drill_plan.PRESETS}
    for line in lines:
        error = None
        choice = str(line.interval_days) if line.interval_days in presets else OTHER
        days = "" if choice != OTHER else str(line.interval_days)
        if refused and refused[1] == line.scenario and refused[0] in ("", line.routine_key):
            error = refused[2]
            choice, days = typed["choice"], typed["days"]
        rows.append({"line": line, "choice": choice, "days": days, "error": error})
    context = {
        "rows": rows,
        "may_set": drill_plan.may_set(request.user),
        "presets": [(str(days), label) for days, label in drill_plan.PRESETS],
        "other": OTHER,
        "min_days": drill_plan.DRILL_INTERVAL_MIN_DAYS,
        "max_days": drill_plan.DRILL_INTERVAL_MAX_DAYS,
        "many_routines": drill_plan.many_routines(lines),
    }
    return render(request, "drills/plan.html", context, status=status)
