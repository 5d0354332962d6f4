"""Keeping the routine (/rutin/versioner/): the versions, the draft and its pages, publishing. Parse, call
``routines.services``, render; every check of who may and what a routine may hold is there.

Each form posts the draft's revision it was read at and, in ``base``, the part of the document
it shows as it was then: an edit on an older revision is refused by the service, and the page
then shows what the other person changed (``routines.diff`` of ``base`` and the draft now)."""

import copy
import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from runbook.errors import ActionRefused

from . import diff, forms, loader, services, words
from . import document as routine_document
from . import texts as notice_texts
from .models import Routine, RoutineVersion

# The largest ``base`` a form may post back (version 1 whole is about 20 kB).
BASE_MAX = 200_000


def _forbidden(request):
    return render(request, "403.html", status=403)


def _draft_or_404(version_id):
    version = get_object_or_404(RoutineVersion.objects.select_related("routine"), pk=version_id)
    if version.is_published:
        raise Http404
    return version


def _published(routine):
    try:
        return loader.in_force_version(routine)
    except loader.NoVersionInForce:
        return None


def _changes(routine, document):
    published = _published(routine)
    before = published.document if published else {}
    # Version 1 is kept in format 1: compared as read, with the words it sends.
    before = routine_document.upgraded(
        before, routine_key=routine.key, routine_name=routine.name, system=routine.system
    )
    return diff.changes(before, document)


def _scenario_index(document, key):
    for i, scenario in enumerate(document.get("scenarios") or []):
        if scenario.get("key") == key:
            return i
    raise Http404


def _posted_revision(request):
    value = request.POST.get("revision", "")
    return int(value) if value.isdigit() else 0


def _posted_base(request):
    """The part of the document the form showed when it was read, or None."""
    raw = request.POST.get("base", "")
    if not raw or len(raw) > BASE_MAX:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _others_change(version, base, put):
    """What the other person changed in the part this form edits: ``put(document, part)``
    sets the part; the draft now against the draft with the part as this person read it."""
    if base is None:
        return []
    before = copy.deepcopy(version.document)
    try:
        put(before, base)
    except (KeyError, IndexError, TypeError, AttributeError):
        return []
    return diff.changes(before, version.document)


def _save(request, version, document, *, base, put):
    """Save through the service. Returns None when saved, else the refusal's context."""
    try:
        services.save_draft(request.user, version.pk, document, revision=_posted_revision(request))
    except ActionRefused as refused:
        if refused.code == "forbidden":
            return {"forbidden": True}
        if refused.code == "not_found":
            raise Http404 from None
        version.refresh_from_db()
        if version.is_published:
            raise Http404 from None
        stale = refused.code == "conflict" and version.revision != _posted_revision(request)
        return {
            "refusal": refused.message,
            "stale": stale,
            "others_change": _others_change(version, base, put) if stale else [],
            "my_change": diff.changes(version.document, document) if stale else [],
        }
    return None


# --- the versions ---------------------------------------------------------------------------


