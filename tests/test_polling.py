"""Polling pages answer "unchanged" from a version stamp and render a change once.

The live list and the parts of the incident page refresh themselves every few seconds in
every open browser. An unchanged poll must cost the stamp's query, not a render, whatever
the number of live incidents; a change must reach the next poll of every viewer.
"""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services, stamps, timers
from incidents.models import Incident

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _poll_headers(html):
    """The If-None-Match header the page's polled element sends with its next poll."""
    found = re.search(r'hx-headers="([^"]*)"', html)
    return json.loads(found.group(1).replace("&quot;", '"'))


def _poll(client, url, held=None):
    headers = dict(HTMX)
    if held:
        headers.update(held)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return response, len(queries)


def test_an_unchanged_live_list_is_an_empty_204_that_costs_the_same_with_3_or_30_incidents(client, va, open_incident):
    client.force_login(va)
    live = reverse("incidents:live")
    counts = {}
    for n in (3, 30):
        while Incident.objects.live().count() < n:
            open_incident(summary=f"Störning {Incident.objects.count()}")
        first, _ = _poll(client, live)
        assert first.status_code == 200
        assert f'data-count="{n}"' in first.content.decode()
        again, queries = _poll(client, live, _poll_headers(first.content.decode()))
        assert again.status_code == 204 and again.content == b""
        counts[n] = queries
    assert counts[3] == counts[30]
    # The session, the person, their permissions and the stamp: nothing of the list itself.
    assert counts[3] <= 4


def test_a_change_reaches_the_next_poll_and_is_rendered_once_for_every_viewer(client, va, vs, sa, open_incident):
    incident = open_incident()
    live = reverse("incidents:live")
    client.force_login(va)
    first, _ = _poll(client, live)
    held = _poll_headers(first.content.decode())
    assert _poll(client, live, held)[0].status_code == 204

    services.escalate(vs, incident.pk)

    changed, render_queries = _poll(client, live, held)
    assert changed.status_code == 200
    assert "Eskalerad till SA" in changed.content.decode()
    # Another person's browser gets the same list from the cache, without reading the list.
    client.force_login(sa)
    served, cached_queries = _poll(client, live, held)
    assert served.status_code == 200
    assert served.content == changed.content
    assert cached_queries < render_queries
    assert cached_queries <= 4


def _row(html, incident):
    """The live list's row of one incident."""
    return re.search(rf'<tr data-incident="{incident.pk}".*?</tr>', html, re.S).group(0)


def test_a_change_to_one_incident_renders_its_row_alone_with_3_or_30_incidents(client, va, vs, open_incident):
    client.force_login(va)
    live = reverse("incidents:live")
    counts = {}
    for n in (3, 30):
        while Incident.objects.live().count() < n:
            open_incident(summary=f"Störning {Incident.objects.count()}")
        first, _ = _poll(client, live)
        held = _poll_headers(first.content.decode())
        changed = Incident.objects.live().order_by("id").first()
        services.escalate(vs, changed.pk)
        with CaptureQueriesContext(connection) as queries:
            after = client.get(live, headers={**HTMX, **held})
        assert after.status_code == 200
        page = after.content.decode()
        assert "Eskalerad till SA" in _row(page, changed)
        # Every other row is the one kept from before; the changed one alone is read again.
        others = Incident.objects.live().exclude(pk=changed.pk)
        assert all(_row(page, i) == _row(first.content.decode(), i) for i in others)
        read = [q["sql"] for q in queries.captured_queries if 'FROM "incidents_incident"' in q["sql"]]
        assert any(f"IN ({changed.pk})" in sql for sql in read)
        counts[n] = len(queries)
        services.cancel(vs, changed.pk, reason="Falsklarm")
    assert counts[3] == counts[30]


def test_a_row_changed_reaches_the_next_poll_of_another_viewer_in_their_language(client, va, sa, vs, open_incident):
    from django.test import Client

    incidents = [open_incident(summary=f"Störning {n}") for n in range(3)]
    live = reverse("incidents:live")
    client.force_login(va)
    english = Client()
    english.force_login(sa)
    english.post(reverse("set_language"), {"language": "en", "next": "/"})
    held = {}
    for viewer in (client, english):
        first, _ = _poll(viewer, live)
        held[viewer] = _poll_headers(first.content.decode())
        assert _poll(viewer, live, held[viewer])[0].status_code == 204

    services.escalate(vs, incidents[1].pk)

    swedish_page, _ = _poll(client, live, held[client])
    english_page, _ = _poll(english, live, held[english])
    assert swedish_page.status_code == english_page.status_code == 200
    assert "Eskalerad till SA" in _row(swedish_page.content.decode(), incidents[1])
    row = _row(english_page.content.decode(), incidents[1])
    assert "Escalated to SA" in row and "Eskalerad" not in row
    assert "Reported" in _row(english_page.content.decode(), incidents[0])


