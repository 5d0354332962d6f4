"""Pages: parse the request, call a service or a selector, render. No rules live here."""

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from routines import loader
from runbook import polling
from runbook.scenarios import Role

from . import (
    cockpit,
    drill_plan,
    drills,
    flows,
    forms,
    offers,
    pack,
    permissions,
    preconditions,
    selectors,
    services,
    stamps,
)
from .models import Incident, State
from .pagination import page_number
from .services import ActionRefused, NeedsConfirmation
from .timeline import in_record_language

# The live list shows this many incidents a page.
LIVE_PAGE_SIZE = 50


def _forbidden(request):
    return render(request, "403.html", status=403)


# The checkboxes a person ticks to confirm a warning (services.NeedsConfirmation).
CONFIRM_PARAM = "bekrafta"


def _confirmed(request):
    return request.POST.getlist(CONFIRM_PARAM)


def _status_of(refused):
    return {"forbidden": 403, "conflict": 409, "rate_limited": 429}.get(refused.code, 400)


@require_GET
def live(request):
    """Pågående störningar. A poll (htmx) is answered from the live list's stamp."""
    if not permissions.has(request.user, "view_incident"):
        return _forbidden(request)
    number = page_number(request)
    key = f"live-{number or 1}"
    if request.htmx:
        return polling.respond(
            request,
            key=key,
            stamp=stamps.live_stamp(),
            template="incidents/_live_table.html",
            build=lambda: _live_context(number),
        )
    # The stamp is read before the list: a change in between makes the next poll render anew.
    stamp = stamps.live_stamp()
    context, next_change_at = _live_context(number)
    context["poll"] = polling.token(key, stamp, next_change_at)
    # The drill plan is read with the whole page only, never with a poll: it changes by the day.
    context.update(_drill_plan_context(request.user, context["now"]))
    return render(request, "incidents/live.html", context)


def _drill_plan_context(user, now):
    lines = drill_plan.plan(now)
    due = [line for line in lines if line.overdue]
    return {
        "drill_plan": lines,
        "drill_plan_due": due,
        "drill_plan_next": min(
            (line for line in lines if not line.overdue), key=lambda line: line.next_due, default=None
        ),
        "drill_plan_many_routines": drill_plan.many_routines(lines),
        "drill_plan_readable": drill_plan.may_view(user),
        "drill_tasks": drill_plan.tasks_for(user, lines),
        "drills_url": _drills_url(),
    }


def _drills_url():
    """Where a drill is started: the Övningar pages."""
    return reverse("drills:index")


def _live_context(number=None):
    """The live list (a page of it when long: every open browser re-fetches it every few
    seconds) and the first moment it would read differently with nothing changed.

    Each row is kept per incident list version (``polling.rows``): a change renders one row."""
    now = timezone.now()
    page = Paginator(selectors.live_versions(), LIVE_PAGE_SIZE).get_page(number)
    real = list(page.object_list)
    # Running drills, apart below the real ones (one query more: their ids and versions).
    drills_running = selectors.live_drill_versions()
    several = loader.several_routines()
    rows, next_change_at = polling.rows(
        "live-row-system" if several else "live-row",
        real + drills_running,
        "incidents/_live_rows.html",
        partial(_live_rows_context, now=now, several=several),
    )
    context = {
        "rows": rows[: len(real)],
        "drill_rows": rows[len(real) :],
        "page": page,
        "total": page.paginator.count,
        "refresh_seconds": settings.LIVE_REFRESH_SECONDS,
        "now": now,
    }
    return context, next_change_at


def _live_rows_context(pks, now, several=False):
    found = {incident.pk: incident for incident in selectors.live_incidents(pks)}
    incidents = [found[pk] for pk in pks if pk in found]
    for incident in incidents:
        incident.waiting_on = selectors.whose_move(incident)
        incident.clocks = cockpit.clocks(incident, now)
    return {"incidents": incidents, "now": now, "several": several}, [
        selectors.next_change_of([i], now) for i in incidents
    ]