def versions(request):
    """Every routine with its versions: number, status, published when, by whom and why."""
    routines = Routine.objects.prefetch_related("versions__published_by").order_by("name")
    return render(
        request,
        "routines/versions.html",
        {
            "routines": routines,
            "may_edit": services.may_edit(request.user),
            "may_add_routine": services.may_publish(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def new_routine(request):
    """Ny rutin: a routine for another system (key, name, system), its first version an empty
    draft; for Verksamhetsansvarig."""
    if not services.may_publish(request.user):
        return _forbidden(request)
    form = forms.NewRoutineForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        typed = form.cleaned_data
        try:
            draft = services.new_routine(request.user, key=typed["key"], name=typed["name"], system=typed["system"])
        except ActionRefused as refused:
            if refused.code == "forbidden":
                return _forbidden(request)
            form.add_error(None, refused.message)
            status = 409 if refused.code == "conflict" else 400
        else:
            messages.success(
                request,
                _("Rutinen %(name)s är tillagd. Fyll i utkastet: scenarier, triage och meddelanden.")
                % {"name": draft.routine.name},
            )
            return redirect("routines:draft", version_id=draft.pk)
    return render(request, "routines/new_routine.html", {"form": form}, status=status)


@require_POST
def start_draft(request, routine_key):
    routine = get_object_or_404(Routine, key=routine_key)
    try:
        draft = services.start_draft(request.user, routine)
    except ActionRefused as refused:
        if refused.code == "forbidden":
            return _forbidden(request)
        messages.error(request, refused.message)
        return redirect("routines:versions")
    return redirect("routines:draft", version_id=draft.pk)


# --- the draft ------------------------------------------------------------------------------


def _draft_page(request, version, *, durations_form=None, new_scenario=None, status=200, **extra):
    document = version.document
    if durations_form is None:
        found = document.get("durations") or {}
        durations_form = forms.DurationsForm(
            initial={
                "label": document.get("label") or "",
                **{name: forms.minutes(found.get(name)) for name in ("reserve_routine_after", "ack_timeout")},
            }
        )
    published = _published(version.routine)
    return render(
        request,
        "routines/draft.html",
        {
            "version": version,
            "published": published,
            "changes": _changes(version.routine, document),
            "scenarios": [
                (s.get("key"), words.text(s.get("title")), len(s.get("steps") or []))
                for s in document.get("scenarios") or []
            ],
            "durations_form": durations_form,
            "durations_base": json.dumps({"durations": document.get("durations"), "label": document.get("label")}),
            "new_scenario": new_scenario or forms.NewScenarioForm(),
            "scenarios_base": json.dumps(document.get("scenarios") or []),
            "triage_counts": (
                len((document.get("triage") or {}).get("questions") or []),
                len((document.get("triage") or {}).get("proposals") or []),
            ),
            "may_publish": services.may_publish(request.user),
            **extra,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def draft(request, version_id):
    """The draft: what differs from the version in force, its durations, its scenarios."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    if request.method == "GET":
        return _draft_page(request, version)
    form = forms.DurationsForm(request.POST)
    if not form.is_valid():
        return _draft_page(request, version, durations_form=form, status=400)
    document = copy.deepcopy(version.document)
    typed = form.cleaned_data
    document["durations"] = {name: forms.seconds(typed[name]) for name in ("reserve_routine_after", "ack_timeout")}
    document.pop("label", None)
    if typed["label"].strip():
        document["label"] = typed["label"].strip()

    def put(doc, part):
        doc["durations"] = part["durations"]
        doc.pop("label", None)
        if part.get("label"):
            doc["label"] = part["label"]

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Versionens namn och tider är sparade i utkastet."))
        return redirect("routines:draft", version_id=version.pk)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _draft_page(request, version, status=409, **refused)
    return _draft_page(request, version, durations_form=form, status=400, **refused)


def _step_forms(steps, data=None):
    return [
        forms.StepForm(data, prefix=f"steg-{i}", initial=forms.step_initial(step), step=step)
        for i, step in enumerate(steps)
    ]


def _scenario_page(request, version, index, *, scenario_form=None, step_forms=None, new_step=None, status=200, **extra):
    scenario = version.document["scenarios"][index]
    script = scenario.get("caller_script") or {}
    if scenario_form is None:
        scenario_form = forms.ScenarioForm(
            initial={
                "title": scenario.get("title"),
                "routine_text": scenario.get("routine_text"),
                **{part: "\n".join(script.get(part) or []) for part in ("during", "reserve", "restored")},
                "transitions": list(scenario.get("transitions") or []),
            }
        )
    return render(
        request,
        "routines/scenario.html",
        {
            "version": version,
            "scenario_key": scenario.get("key"),
            "title": words.text(scenario.get("title")),
            "scenario_form": scenario_form,
            "step_forms": step_forms if step_forms is not None else _step_forms(scenario.get("steps") or []),
            "new_step": new_step or forms.StepForm(prefix="nytt", initial={"due_on": "reported"}),
            "base": json.dumps(scenario),
            "scenarios_base": json.dumps(version.document.get("scenarios") or []),
            **extra,
        },
        status=status,
    )


def _edited_scenario(scenario, scenario_form, step_forms, new_step, action):
    """The scenario as the forms say, with the step added, removed or moved that ``action`` asks."""
    edited = copy.deepcopy(scenario)
    data = scenario_form.cleaned_data
    edited["title"] = data["title"]
    edited["routine_text"] = data["routine_text"]
    edited["caller_script"] = {part: forms.lines(data[part]) for part in ("during", "reserve", "restored")}
    # Kept in the order the state machine names them, whatever order the boxes came back in.
    edited["transitions"] = [name for name in words.TRANSITION_LABELS if name in data["transitions"]]
    old_steps = {step.get("key"): step for step in scenario.get("steps") or []}
    steps = []
    for form in step_forms:
        typed = form.cleaned_data
        step = copy.deepcopy(old_steps.get(typed["key"], {}))
        step.update(
            key=typed["key"] or _new_key(old_steps),
            instruction=typed["instruction"],
            role=typed["role"],
            due_on=typed["due_on"],
            within=forms.seconds(typed["within"]),
            done_by=typed["done_by"] or None,
            only_after=typed["only_after"] or None,
            delivered_by=form.delivered_by(),
            ongoing=typed["ongoing"],
        )
        steps.append(step)
    kind, _sep, number = action.partition("-")
    at = int(number) if number.isdigit() and int(number) < len(steps) else None
    if kind == "remove" and at is not None:
        del steps[at]
    elif kind == "up" and at:
        steps[at - 1], steps[at] = steps[at], steps[at - 1]
    elif kind == "down" and at is not None and at + 1 < len(steps):
        steps[at + 1], steps[at] = steps[at], steps[at + 1]
    elif kind == "add":
        typed = new_step.cleaned_data
        steps.append(
            {
                "key": _new_key(old_steps),
                "role": typed["role"],
                "instruction": typed["instruction"],
                "due_on": typed["due_on"],
                "within": forms.seconds(typed["within"]),
                "done_by": typed["done_by"] or None,
                "only_after": typed["only_after"] or None,
                "delivered_by": new_step.delivered_by(),
                "ongoing": typed["ongoing"],
            }
        )
    for step in steps:
        step.setdefault("only_after", None)
        step.setdefault("delivered_by", None)
        step.setdefault("ongoing", False)
    edited["steps"] = steps
    return edited


def _new_key(taken):
    n = len(taken) + 1
    while f"steg_{n}" in taken:
        n += 1
    return f"steg_{n}"


@require_POST
def new_scenario(request, version_id):
    """Nytt scenario: its heading, text and first step, added last to the draft."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    form = forms.NewScenarioForm(request.POST)
    if not form.is_valid():
        return _draft_page(request, version, new_scenario=form, status=400)
    typed = form.cleaned_data
    document = copy.deepcopy(version.document)
    scenarios = document.setdefault("scenarios", [])
    key = forms.new_key(
        typed["key"],
        typed["title"],
        {s.get("key") for s in scenarios},
        longest=routine_document.SCENARIO_KEY_MAX,
        prefix="scenario",
    )
    scenarios.append(
        {
            "key": key,
            "title": typed["title"].strip(),
            "routine_text": typed["routine_text"].strip(),
            "transitions": [],
            "steps": [
                {
                    "key": "steg_1",
                    "role": typed["role"],
                    "instruction": typed["instruction"].strip(),
                    "due_on": "reported",
                    "within": None,
                    "done_by": None,
                    "only_after": None,
                    "delivered_by": None,
                    "ongoing": False,
                }
            ],
            "caller_script": {"during": [], "reserve": [], "restored": []},
        }
    )

    def put(doc, part):
        doc["scenarios"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Scenariot är tillagt i utkastet. Fyll i dess steg och manus."))
        return redirect("routines:scenario", version_id=version.pk, scenario_key=key)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _draft_page(request, version, status=409, **refused)
    return _draft_page(request, version, new_scenario=form, status=400, **refused)


@require_POST
def move_scenario(request, version_id):
    """A scenario moved up or down in the routine's order."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    kind, _sep, number = request.POST.get("do", "").partition("-")
    if kind not in ("up", "down"):
        return redirect("routines:draft", version_id=version.pk)  # nothing asked, nothing said
    document = copy.deepcopy(version.document)
    _moved(document.setdefault("scenarios", []), kind, number)

    def put(doc, part):
        doc["scenarios"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Scenariernas ordning är sparad i utkastet."))
        return redirect(reverse("routines:draft", args=[version.pk]) + "#scenarios-h")
    if refused.get("forbidden"):
        return _forbidden(request)
    return _draft_page(request, version, status=409 if refused["stale"] else 400, **refused)


@require_POST
def remove_scenario(request, version_id, scenario_key):
    """A scenario taken out of the draft. Incidents keep the version they were reported under,
    and with it the scenario; a notice or triage proposal still naming it is refused."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    index = _scenario_index(version.document, scenario_key)
    title = words.text(version.document["scenarios"][index].get("title"))
    document = copy.deepcopy(version.document)
    del document["scenarios"][index]

    def put(doc, part):
        doc["scenarios"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Scenariot ”%(title)s” är borttaget ur utkastet.") % {"title": title})
        return redirect("routines:draft", version_id=version.pk)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _draft_page(request, version, status=409, **refused)
    refused["refusal"] = _("Scenariot ”%(title)s” kan inte tas bort: %(why)s") % {
        "title": title,
        "why": refused["refusal"],
    }
    return _scenario_page(request, version, index, status=400, **refused)


# --- the triage guide -----------------------------------------------------------------------


def _choices(document):
    triage = document.get("triage") or {}
    questions = [(q.get("key"), words.text(q.get("text"))) for q in triage.get("questions") or []]
    scenarios = [(s.get("key"), words.text(s.get("title"))) for s in document.get("scenarios") or []]
    return questions, scenarios


def _triage_page(
    request,
    version,
    *,
    question_forms=None,
    proposal_forms=None,
    new_question=None,
    new_proposal=None,
    status=200,
    **extra,
):
    triage = version.document.get("triage") or {}
    questions, scenarios = _choices(version.document)
    if question_forms is None:
        question_forms = [
            forms.QuestionForm(prefix=f"fraga-{i}", initial={"key": q.get("key"), "text": q.get("text")})
            for i, q in enumerate(triage.get("questions") or [])
        ]
    if proposal_forms is None:
        proposal_forms = [
            forms.ProposalForm(
                prefix=f"forslag-{i}",
                questions=questions,
                scenarios=scenarios,
                initial={
                    "question": p.get("question"),
                    "answer": "ja" if p.get("answer") is True else "nej",
                    "scenario": p.get("scenario"),
                },
            )
            for i, p in enumerate(triage.get("proposals") or [])
        ]
    return render(
        request,
        "routines/triage.html",
        {
            "version": version,
            "question_forms": question_forms,
            "proposal_forms": proposal_forms,
            "new_question": new_question or forms.NewQuestionForm(prefix="ny-fraga"),
            "new_proposal": new_proposal
            or forms.ProposalForm(prefix="nytt-forslag", questions=questions, scenarios=scenarios),
            "base": json.dumps(triage),
            **extra,
        },
        status=status,
    )


def _count(request, name, current, most=200):
    """How many rows the form posted; when it does not say, as many as the draft holds (so
    a post without the count cannot empty the list)."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() and int(value) <= most else current


def _moved(items, kind, number):
    """``items`` with the one at ``number`` removed, moved up or down (a list, changed in place)."""
    at = int(number) if number.isdigit() and int(number) < len(items) else None
    if at is None:
        return items
    if kind == "remove":
        del items[at]
    elif kind == "up" and at:
        items[at - 1], items[at] = items[at], items[at - 1]
    elif kind == "down" and at + 1 < len(items):
        items[at + 1], items[at] = items[at], items[at + 1]
    return items


@require_http_methods(["GET", "POST"])
def triage(request, version_id):
    """The draft's triage guide: the questions Kundservice answers, and which answer to which
    question proposes which scenario (the first that applies wins)."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    if request.method == "GET":
        return _triage_page(request, version)
    questions, scenarios = _choices(version.document)
    triage = version.document.get("triage") or {}
    action = request.POST.get("do", "save")
    question_count = _count(request, "questions", len(triage.get("questions") or []))
    proposal_count = _count(request, "proposals", len(triage.get("proposals") or []))
    question_forms = [forms.QuestionForm(request.POST, prefix=f"fraga-{i}") for i in range(question_count)]
    proposal_forms = [
        forms.ProposalForm(request.POST, prefix=f"forslag-{i}", questions=questions, scenarios=scenarios)
        for i in range(proposal_count)
    ]
    new_question = forms.NewQuestionForm(request.POST if action == "q-add" else None, prefix="ny-fraga")
    new_proposal = forms.ProposalForm(
        request.POST if action == "p-add" else None, prefix="nytt-forslag", questions=questions, scenarios=scenarios
    )
    parsed = [f.is_valid() for f in (*question_forms, *proposal_forms)]
    if action == "q-add":
        parsed.append(new_question.is_valid())
    if action == "p-add":
        parsed.append(new_proposal.is_valid())
    page = {
        "question_forms": question_forms,
        "proposal_forms": proposal_forms,
        "new_question": new_question,
        "new_proposal": new_proposal,
    }
    if not all(parsed):
        return _triage_page(request, version, status=400, **page)
    old = {q.get("key"): q for q in (version.document.get("triage") or {}).get("questions") or []}
    edited_questions = []
    for form in question_forms:
        question = copy.deepcopy(old.get(form.cleaned_data["key"]) or {"key": form.cleaned_data["key"]})
        question["text"] = form.cleaned_data["text"].strip()
        edited_questions.append(question)
    edited_proposals = [form.proposal() for form in proposal_forms]
    group, _sep, rest = action.partition("-")
    kind, _sep, number = rest.partition("-")
    if group == "q" and kind == "add":
        typed = new_question.cleaned_data
        key = forms.new_key(
            typed["key"],
            typed["text"],
            {q.get("key") for q in edited_questions},
            longest=routine_document.QUESTION_KEY_MAX,
            prefix="fraga",
        )
        edited_questions.append({"key": key, "text": typed["text"].strip()})
    elif group == "q":
        _moved(edited_questions, kind, number)
    elif group == "p" and kind == "add":
        edited_proposals.append(new_proposal.proposal())
    elif group == "p":
        _moved(edited_proposals, kind, number)
    document = copy.deepcopy(version.document)
    document["triage"] = {"questions": edited_questions, "proposals": edited_proposals}

    def put(doc, part):
        doc["triage"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Triageguiden är sparad i utkastet."))
        return redirect("routines:triage", version_id=version.pk)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _triage_page(request, version, status=409, **refused)
    return _triage_page(request, version, status=400, **page, **refused)


@require_http_methods(["GET", "POST"])
def scenario(request, version_id, scenario_key):
    """One scenario of the draft: its texts, steps and caller script."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    index = _scenario_index(version.document, scenario_key)
    if request.method == "GET":
        return _scenario_page(request, version, index)
    current = version.document["scenarios"][index]
    count = request.POST.get("steps", "")
    count = int(count) if count.isdigit() and int(count) <= 200 else len(current.get("steps") or [])
    scenario_form = forms.ScenarioForm(request.POST)
    steps = current.get("steps") or []
    step_forms = [
        forms.StepForm(request.POST, prefix=f"steg-{i}", step=steps[i] if i < len(steps) else None)
        for i in range(count)
    ]
    action = request.POST.get("do", "save")
    new_step = forms.StepForm(request.POST if action == "add" else None, prefix="nytt", initial={"due_on": "reported"})
    parsed = [scenario_form.is_valid(), *(f.is_valid() for f in step_forms)]
    if action == "add":
        parsed.append(new_step.is_valid())
    page = {"scenario_form": scenario_form, "step_forms": step_forms, "new_step": new_step}
    if not all(parsed):
        return _scenario_page(request, version, index, status=400, **page)
    document = copy.deepcopy(version.document)
    document["scenarios"][index] = _edited_scenario(current, scenario_form, step_forms, new_step, action)

    def put(doc, part):
        doc["scenarios"][_scenario_index(doc, scenario_key)] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Scenariot är sparat i utkastet."))
        return redirect("routines:scenario", version_id=version.pk, scenario_key=scenario_key)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _scenario_page(request, version, _scenario_index(version.document, scenario_key), status=409, **refused)
    return _scenario_page(request, version, index, status=400, **page, **refused)


def _scenario_choices(document):
    return [(s.get("key"), words.text(s.get("title"))) for s in document.get("scenarios") or []]


def _notice_forms(document, data=None):
    """One form per rule of the draft, as many as the draft holds: a post cannot say how many
    (a post without the fields is refused, it never empties the rules)."""
    scenarios = _scenario_choices(document)
    return [
        forms.NoticeForm(
            data, prefix=f"regel-{i}", scenarios=scenarios, notice=notice, initial=forms.notice_initial(notice)
        )
        for i, notice in enumerate(document.get("notices") or [])
    ]


def _new_notice_form(document, data=None):
    return forms.NoticeForm(
        data,
        prefix="ny-regel",
        scenarios=_scenario_choices(document),
        initial={"event": "reported", "scenarios": [k for k, _t in _scenario_choices(document)]},
    )


def _new_notice_key(notice, taken):
    event = routine_document.notice_event(notice) or "regel"
    base = f"{event}_{notice['channel']}_{notice['action'] or 'notis'}".replace(":", "_")
    base = base[: routine_document.NOTICE_KEY_MAX - 4]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _messages_form(version, data=None):
    document = version.document
    scenarios = [(s.get("key"), words.text(s.get("title"))) for s in document.get("scenarios") or []]
    used = {(n.get("channel"), n.get("action")) for n in document.get("notices") or [] if isinstance(n, dict)}
    return forms.MessagesForm(data, messages=document.get("messages"), scenarios=scenarios, used=used)


def _notices_page(request, version, notice_forms=None, status=200, *, messages_form=None, new_notice=None, **extra):
    notices = version.document.get("notices") or []
    notice_forms = notice_forms or _notice_forms(version.document)
    messages_form = messages_form or _messages_form(version)
    return render(
        request,
        "routines/notices.html",
        {
            "version": version,
            "notice_forms": notice_forms,
            "new_notice": new_notice or _new_notice_form(version.document),
            "base": json.dumps(notices),
            "messages_form": messages_form,
            "messages_base": json.dumps(version.document.get("messages")),
            "placeholders": [("{" + name + "}", said) for name, said in notice_texts.PLACEHOLDERS.items()],
            **extra,
        },
        status=status,
    )


def _save_messages(request, version):
    """The texts form: the words each notice sends, saved through the service like any edit."""
    form = _messages_form(version, request.POST)
    if not form.is_valid():
        return _notices_page(request, version, status=400, messages_form=form, texts_refused=True)
    document = copy.deepcopy(version.document)
    document["messages"] = form.messages(document.get("messages"))

    def put(doc, part):
        doc["messages"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        messages.success(request, _("Texterna är sparade i utkastet."))
        return redirect(reverse("routines:notices", args=[version.pk]) + "#texter")
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _notices_page(request, version, status=409, texts_refused=True, **refused)
    return _notices_page(request, version, status=400, messages_form=form, texts_refused=True, **refused)


@require_http_methods(["GET", "POST"])
def notices(request, version_id):
    """The draft's notice rules (which channel, what is asked, to whom, and the rule's words)
    and, in a form of its own, the texts each notice sends."""
    if not services.may_edit(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    if request.method == "GET":
        return _notices_page(request, version)
    if request.POST.get("do") == "texts":
        return _save_messages(request, version)
    current = version.document.get("notices") or []
    action = request.POST.get("do", "save")
    notice_forms = _notice_forms(version.document, request.POST)
    new_notice = _new_notice_form(version.document, request.POST if action == "add" else None)
    parsed = [f.is_valid() for f in notice_forms]
    if action == "add":
        parsed.append(new_notice.is_valid())
    if not all(parsed):
        return _notices_page(request, version, notice_forms, status=400, new_notice=new_notice)
    # Form i edits rule i: the revision posted is the draft these forms were read from.
    edited = [form.notice(current[i]) for i, form in enumerate(notice_forms)]
    kind, _sep, number = action.partition("-")
    if kind == "add":
        notice = new_notice.notice()
        edited.append({"key": _new_notice_key(notice, {n.get("key") for n in edited}), **notice})
    elif kind in ("remove", "up", "down"):
        _moved(edited, kind, number)
    document = copy.deepcopy(version.document)
    document["notices"] = edited

    def put(doc, part):
        doc["notices"] = part

    refused = _save(request, version, document, base=_posted_base(request), put=put)
    if refused is None:
        said = {
            "add": _("Regeln är tillagd i utkastet."),
            "remove": _("Regeln är borttagen ur utkastet."),
        }.get(kind, _("Meddelandereglerna är sparade i utkastet."))
        messages.success(request, said)
        return redirect("routines:notices", version_id=version.pk)
    if refused.get("forbidden"):
        return _forbidden(request)
    if refused["stale"]:
        return _notices_page(request, version, status=409, **refused)
    return _notices_page(request, version, notice_forms, status=400, new_notice=new_notice, **refused)


@require_http_methods(["GET", "POST"])
def publish(request, version_id):
    """Publishing: the changes in words, a reason, and the button; for Verksamhetsansvarig."""
    if not services.may_publish(request.user):
        return _forbidden(request)
    version = _draft_or_404(version_id)
    form = forms.PublishForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            published = services.publish(
                request.user, version.pk, form.cleaned_data["reason"], revision=_posted_revision(request)
            )
        except ActionRefused as refused:
            if refused.code == "forbidden":
                return _forbidden(request)
            form.add_error("reason" if refused.code == "invalid" else None, refused.message)
            version.refresh_from_db()
            status = 409 if refused.code == "conflict" else 400
        else:
            messages.success(
                request,
                _("Version %(n)d är publicerad och är nu den version som gäller.") % {"n": published.number},
            )
            return redirect(reverse("routines:versions") + f"#version-{published.pk}")
    return render(
        request,
        "routines/publish.html",
        {
            "version": version,
            "published": _published(version.routine),
            "changes": _changes(version.routine, version.document),
            "form": form,
        },
        status=status,
    )
