"""Who may do what (DESIGN section 3), checked over HTTP with the pages' own forms."""

import pytest
from django.urls import reverse

from incidents import offers, services
from incidents.models import Incident, Task

KS, SA, VA, VS, TEL = (
    "kundservice",
    "systemansvarig",
    "verksamhetsansvarig",
    "verksamhetsspecialist",
    "telefoniansvarig",
)
ROLES = (KS, SA, VA, VS, TEL)


def _transition(name):
    return lambda incident: reverse("incidents:transition", args=[incident.pk, name])


# action: (scenario, state the action needs, url, POST data, the roles that may do it)
ACTIONS = {
    "escalate": ("sesam_unreachable", "reported", _transition("escalate"), {}, {VA, VS}),
    "await_it": ("full_it_outage", "reported", _transition("await_it"), {}, {VA, VS}),
    "reclassify": (
        "kundservice_link_loss",
        "reported",
        lambda i: reverse("incidents:reclassify", args=[i.pk]),
        {"scenario": "sesam_unreachable"},
        {VA, VS},
    ),
    "acknowledge": ("sesam_unreachable", "escalated", _transition("acknowledge"), {}, {SA}),
    "record_prognosis": (
        "sesam_unreachable",
        "acknowledged",
        lambda i: reverse("incidents:prognosis", args=[i.pk]),
        {"kind": "none"},
        {SA, VA, VS},
    ),
    "activate_reserve_routine": (
        "sesam_unreachable",
        "escalated",
        _transition("activate_reserve_routine"),
        {},
        {VA, VS},
    ),
    "resolve": ("sesam_unreachable", "acknowledged", _transition("resolve"), {}, {SA, VA, VS}),
    "close": (
        "telephony_fault",
        "resolved",
        _transition("close"),
        {"what_happened": "Kabelfel i telefonväxeln."},
        {VA},
    ),
    "cancel": (
        "sesam_unreachable",
        "escalated",
        _transition("cancel"),
        {"reason": "Falsklarm"},
        {VA, VS},
    ),
    "add_note": (
        "sesam_unreachable",
        "escalated",
        lambda i: reverse("incidents:note", args=[i.pk]),
        {"text": "SA ringd, inget svar"},
        set(ROLES),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_role_may_or_may_not_do_action(action, role, incident_in, everyone, make_user, client_as, snapshot):
    scenario, state, url, data, may = ACTIONS[action]
    incident = incident_in(scenario, state)
    if action == "close":
        for task in incident.tasks.filter(done_at__isnull=True):
            services.complete_task(everyone, task.pk)
    before = snapshot(incident)

    response = client_as(make_user(role)).post(url(incident), data)

    if role in may:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response.url.startswith(reverse("incidents:detail", args=[incident.pk]))
        assert snapshot(incident) != before
    else:
        assert response.status_code == 403
        assert "behörighet" in response.content.decode()
        assert snapshot(incident) == before


@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_report_a_disruption(role, make_user, client_as):
    response = client_as(make_user(role)).post(
        reverse("incidents:report"),
        {
            "kundservice_reaches_sesam": "yes",
            "prescribers_reach_sesam": "yes",
            "rest_of_it_up": "yes",
            "phones_work": "no",
            "scenario": "telephony_fault",
            "summary": "Telefonkön tar inte emot samtal",
            "action": "report",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[incident.pk])
    assert incident.reported_by.groups.get().name == role


def test_kundservice_cannot_acknowledge_for_sa(incident_in, ks, client_as, snapshot):
    incident = incident_in("sesam_unreachable", "escalated")
    before = snapshot(incident)
    response = client_as(ks).post(reverse("incidents:transition", args=[incident.pk, "acknowledge"]))
    assert response.status_code == 403
    assert "Du har inte behörighet att ”Kvittera”." in response.content.decode()
    assert snapshot(incident) == before


def test_kundservice_may_cancel_own_report_while_reported(open_incident, ks, client_as):
    incident = open_incident(by=ks)
    response = client_as(ks).post(
        reverse("incidents:transition", args=[incident.pk, "cancel"]), {"reason": "Felringning"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "cancelled"
    assert incident.cancel_reason == "Felringning"


def test_kundservice_cannot_cancel_someone_elses_report(open_incident, make_user, client_as, snapshot):
    reporter, other = make_user(KS), make_user(KS)
    incident = open_incident(by=reporter)
    before = snapshot(incident)
    response = client_as(other).post(
        reverse("incidents:transition", args=[incident.pk, "cancel"]), {"reason": "Felringning"}
    )
    assert response.status_code == 403
    assert snapshot(incident) == before


def test_kundservice_cannot_cancel_own_report_once_escalated(open_incident, ks, vs, client_as, snapshot):
    incident = open_incident(by=ks)
    services.escalate(vs, incident.pk)
    before = snapshot(incident)
    response = client_as(ks).post(
        reverse("incidents:transition", args=[incident.pk, "cancel"]), {"reason": "Felringning"}
    )
    assert response.status_code == 403
    assert snapshot(incident) == before


def _task_for(role, incident_in):
    """An open task of the given role, in an incident that has reached the step."""
    where = {
        KS: ("sesam_unreachable", "reported", "inform_callers"),
        VS: ("sesam_unreachable", "reported", "help_it_troubleshoot"),
        # SA's steps are all done by an action (prognosis); a task made for SA by the app is ticked.
        SA: ("sesam_unreachable", "acknowledged", "call-vendor"),
        VA: ("sesam_unreachable", "reserve_routine", "publish_reserve_notice"),
        TEL: ("telephony_fault", "reported", "lavin_on"),
    }
    scenario, state, step = where[role]
    incident = incident_in(scenario, state)
    if role == SA:
        services.add_manual_task(incident, SA, "Ring systemleverantören", key=step)
    task = Task.objects.get(incident=incident, step_key=step)
    assert task.role == role and not task.is_done
    return task


@pytest.mark.parametrize("task_role", ROLES)
@pytest.mark.parametrize("role", ROLES)
def test_task_may_be_completed_by_its_role_or_by_va_and_vs(
    role, task_role, incident_in, make_user, client_as, snapshot
):
    task = _task_for(task_role, incident_in)
    before = snapshot(task.incident)
    person = make_user(role)

    response = client_as(person).post(reverse("incidents:task_done", args=[task.incident_id, task.pk]))

    task.refresh_from_db()
    if role == task_role or role in (VA, VS):
        assert response.status_code == 302
        assert task.is_done and task.done_by == person
    else:
        assert response.status_code == 403
        assert "du har inte behörighet att klarmarkera den" in response.content.decode()
        assert snapshot(task.incident) == before


# --- people who are not signed in ---------------------------------------------------------


def _every_url(incident, task, order):
    pk = incident.pk
    urls = [
        reverse("incidents:live"),
        reverse("incidents:report"),
        reverse("review:history"),
        reverse("incidents:detail", args=[pk]),
        reverse("incidents:prognosis", args=[pk]),
        reverse("incidents:note", args=[pk]),
        reverse("incidents:caller_report", args=[pk]),
        reverse("incidents:it_contact", args=[pk]),
        reverse("incidents:reclassify", args=[pk]),
        reverse("incidents:task_done", args=[pk, task.pk]),
        reverse("incidents:reserve_order", args=[pk]),
        reverse("incidents:order_entered", args=[pk, order.pk]),
    ]
    urls += [reverse("incidents:transition", args=[pk, name]) for name in offers.TRANSITION_LABELS]
    return urls


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_login_for_every_page_and_action(method, incident_in, ks, client, snapshot):
    incident = incident_in("sesam_unreachable", "reserve_routine", summary="Hemlig sammanfattning")
    order = services.log_reserve_order(
        ks, incident.pk, reference="LMN-7", product_area="incontinence", prescriber_unit="VC Eslöv"
    )
    task = incident.tasks.filter(done_at__isnull=True).first()
    before = snapshot(incident)
    data = {
        "scenario": "full_it_outage",
        "summary": "x",
        "kind": "none",
        "text": "x",
        "note": "x",
        "reason": "x",
        "functions": "x",
        "prescribers": "1",
        "servicedesk_ref": "x",
        "reference": "LMN-8",
        "product_area": "diabetes",
        "prescriber_unit": "x",
    }

    for url in _every_url(incident, task, order):
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login") + "?next="), url
        assert "Hemlig" not in response.content.decode(), url

    assert snapshot(incident) == before
    assert Incident.objects.count() == 1
    login_page = client.get(reverse("incidents:detail", args=[incident.pk]), follow=True)
    assert login_page.status_code == 200
    assert "Logga in" in login_page.content.decode()
    assert "Hemlig" not in login_page.content.decode()


# --- roles and permissions are read once per request, and a change counts at the next ----------


def test_a_permission_taken_from_a_group_counts_from_the_next_request(incident_in, vs, client_as, snapshot):
    from django.contrib.auth.models import Group, Permission

    incident = incident_in("sesam_unreachable", "reported")
    client = client_as(vs)
    escalate = reverse("incidents:transition", args=[incident.pk, "escalate"])
    assert "action-escalate" in client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    Group.objects.get(name=VS).permissions.remove(Permission.objects.get(codename="escalate_incident"))
    before = snapshot(incident)
    assert "action-escalate" not in client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert client.post(escalate).status_code == 403
    assert snapshot(incident) == before

    Group.objects.get(name=VS).permissions.add(Permission.objects.get(codename="escalate_incident"))
    assert client.post(escalate).status_code == 302
    assert Incident.objects.get(pk=incident.pk).state == "escalated"


def test_a_person_in_two_roles_holds_both(incident_in, make_user, client_as):
    both = make_user(SA, TEL)
    page = client_as(both).get(reverse("incidents:live")).content.decode()
    assert "Systemansvarig, Telefoniansvarig" in page
    incident = incident_in("sesam_unreachable", "escalated")
    assert client_as(both).post(reverse("incidents:transition", args=[incident.pk, "acknowledge"])).status_code == 302
    telephony = incident_in("telephony_fault", "reported")
    task = telephony.tasks.filter(role=TEL, done_at__isnull=True).first()
    assert task is not None
    response = client_as(both).post(reverse("incidents:task_done", args=[telephony.pk, task.pk]))
    assert response.status_code == 302
    assert Task.objects.get(pk=task.pk).done_at is not None


def test_a_person_without_a_role_may_read_nothing(make_user, client_as):
    nobody = make_user()
    client = client_as(nobody)
    assert client.get(reverse("review:history")).status_code == 403
    assert client.get(reverse("review:figures")).status_code == 403


def test_a_superuser_may_do_everything(make_user, client_as, django_user_model):
    admin = django_user_model.objects.create_superuser("admin-test", password="ett-långt-testlösenord")
    client = client_as(admin)
    assert client.get(reverse("review:figures")).status_code == 200
    assert client.get(reverse("review:history_csv")).status_code == 200


@pytest.mark.parametrize(
    "state, may_log, may_mark_entered",
    [
        ("escalated", False, True),
        ("reserve_routine", True, True),
        ("resolved", False, True),
        ("cancelled", False, False),
    ],
)
def test_urgent_orders_are_offered_only_while_the_reserve_routine_applies(
    state, may_log, may_mark_entered, incident_in, ks, client_as
):
    incident = incident_in("sesam_unreachable", state)
    can = offers.available_actions(ks, incident)
    assert (can["reserve_order"], can["order_entered"]) == (may_log, may_mark_entered)
    page = client_as(ks).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert (reverse("incidents:reserve_order", args=[incident.pk]) in page) is may_log
    if may_log:
        services.log_reserve_order(
            ks, incident.pk, reference="LMN-0042", product_area="diabetes", prescriber_unit="Vårdcentralen Väster"
        )
        page = client_as(ks).get(reverse("incidents:detail", args=[incident.pk])).content.decode()
        assert "LMN-0042" in page and "Ej inlagd i Sesam LMN" in page


def test_permissions_are_read_again_when_their_cache_is_cleared(make_user, django_user_model):
    from django.contrib.auth.models import Group, Permission

    from incidents import permissions

    vs = django_user_model.objects.get(pk=make_user(VS).pk)
    assert vs.has_perm("incidents.escalate_incident") and permissions.user_roles(vs) == {VS}
    Group.objects.get(name=VS).permissions.remove(Permission.objects.get(codename="escalate_incident"))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        delattr(vs, cache)
    assert not vs.has_perm("incidents.escalate_incident")
    assert vs.has_perm("incidents.resolve_incident")


def test_an_inactive_person_holds_no_role_and_no_permission(make_user, django_user_model):
    from incidents import permissions

    va = make_user(VA)
    django_user_model.objects.filter(pk=va.pk).update(is_active=False)
    va = django_user_model.objects.get(pk=va.pk)
    assert permissions.user_roles(va) == set()
    assert not va.has_perm("incidents.close_incident")


def test_a_person_no_longer_superuser_keeps_only_their_roles_permissions(make_user, django_user_model):
    ks = django_user_model.objects.get(pk=make_user(KS).pk)
    from incidents import permissions

    ks.is_superuser = True
    assert ks.has_perm("incidents.close_incident")
    assert permissions.user_roles(ks) == {KS}  # roles read while a superuser
    ks.is_superuser = False
    assert not ks.has_perm("incidents.close_incident")
    assert ks.has_perm("incidents.report_incident")