def _report_routine(request, routine_key, systems):
    """The routine a report is made in, and the refusal when the one named has no version in
    force. With one routine it is that one; with more the person picks the system (None)."""
    if routine_key is None and request.method == "POST":
        # A form kept on a device names its routine.
        routine_key = request.POST.get("routine") or None
    if routine_key is None:
        return (systems[0] if len(systems) == 1 else None), None
    found = next((v for v in systems if v.routine_key == routine_key), None)
    if found is None:
        return None, _("Det finns ingen rutin för det systemet. Välj ett av systemen nedan.")
    return found, None


@require_http_methods(["GET", "POST"])
def report(request, routine_key=None):
    """Anmäl störning, with the triage guide. With more than one routine (IT system) the page
    asks which system first (``anmal/<routine>/`` is the form for one)."""
    if not permissions.has(request.user, "report_incident"):
        return _forbidden(request)
    systems = loader.routines_in_force()
    routine, refusal = _report_routine(request, routine_key, systems)
    if routine is None:
        if refusal is None and request.method == "POST":
            refusal = _("Välj först vilket system störningen gäller.")
        status = 200 if refusal is None else (404 if request.method == "GET" else 400)
        return render(request, "incidents/report_system.html", {"systems": systems, "refusal": refusal}, status=status)
    several = len(systems) > 1
    report_url = (
        reverse("incidents:report_routine", args=[routine.routine_key]) if several else reverse("incidents:report")
    )

    def page(form, proposal, template="incidents/report.html", status=200):
        context = {
            "form": form,
            "proposal": proposal,
            "scenarios": form.routine.scenarios,
            "routine": form.routine,
            "several": several,
            "report_url": report_url,
        }
        return render(request, template, context, status=status)

    proposal = None
    if request.method == "POST":
        form = forms.ReportForm(request.POST, routine=routine)
        proposal = form.proposal()
        if request.POST.get("action") == "propose" or request.htmx:
            # Only the triage was answered: show the proposal, save nothing.
            data = request.POST.copy()
            if proposal:
                data["scenario"] = proposal
            form = forms.ReportForm(initial=data.dict(), routine=routine)
            return page(form, proposal, "incidents/_triage_proposal.html" if request.htmx else "incidents/report.html")
        if form.is_valid():
            try:
                with in_record_language():
                    incident = services.open_incident(
                        request.user,
                        routine=routine.routine_key,
                        scenario=form.cleaned_data["scenario"],
                        summary=form.cleaned_data["summary"],
                        began_at=form.cleaned_data.get("began_at"),
                        triage=form.triage_answers(),
                        confirmed=_confirmed(request),
                    )
            except NeedsConfirmation as refused:
                form.confirmations = refused.warnings
            except ActionRefused as refused:
                form.add_error(None, refused.message)
                if refused.code == "rate_limited":
                    return page(form, proposal, status=429)
            else:
                messages.success(
                    request, _("Störningen är anmäld. Verksamhetsspecialist och verksamhetsansvarig ser den nu.")
                )
                return redirect("incidents:detail", incident.pk)
    else:
        form = forms.ReportForm(routine=routine)
    return page(form, proposal, status=400 if request.method == "POST" else 200)


@require_GET
def detail(request, pk):
    """The incident page: rendered once per change of the incident, language and kind of viewer
    (runbook.polling.CachedPart); an unchanged page costs one indexed query and the cache."""
    if not permissions.has(request.user, "view_incident"):
        return _forbidden(request)
    try:
        head = selectors.incident_head(pk)
    except Incident.DoesNotExist:
        raise Http404 from None
    part = polling.CachedPart(_page_key(pk), str(head.version), _variant(request.user, head))
    if part.hit:
        return render(request, "incidents/detail.html", {"incident": head, "page_part": part})
    context = _detail_context(request, selectors.with_page_data(head))
    part.until = context["next_change_at"]
    context["page_part"] = part
    return render(request, "incidents/detail.html", context)


