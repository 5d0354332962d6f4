"""The review side's pages: Historik, the incident report and Nyckeltal, with their CSVs.

Parse the request, call a selector, render. No rules live here.
"""

from datetime import timedelta

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents import selectors as incident_selectors
from incidents.models import Incident
from incidents.pagination import BoundedPaginator, page_number
from routines import loader
from runbook import pdf, scenarios
from runbook.roles import has

from . import charts, exports, forms, reports, selectors

HISTORY_PAGE_SIZE = 25
HISTORY_PAGE_FIELDS = (
    "incident_id",
    "is_drill",
    "scenario",
    "final_state",
    "reported_at",
    "secs_to_acknowledged",
    "secs_to_resolved",
    "had_reserve_routine",
    "reserve_by_hand",
    "steps_late",
    "steps_skipped",
    "incident__scenario",
    "incident__summary",
    "incident__state",
    "incident__pinned_version",
)
# Historik counts its rows this far and says "more than" beyond (see BoundedPaginator).
HISTORY_COUNT_LIMIT = 1000


def _forbidden(request):
    return render(request, "403.html", status=403)


def _bad_filter(form):
    """A 400 for a CSV whose filters were refused, with the reasons as text."""
    reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return HttpResponse(reasons, status=400, content_type="text/plain; charset=utf-8")


def _may_see(user):
    return has(user, "view_incident")


def _may_export(user):
    return has(user, "export_figures", app="review")


def _history_rows(metrics):
    """Historik's table rows as ready strings.

    Worked out here rather than with template filters and ``get_*_display`` per cell: the
    labels are looked up once per request instead of once per row and cell.
    """
    state_labels = {k: str(v) for k, v in Incident._meta.get_field("state").flatchoices}
    yes, no, by_hand = _("Ja"), _("Nej"), _("manuellt")
    not_followed = _("Nej: %(late)s sent, %(skipped)s ej utförda")
    rows = []
    for m in metrics:
        incident = m.incident
        if m.had_reserve_routine:
            reserve = f"{yes} ({by_hand})" if m.reserve_by_hand else yes
        else:
            reserve = no
        rows.append(
            {
                "incident_id": m.incident_id,
                "is_drill": m.is_drill,
                # The title in the version the incident ran under (kept per process by its id).
                "scenario": str(incident.scenario_title),
                "summary": Truncator(incident.summary).chars(120),
                "final_state": m.final_state,
                "state": state_labels.get(incident.state, incident.state),
                "reported": timezone.localtime(m.reported_at).strftime("%Y-%m-%d %H:%M") if m.reported_at else "",
                "to_acknowledged": reports.format_duration(m.secs_to_acknowledged),
                "to_resolved": reports.format_duration(m.secs_to_resolved),
                "reserve": reserve,
                "followed": yes
                if m.followed_routine
                else not_followed % {"late": m.steps_late, "skipped": m.steps_skipped},
            }
        )
    return rows