@pytest.mark.parametrize("change", ["task_done", "ended", "notice_failed", "timer_fired"])
def test_every_kind_of_change_the_list_shows_changes_its_stamp(change, open_incident, everyone, settings):
    # A telephony fault sends notices from its report; sesam_unreachable has a 4-hour deadline.
    incident = open_incident(scenario="telephony_fault" if change == "notice_failed" else "sesam_unreachable")
    before = stamps.live_stamp(), stamps.incident_stamp(incident.pk)
    if change == "task_done":
        services.complete_task(everyone, incident.tasks.get(step_key="inform_callers").pk)
    elif change == "ended":
        services.cancel(everyone, incident.pk, reason="Falsklarm")
    elif change == "notice_failed":
        from notifications import services as notify
        from notifications.models import Notification

        settings.NOTIFY_MAX_AGE = timedelta(0)
        notification = Notification.objects.filter(incident=incident).first()
        Notification.objects.filter(pk=notification.pk).update(claimed_until=None)
        notify._failed(notification, "503", 503, final=True)
    elif change == "timer_fired":
        timer = incident.timers.pending().get()
        timers.fire_timer(timer.pk, incident.pk, now=timer.due_at)
    after = stamps.live_stamp(), stamps.incident_stamp(incident.pk)
    assert after[0] != before[0]
    assert after[1] != before[1]


def test_the_live_stamp_moves_when_one_incident_ends_as_another_is_reported(open_incident, everyone):
    from incidents import selectors

    first = open_incident(summary="Den första")
    before = stamps.live_stamp()
    assert before == stamps.live_stamp_of(list(selectors.live_incidents()))
    services.cancel(everyone, first.pk, reason="Falsklarm")
    open_incident(summary="Den andra")
    assert stamps.live_stamp() != before
    assert stamps.live_stamp() == stamps.live_stamp_of(list(selectors.live_incidents()))


def test_a_copy_read_before_a_change_and_saved_after_keeps_the_new_version(open_incident, everyone):
    incident = open_incident()
    stale = Incident.objects.get(pk=incident.pk)
    services.add_note(everyone, incident.pk, "Ny anteckning")
    touched = Incident.objects.get(pk=incident.pk).version
    stale.summary = "Ändrad sammanfattning"
    stale.save()
    assert Incident.objects.get(pk=incident.pk).version == touched


def test_a_prognosis_passing_with_nothing_else_changed_is_shown_on_the_next_poll(
    client, va, sa, open_incident, everyone, time_machine
):
    incident = open_incident()
    services.fire(everyone, incident.pk, "escalate")
    services.fire(everyone, incident.pk, "acknowledge")
    soon = timezone.now() + timedelta(minutes=10)
    services.record_prognosis(sa, incident.pk, soon)
    client.force_login(va)
    live = reverse("incidents:live")
    first, _ = _poll(client, live)
    assert "Åter" in first.content.decode()
    held = _poll_headers(first.content.decode())
    assert _poll(client, live, held)[0].status_code == 204

    time_machine.move_to(soon + timedelta(seconds=2))
    passed, _ = _poll(client, live, held)
    assert passed.status_code == 200
    assert "Passerad" in passed.content.decode()


def test_relative_times_are_given_as_absolute_times_for_the_browser(client, va, open_incident):
    open_incident()
    client.force_login(va)
    page = client.get(reverse("incidents:live")).content.decode()
    assert re.search(r'data-until="\d{4}-\d\d-\d\dT', page)
    assert re.search(r'data-since="\d{4}-\d\d-\d\dT', page)
    # The words for them, in the page's language, once for the whole page.
    assert 'data-rel-until-m="om %(m)d min"' in page


def test_each_language_gets_its_own_rendering(client, va, open_incident):
    open_incident()
    client.force_login(va)
    live = reverse("incidents:live")
    swedish, _ = _poll(client, live)
    assert "Anmäld" in swedish.content.decode()
    held = _poll_headers(swedish.content.decode())
    # A signed-in person's language is their own choice (runbook.language), made with the form.
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english, _ = _poll(client, live, held)
    assert english.status_code == 200
    assert "Reported" in english.content.decode()


def test_a_client_without_htmx_gets_304_with_the_etag(client, va, open_incident):
    open_incident()
    client.force_login(va)
    live = reverse("incidents:live")
    first = client.get(live, headers=HTMX)
    again = client.get(live, headers={"If-None-Match": first["ETag"]})
    # Not htmx: the whole page, which is not conditional.
    assert again.status_code == 200
    part = client.get(live, headers={**HTMX, "If-None-Match": first["ETag"]})
    assert part.status_code == 204
    assert part["ETag"] == first["ETag"]