def _variant(user, incident):
    """What the page part is kept per besides the incident: the kind of viewer, and whether
    the page names the system (more than one routine)."""
    variant = permissions.viewer_variant(user, incident)
    return f"{variant}+system" if loader.several_routines() else variant


def _page_key(pk):
    """The incident page's part, kept and polled under one key (with the viewer's variant)."""
    return f"incident-{pk}-page"


@require_GET
def part(request, pk, name):
    """The incident page's part, polled by the page itself: 204 while the incident is unchanged
    (one indexed query), else rendered once per change and kind of viewer."""
    if name != "sida":
        raise Http404
    if not permissions.has(request.user, "view_incident"):
        return _forbidden(request)
    try:
        head = selectors.incident_head(pk)
    except Incident.DoesNotExist:
        raise Http404 from None

    def build():
        context = _detail_context(request, selectors.with_page_data(head))
        # The notices' tag reads the viewer from the request; what it shows depends only on
        # the viewer's permissions, which the variant carries.
        context["request"] = request
        return context, context["next_change_at"]

    return polling.respond(
        request,
        key=_page_key(pk),
        stamp=str(head.version),
        template="incidents/_incident_page.html",
        build=build,
        variant=_variant(request.user, head),
    )


def _detail_context(request, incident, **forms_with_errors):
    user = request.user
    roles = permissions.user_roles(user)
    scenario = incident.scenario_def
    sees_all = permissions.has(user, "complete_any_task")
    tasks = list(incident.tasks.all())
    open_tasks = [t for t in tasks if not t.is_done]
    mine = [t for t in open_tasks if t.role in roles or sees_all]
    my_steps = [s for s in scenario.steps if s.role in roles] if not sees_all else list(scenario.steps)
    transitions = [(name, offers.transition_label(name)) for name in offers.available_transitions(user, incident)]
    can = offers.available_actions(user, incident)
    now = timezone.now()
    events = list(incident.events.all())
    reached_reserve = State.RESERVE_ROUTINE in flows.states_reached_in(events)
    incident.pending_timers = selectors.pending_timers(incident)
    close_blockers = preconditions.close_blockers(incident)
    waiting_on = selectors.whose_move(incident)
    reserve_orders = selectors.reserve_orders_of(incident)
    context = {
        "incident": incident,
        "scenario": scenario,
        # More than one routine: the page names the incident's system.
        "several": loader.several_routines(),
        "roles": [Role.label(r) for r in sorted(roles, key=Role.ALL.index)],
        "is_kundservice": Role.KUNDSERVICE in roles,
        "my_tasks": mine,
        # Each with what the page offers for it: its "Klar" button, the action that does it, or nothing.
        "my_task_offers": [
            (task, offers.task_offer(user, incident, task, transitions, can["prognosis"])) for task in mine
        ],
        "other_open_tasks": [t for t in open_tasks if t not in mine],
        "done_tasks": [t for t in tasks if t.is_done],
        "my_steps": my_steps,
        "transitions": transitions,
        "can": can,
        "waiting_on": waiting_on,
        "caller_script": cockpit.caller_script(incident, now, reached_reserve=reached_reserve),
        "caller_summary": selectors.caller_summary(incident),
        "events": events,
        "reserve_orders": reserve_orders,
        # Shown while the reserve routine applies, and afterwards while it took orders.
        "shows_reserve_orders": incident.state == State.RESERVE_ROUTINE or bool(reserve_orders),
        # Said beside "Avsluta" where it is offered (on a resolved incident).
        "close_blockers": close_blockers if any(name == "close" for name, _label in transitions) else [],
        "driftinfo_url": settings.DRIFTINFO_PUBLIC_URL,
        "servicedesk_phone": settings.SERVICEDESK_PHONE,
        "clocks": cockpit.clocks(incident, now),
        "contacts": selectors.contacts_for_page(),
        "now": now,
        "refresh_seconds": settings.LIVE_REFRESH_SECONDS,
        "next_step": cockpit.next_step(
            user,
            incident,
            transitions=transitions,
            can=can,
            my_tasks=mine,
            waiting_on=waiting_on,
            close_blockers=close_blockers,
            now=now,
        ),
    }
    context["next_change_at"] = selectors.next_change_of([incident], context["now"])
    context["poll"] = polling.token(
        _page_key(incident.pk),
        str(incident.version),
        context["next_change_at"],
        permissions.viewer_variant(user, incident),
    )
    # Only the forms of what this person may do now are made (and drawn by the template).
    names = {name for name, _label in transitions}
    offered = {
        "note_form": (bool(names), lambda: forms.NoteForm()),
        "cancel_form": ("cancel" in names, lambda: forms.CancelForm()),
        "review_form": ("close" in names, lambda: forms.ReviewForm()),
        "prognosis_form": (can["prognosis"], lambda: forms.PrognosisForm()),
        "comment_form": (can["note"], lambda: forms.CommentForm()),
        "caller_form": (can["caller_report"], lambda: forms.CallerReportForm()),
        "it_contact_form": (
            can["it_contact"],
            lambda: forms.ItContactForm(
                initial={"servicedesk_ref": incident.servicedesk_ref, "vendor_contact": incident.vendor_contact}
            ),
        ),
        "reclassify_form": (
            can["reclassify"],
            lambda: forms.ReclassifyForm(initial={"scenario": incident.scenario}, routine=incident.routine),
        ),
        "order_form": (can["reserve_order"], lambda: forms.ReserveOrderForm()),
        "break_off_form": (drills.may_break_off(user, incident), lambda: forms.BreakOffForm()),
    }
    for name, (allowed, make) in offered.items():
        context[name] = make() if allowed else None
    context.update(forms_with_errors)
    return context