@require_GET
def history(request):
    """Historik: ended incidents, filtered, sorted and paginated; the filters live in the URL."""
    if not _may_see(request.user):
        return _forbidden(request)
    form = forms.HistoryFilterForm(request.GET or None)
    # Only the columns the page shows (the CSV export takes the whole rows).
    rows = (
        selectors.history(**form.filters()).select_related(None).select_related("incident").only(*HISTORY_PAGE_FIELDS)
    )
    number = page_number(request)
    paginator = BoundedPaginator(rows, HISTORY_PAGE_SIZE, count_limit=HISTORY_COUNT_LIMIT, page_number=number)
    page = paginator.get_page(number)
    params = request.GET.copy()
    params.pop("sida", None)
    return render(
        request,
        "review/history.html",
        {
            "page": page,
            "rows": _history_rows(page.object_list),
            "form": form,
            "query": params.urlencode(),
            "may_export": _may_export(request.user),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@require_GET
def history_csv(request):
    """The filtered Historik as CSV (all pages), streamed."""
    if not (_may_see(request.user) and _may_export(request.user)):
        return _forbidden(request)
    form = forms.HistoryFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _bad_filter(form)
    rows = selectors.history(**form.filters()).iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        exports.rows_to_lines(exports.history_header(), exports.history_rows(rows)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="historik-{stamp}.csv"'
    return response


@require_GET
def incident_report(request, pk):
    """Rapport: the whole timeline and what it says, printable on A4 and downloadable."""
    if not _may_see(request.user):
        return _forbidden(request)
    try:
        incident = selectors.incident_for_report(pk)
    except Incident.DoesNotExist:
        raise Http404 from None
    events = list(incident.events.all())
    routine = incident.routine
    derived = reports.derive(events, routine=routine)
    reserve_after = loader.duration(routine, "reserve_routine_after")
    context = {
        "incident": incident,
        "scenario": incident.scenario_def,
        "events": events,
        "d": derived,
        "durations": [(label, at, reports.format_duration(delta)) for _key, label, at, delta in derived.durations()],
        "escalation_to_ack": reports.format_duration(derived.escalation_to_ack),
        "reserve_after": reports.format_duration(reserve_after),
        "reclassifications": [
            (
                at,
                routine.scenarios[a].title if a in routine.scenarios else a,
                routine.scenarios[b].title if b in routine.scenarios else b,
            )
            for at, a, b in derived.reclassifications
        ],
        "steps": [s for s in derived.steps],
        "reserve_orders": incident_selectors.reserve_orders_of(incident),
        "milestones_chart": charts.milestones(
            [(label, delta) for _key, label, _at, delta in derived.durations()],
            _("Tid från anmälan till varje skede"),
            marker=(_("Reservrutinens gräns"), reserve_after)
            if incident.scenario_def.uses(scenarios.RESERVE_ROUTINE) or derived.reserve_at
            else None,
        ),
        "download": request.GET.get("ladda-ner") == "1",
        "printed_at": timezone.now(),
    }
    if context["download"]:
        # The same page as a PDF on A4 (its own print stylesheet inline, the chart as SVG).
        context["inline_css"] = pdf.static_text("css/report.css")
        html = render(request, "review/incident_report_file.html", context).content.decode()
        response = HttpResponse(pdf.html_to_pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="storning-{incident.pk}-rapport.pdf"'
        return response
    return render(request, "review/incident_report.html", context)


def _month_label(month):
    return timezone.localtime(month).strftime("%Y-%m") if month else ""


def _figures_context(request):
    form = forms.FiguresPeriodForm(request.GET or None)
    start_day, end_day = form.chosen_period()
    if not form.is_bound:
        form.initial = {"fran": start_day, "till": end_day}  # the default period, shown in the form
    start = forms.stockholm_day_start(start_day)
    end = forms.stockholm_day_start(end_day + timedelta(days=1))
    figures = selectors.figures(start, end)
    # The scenarios of the routines in force and any other the period holds, translated once, not per bar.
    systems = loader.routines_in_force()
    series = selectors.scenario_series(sorted({row["scenario"] for row in figures["monthly"]}), systems)
    if figures["ack_target"] is None:
        # Each incident counts against its own version's target: named when the routines in
        # force agree on one.
        targets = {loader.duration(version, "ack_timeout") for version in systems}
        figures["ack_target"] = targets.pop() if len(targets) == 1 else None
    by_month = {}
    for row in figures["monthly"]:
        label = _month_label(row["month"])
        counts, extra = by_month.setdefault(label, ({}, {"cancelled": 0, "reserve": 0}))
        counts[row["scenario"]] = counts.get(row["scenario"], 0) + row["incidents"]
        extra["cancelled"] += row["cancelled"]
        extra["reserve"] += row["reserve"]
    months = []
    cursor = start_day.replace(day=1)
    while cursor <= end_day:
        label = cursor.strftime("%Y-%m")
        counts, extra = by_month.get(label, ({}, {"cancelled": 0, "reserve": 0}))
        months.append((label, counts, extra))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    return form, start_day, end_day, figures, series, months


@require_GET
def figures(request):
    """Nyckeltal for a period: tables, SVG charts, and the way to CSV."""
    if not (_may_see(request.user) and _may_export(request.user)):
        return _forbidden(request)
    form, start_day, end_day, figures, series, months = _figures_context(request)
    durations = [
        dict(d, median_text=reports.format_duration(d["median"]), p90_text=reports.format_duration(d["p90"]))
        for d in figures["durations"]
    ]
    context = {
        "form": form,
        "start": start_day,
        "end": end_day,
        "figures": figures,
        "series": series,
        "months": [
            (label, [counts.get(k, 0) for k, _l in series], sum(counts.values()), extra)
            for label, counts, extra in months
        ],
        "durations": durations,
        "ack_minutes": None if figures["ack_target"] is None else int(figures["ack_target"].total_seconds() // 60),
        "ack_percent": None if figures["acknowledged_share"] is None else round(figures["acknowledged_share"] * 100),
        "monthly_chart": charts.monthly_stacked(
            [(label, counts) for label, counts, _e in months],
            series,
            _("Störningar per månad och scenario, %(a)s – %(b)s") % {"a": start_day, "b": end_day},
        ),
        "durations_chart": charts.durations_bars(
            figures["durations"],
            _("Median och 90:e percentil för tiderna från anmälan"),
            {"median": _("Median"), "p90": _("90:e percentil")},
        ),
        "query": request.GET.urlencode(),
    }
    return render(request, "review/figures.html", context, status=400 if form.errors else 200)


@require_GET
def figures_csv(request):
    if not (_may_see(request.user) and _may_export(request.user)):
        return _forbidden(request)
    form, start_day, end_day, figures, series, months = _figures_context(request)
    if form.errors:
        return _bad_filter(form)
    response = HttpResponse(exports.figures_text(figures, months, series), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="nyckeltal-{start_day}-{end_day}.csv"'
    return response