def test_the_incident_page_polls_itself_on_the_incident_version(client, va, vs, open_incident):
    incident = open_incident()
    other = open_incident(summary="En annan störning")
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    url = reverse("incidents:part", args=[incident.pk, "sida"])
    assert f'hx-get="{url}"' in page
    held = _poll_headers(page)
    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get(url, headers=dict(HTMX, **held))
    assert unchanged.status_code == 204 and unchanged.content == b""
    # The session, the person with their permissions, and the incident by its primary key.
    incident_queries = [q["sql"] for q in queries.captured_queries if '"incidents_incident"' in q["sql"]]
    assert len(queries) <= 4 and len(incident_queries) == 1
    assert '"incidents_incident"."id" = ' in incident_queries[0]

    services.add_note(vs, other.pk, "Gäller den andra")
    assert _poll(client, url, held)[0].status_code == 204

    services.escalate(vs, incident.pk)
    changed, _ = _poll(client, url, held)
    assert changed.status_code == 200
    html = changed.content.decode()
    assert 'id="incident-page"' in html and "Eskalerad till SA" in html
    # The poll answers as the page would: the same part, for the same viewer.
    assert _poll_headers(html) != held
    assert _poll(client, url, _poll_headers(html))[0].status_code == 204
    assert client.get(reverse("incidents:part", args=[incident.pk, "okand"]), headers=HTMX).status_code == 404
    assert client.get(reverse("incidents:part", args=[999999, "sida"]), headers=HTMX).status_code == 404


def test_each_kind_of_viewer_polls_their_own_page(client, sa, vs, open_incident):
    incident = open_incident()
    services.escalate(vs, incident.pk)
    url = reverse("incidents:part", args=[incident.pk, "sida"])
    client.force_login(sa)
    theirs = client.get(url, headers=HTMX).content.decode()
    assert "/atgard/acknowledge/" in theirs
    client.force_login(vs)
    mine = client.get(url, headers=HTMX).content.decode()
    assert "/atgard/acknowledge/" not in mine and 'id="incident-page"' in mine


def test_a_polled_part_is_only_for_people_who_may_see_incidents(client, make_user, open_incident):
    incident = open_incident()
    client.force_login(make_user(username="utan-roll"))
    response = client.get(reverse("incidents:part", args=[incident.pk, "sida"]), headers=HTMX)
    assert response.status_code == 403
    assert "Sesam LMN svarar inte" not in response.content.decode()


def test_a_cached_part_gets_each_viewers_own_csrf_token(rf, va, sa):
    from django.contrib.sessions.backends.db import SessionStore

    from incidents import forms
    from runbook import polling

    tokens = []
    for user in (va, sa):
        request = rf.get("/", headers=HTMX)
        request.user, request.session, request.htmx = user, SessionStore(), True
        response = polling.respond(
            request,
            key="probe",
            stamp="1",
            template="incidents/_close_form.html",
            build=lambda: ({"incident": Incident(pk=1), "name": "close", "review_form": forms.ReviewForm()}, None),
        )
        html = response.content.decode()
        assert polling.CSRF_PLACEHOLDER not in html
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
    assert tokens[0] != tokens[1]


def test_with_redis_as_the_cache_and_with_redis_gone(client, va, open_incident, settings, redis_url):
    open_incident()
    client.force_login(va)
    live = reverse("incidents:live")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "test-polling",
        }
    }
    first, render_queries = _poll(client, live)
    assert first.status_code == 200
    # As if from another web process: nothing of this one's memory, the list from Redis.
    cached, cached_queries = _poll(client, live)
    assert cached.content == first.content and cached_queries < render_queries
    cache.clear()  # the test's own Redis database
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    gone, _ = _poll(client, live)
    assert gone.status_code == 200
    assert "Sesam LMN svarar inte" in gone.content.decode()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_the_incident_page_is_rendered_once_per_change_and_kind_of_viewer(client, make_user, sa, vs, open_incident):
    reporter = make_user("kundservice", username="ks-anmalare")
    make_user("kundservice", username="ks-annan")
    incident = open_incident(by=reporter)
    services.escalate(vs, incident.pk)
    url = reverse("incidents:detail", args=[incident.pk])

    def page(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        return html, len(queries)

    first, rendering = page(sa)
    again, kept = page(sa)
    assert again == first or "Kvittera" in again
    # The session, the person, their permissions, the incident's stamp; nothing of the page.
    assert kept < rendering and kept <= 5
    assert f'action="/storning/{incident.pk}/atgard/acknowledge/"' in again
    # Another kind of viewer gets a rendering of their own: no acknowledge button for them.
    theirs, _ = page(vs)
    assert "/atgard/acknowledge/" not in theirs
    # Each one's own form token in the kept page.
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', theirs)
    assert tokens and "csrf-placeholder" not in theirs

    services.acknowledge(sa, incident.pk)
    after, _ = page(sa)
    assert "/atgard/acknowledge/" not in after
    assert "Kvitterad" in after


def test_who_reported_it_sees_their_own_cancel_on_the_kept_page(client, make_user, open_incident):
    reporter = make_user("kundservice", username="ks-anmalare")
    other_ks = make_user("kundservice", username="ks-annan")
    incident = open_incident(by=reporter)
    url = reverse("incidents:detail", args=[incident.pk])
    client.force_login(reporter)
    assert "/atgard/cancel/" in client.get(url).content.decode()
    client.force_login(other_ks)
    assert "/atgard/cancel/" not in client.get(url).content.decode()
    client.force_login(reporter)
    assert "/atgard/cancel/" in client.get(url).content.decode()