# After an action the page opens at its confirmation, which then has the focus (the message
# box in base.html has this id and tabindex=-1): a screen reader reads it, Tab goes on from it.
CONFIRMATION_ANCHOR = "bekraftelse"


def _back(pk):
    return redirect(reverse("incidents:detail", args=[pk]) + f"#{CONFIRMATION_ANCHOR}")


def _act(request, pk, form_class, form_name, call, success):
    """Validate a small form and call a service; on refusal re-render with the reason, unchanged."""
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _rerender(request, pk, {form_name: form}, status=400)
    try:
        with in_record_language():
            call(form.cleaned_data if form is not None else {})
    except NeedsConfirmation as refused:
        # Nothing is saved: the form comes back as typed, with what to confirm in it.
        form.confirmations = refused.warnings
        return _rerender(request, pk, {form_name: form}, status=400)
    except ActionRefused as refused:
        if refused.code == "not_found":
            raise Http404 from None
        # The reason is shown once, at the top of the page; the form keeps what was typed.
        messages.error(request, refused.message)
        return _rerender(request, pk, {form_name: form} if form is not None else {}, status=_status_of(refused))
    messages.success(request, success)
    return _back(pk)


def _rerender(request, pk, forms_with_errors, status):
    try:
        incident = selectors.incident_for_page(pk)
    except Incident.DoesNotExist:
        raise Http404 from None
    if not permissions.has(request.user, "view_incident"):
        return _forbidden(request)
    return render(
        request, "incidents/detail.html", _detail_context(request, incident, **forms_with_errors), status=status
    )


@require_POST
def transition(request, pk, name):
    if name not in permissions.TRANSITION_PERMISSIONS:
        raise Http404
    if name == "cancel":
        return _act(
            request,
            pk,
            forms.CancelForm,
            "cancel_form",
            lambda d: services.cancel(request.user, pk, reason=d["reason"]),
            _("Störningen är makulerad."),
        )
    if name == "close":
        return _act(
            request,
            pk,
            forms.ReviewForm,
            "review_form",
            lambda d: services.close(
                request.user,
                pk,
                review={k: d.get(k, "") for k in services.REVIEW_FIELDS},
                note=d.get("note", ""),
            ),
            _("Störningen är avslutad. Uppföljningen finns i rapporten."),
        )
    return _act(
        request,
        pk,
        partial(forms.NoteForm, transition=name),
        "note_form",
        lambda d: services.fire(request.user, pk, name, note=d.get("note", "")),
        _("%(action)s: klart.") % {"action": offers.transition_label(name)},
    )


@require_POST
def break_off(request, pk):
    """Avbryt övningen (a drill only), with the reason."""
    return _act(
        request,
        pk,
        forms.BreakOffForm,
        "break_off_form",
        lambda d: drills.break_off(request.user, pk, d["reason"]),
        _("Övningen är avbruten."),
    )


@require_POST
def prognosis(request, pk):
    def call(d):
        expected = d["expected_at"] if d["kind"] == "at" else None
        services.record_prognosis(request.user, pk, expected, note=d.get("note", ""))

    return _act(request, pk, forms.PrognosisForm, "prognosis_form", call, _("Prognosen är registrerad."))


@require_POST
def note(request, pk):
    return _act(
        request,
        pk,
        forms.CommentForm,
        "comment_form",
        lambda d: services.add_note(request.user, pk, d["text"], confirmed=_confirmed(request)),
        _("Anteckningen är sparad."),
    )


@require_POST
def caller_report(request, pk):
    return _act(
        request,
        pk,
        forms.CallerReportForm,
        "caller_form",
        lambda d: services.log_caller_report(
            request.user,
            pk,
            functions=d["functions"],
            error_message=d["error_message"],
            prescribers=d["prescribers"],
            since=d.get("since"),
            confirmed=_confirmed(request),
        ),
        _("Samtalet är registrerat."),
    )


@require_POST
def it_contact(request, pk):
    return _act(
        request,
        pk,
        forms.ItContactForm,
        "it_contact_form",
        lambda d: services.record_it_contact(
            request.user, pk, servicedesk_ref=d["servicedesk_ref"], vendor_contact=d["vendor_contact"]
        ),
        _("Uppgifterna är sparade."),
    )


@require_POST
def reclassify(request, pk):
    return _act(
        request,
        pk,
        forms.ReclassifyForm,
        "reclassify_form",
        lambda d: services.reclassify(request.user, pk, d["scenario"], note=d.get("note", "")),
        _("Scenariot är bytt. Det nya scenariots uppgifter har lagts till."),
    )


@require_POST
def task_done(request, pk, task_id):
    return _act(
        request,
        pk,
        None,
        None,
        lambda d: services.complete_task(request.user, task_id, incident_id=pk),
        _("Uppgiften är klarmarkerad."),
    )


@require_POST
def reserve_order(request, pk):
    return _act(
        request,
        pk,
        forms.ReserveOrderForm,
        "order_form",
        lambda d: services.log_reserve_order(request.user, pk, **d),
        _("Den akuta förskrivningen är registrerad."),
    )


@require_POST
def order_entered(request, pk, order_id):
    return _act(
        request,
        pk,
        None,
        None,
        lambda d: services.mark_order_entered(request.user, order_id, incident_id=pk),
        _("Förskrivningen är markerad som inlagd i Sesam LMN."),
    )


@require_GET
def emergency_pack(request):
    """Nödpärm: the routine in force with contacts and log sheets, as a PDF to print."""
    if not permissions.has(request.user, "view_incident"):
        return _forbidden(request)
    made = pack.emergency_pack()
    response = HttpResponse(bytes(made.pdf), content_type="application/pdf")
    stamp = timezone.localtime(made.made_at).strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="nodparm-sesam-lmn-{made.routine_version}-{stamp}.pdf"'
    response["Cache-Control"] = "private, no-cache"
    return response
