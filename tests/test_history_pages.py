"""Review and close, Historik, the incident report, figures, CSV and who may see them."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import services
from incidents.models import State, Task
from review.models import IncidentMetrics

pytestmark = pytest.mark.django_db

REVIEW = {
    "what_happened": "Databasservern föll",
    "deviations": "Leverantören kontaktades sent",
    "actions": "Ny rutin för jour",
}


@pytest.fixture
def closed_incident(open_incident, vs, sa, va):
    def make(summary="Sesam LMN svarar inte", scenario="sesam_unreachable", review=REVIEW):
        incident = open_incident(scenario=scenario, summary=summary)
        if scenario == "sesam_unreachable":
            services.escalate(vs, incident.pk)
            services.acknowledge(sa, incident.pk)
            services.record_prognosis(sa, incident.pk, None)
        services.resolve(sa if scenario == "sesam_unreachable" else va, incident.pk)
        for task in Task.objects.filter(incident=incident, done_at__isnull=True):
            services.complete_task(va, task.pk)
        return services.close(va, incident.pk, review=review)

    return make


# --- review and close -----------------------------------------------------------------------


def test_closing_requires_a_review(open_incident, sa, va):
    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    for task in Task.objects.filter(incident=incident):
        services.complete_task(va, task.pk)
    with pytest.raises(services.ActionRefused) as refused:
        services.close(va, incident.pk, review={"what_happened": "  "})
    assert refused.value.code == "invalid"
    assert "Vad hände" in refused.value.message
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED


def test_closing_is_refused_with_the_open_tasks_named(open_incident, va):
    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    with pytest.raises(services.ActionRefused) as refused:
        services.close(va, incident.pk, review=REVIEW)
    assert refused.value.code == "conflict"
    assert "inte klara" in refused.value.message and "lavinmeddelande" in refused.value.message.lower()


def test_the_reason_closing_was_refused_stays_as_it_was_when_read_later(open_incident, va, everyone):
    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    with pytest.raises(services.ActionRefused) as refused:
        services.close(va, incident.pk, review=REVIEW)
    for task in Task.objects.filter(incident=incident, done_at__isnull=True):
        services.complete_task(everyone, task.pk)
    assert "uppgifter är inte klara" in refused.value.message


def test_close_writes_review_to_timeline_and_metrics_in_the_same_transaction(closed_incident):
    incident = closed_incident()
    close_event = incident.events.filter(kind="transition", data__name="close").get()
    assert close_event.data["review"] == REVIEW
    metrics = IncidentMetrics.objects.get(pk=incident.pk)
    assert metrics.final_state == "closed"
    assert metrics.secs_to_escalated is not None and metrics.secs_to_prognosis is None  # "ingen prognos"
    assert "Databasservern" in metrics.search_text


def test_cancel_writes_metrics(open_incident, va):
    incident = open_incident()
    services.cancel(va, incident.pk, reason="Falsklarm")
    assert IncidentMetrics.objects.get(pk=incident.pk).final_state == "cancelled"


def test_close_form_on_the_page_carries_the_review(client, open_incident, va):
    incident = open_incident(scenario="telephony_fault")
    services.resolve(va, incident.pk)
    for task in Task.objects.filter(incident=incident):
        services.complete_task(va, task.pk)
    client.force_login(va)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'name="what_happened"' in page
    url = reverse("incidents:transition", args=[incident.pk, "close"])
    assert client.post(url, {"what_happened": ""}).status_code == 400
    response = client.post(url, REVIEW)
    assert response.status_code == 302
    report = client.get(reverse("review:incident_report", args=[incident.pk])).content.decode()
    assert "Ny rutin för jour" in report


def test_rebuild_command_reproduces_the_rows(closed_incident):
    incident = closed_incident()
    before = IncidentMetrics.objects.filter(pk=incident.pk).values().get()
    call_command("rebuild_incident_metrics", stdout=io.StringIO())
    after = IncidentMetrics.objects.filter(pk=incident.pk).values().get()
    before.pop("computed_at"), after.pop("computed_at")
    assert before == after


# --- Historik -------------------------------------------------------------------------------


def test_history_filters_are_kept_in_the_url_and_in_pagination(client, va):
    call_command("seed_history", incidents=60, seed=5, stdout=io.StringIO())
    client.force_login(va)
    response = client.get(reverse("review:history"), {"scenario": "sesam_unreachable", "sortering": "aldst"})
    page = response.content.decode()
    expected = IncidentMetrics.objects.filter(scenario="sesam_unreachable").count()
    assert response.context["page"].paginator.count == expected
    assert all(m.scenario == "sesam_unreachable" for m in response.context["page"].object_list)
    times = [m.reported_at for m in response.context["page"].object_list]
    assert times == sorted(times)
    if response.context["page"].has_next():
        assert "scenario=sesam_unreachable&amp;sortering=aldst&amp;sida=2" in page


def test_history_filters_on_reserve_state_and_period(client, va):
    call_command("seed_history", incidents=80, seed=6, stdout=io.StringIO())
    client.force_login(va)
    url = reverse("review:history")
    yes = client.get(url, {"reservrutin": "ja"}).context["page"].paginator.count
    no = client.get(url, {"reservrutin": "nej"}).context["page"].paginator.count
    assert yes == IncidentMetrics.objects.filter(had_reserve_routine=True).count()
    assert yes + no == 80
    cancelled = client.get(url, {"status": "cancelled"}).context["page"].paginator.count
    assert cancelled == IncidentMetrics.objects.filter(final_state="cancelled").count()
    newest = IncidentMetrics.objects.order_by("-reported_at").first().reported_at
    from django.utils import timezone

    day = timezone.localtime(newest).date()
    in_day = client.get(url, {"fran": day.isoformat(), "till": day.isoformat()}).context["page"].paginator.count
    assert 1 <= in_day < 80


def test_history_free_text_finds_summary_notes_and_review(client, va, closed_incident):
    closed_incident(summary="Sesam LMN nere efter uppgradering", review={"what_happened": "Brandväggsregel ändrad"})
    other = closed_incident(summary="Helt annat")
    client.force_login(va)
    url = reverse("review:history")
    assert client.get(url, {"q": "uppgradering"}).context["page"].paginator.count == 1
    assert client.get(url, {"q": "brandväggsregel"}).context["page"].paginator.count == 1
    assert client.get(url, {"q": f"#{other.pk}"}).context["page"].paginator.count == 1


def test_history_paginates(client, va):
    call_command("seed_history", incidents=30, seed=7, stdout=io.StringIO())
    client.force_login(va)
    first = client.get(reverse("review:history"))
    second = client.get(reverse("review:history"), {"sida": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5


def test_history_counts_a_long_list_only_so_far_and_still_pages_to_its_end(client, va, monkeypatch):
    """Counting every match grows with the history; past the limit the page says "more than"."""
    from review import views

    monkeypatch.setattr(views, "HISTORY_COUNT_LIMIT", 30)
    call_command("seed_history", incidents=80, seed=8, stdout=io.StringIO())
    client.force_login(va)
    url = reverse("review:history")
    first = client.get(url)
    assert not first.context["page"].paginator.exact
    text = first.content.decode()
    assert "Fler än 30 störningar" in text and "Sida 1<" in text and "sida=2" in text
    seen = []
    for number in (1, 2, 3, 4):
        page = client.get(url, {"sida": number}).context["page"]
        seen += [m.pk for m in page.object_list]
    assert len(seen) == len(set(seen)) == 80
    last = client.get(url, {"sida": 4}).context["page"]
    assert last.paginator.exact and last.paginator.count == 80 and not last.has_next()
    narrow = client.get(url, {"scenario": "full_it_outage"}).context["page"].paginator
    assert narrow.exact and narrow.count == IncidentMetrics.objects.filter(scenario="full_it_outage").count()


# --- CSV --------------------------------------------------------------------------------------


def test_history_csv_opens_in_excel_with_swedish_characters(client, va, closed_incident):
    closed_incident(summary='=HYPERLINK("x") Förskrivare i Hässleholm och Åhus')
    client.force_login(va)
    response = client.get(reverse("review:history_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Nummer" and "Störningen började" in rows[0]
    summary = rows[1][3]
    assert summary.startswith("'=") and "Hässleholm och Åhus" in summary


def test_figures_csv(client, va):
    call_command("seed_history", incidents=40, seed=8, stdout=io.StringIO())
    client.force_login(va)
    response = client.get(reverse("review:figures_csv"))
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "Störningar per månad och scenario" in text
    assert "Anmäld → kvitterad av SA" in text


# --- report and figures --------------------------------------------------------------------


def test_report_page_and_download(client, ks, closed_incident):
    incident = closed_incident()
    client.force_login(ks)
    page = client.get(reverse("review:incident_report", args=[incident.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Anmäld → eskalerad till SA" in body and "Databasservern föll" in body
    assert "css/report." in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in body  # the chart
    download = client.get(reverse("review:incident_report", args=[incident.pk]), {"ladda-ner": "1"})
    assert "attachment" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/pdf"  # its text: tests/test_report_pdf.py


def test_figures_page_has_tables_and_svg_with_text_alternatives(client, va):
    call_command("seed_history", incidents=50, seed=9, stdout=io.StringIO())
    client.force_login(va)
    response = client.get(reverse("review:figures"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
    assert '<title id="chart-monthly-t">' in body and '<desc id="chart-durations-d">' in body
    figures = response.context["figures"]
    closed = IncidentMetrics.objects.exclude(final_state="cancelled")
    assert figures["totals"]["incidents"] == closed.count()
    from review.reports import percentile

    resolved = list(closed.values_list("secs_to_resolved", flat=True))
    row = next(d for d in figures["durations"] if d["key"] == "resolved")
    assert row["median"] == pytest.approx(percentile(resolved, 0.5))
    assert row["p90"] == pytest.approx(percentile(resolved, 0.9))


# --- permissions --------------------------------------------------------------------------


def test_kundservice_reads_history_but_may_not_close_or_export(client, ks, closed_incident, open_incident, va):
    incident = closed_incident()
    client.force_login(ks)
    assert client.get(reverse("review:history")).status_code == 200
    assert client.get(reverse("review:incident_report", args=[incident.pk])).status_code == 200
    assert client.get(reverse("review:figures")).status_code == 403
    assert client.get(reverse("review:figures_csv")).status_code == 403
    assert client.get(reverse("review:history_csv")).status_code == 403
    other = open_incident(scenario="telephony_fault")
    services.resolve(va, other.pk)
    with pytest.raises(services.ActionRefused) as refused:
        services.close(ks, other.pk, review=REVIEW)
    assert refused.value.code == "forbidden"
    assert client.post(reverse("incidents:transition", args=[other.pk, "close"]), REVIEW).status_code == 403


def test_kundservice_may_export_when_granted(client, ks):
    ks.user_permissions.add(Permission.objects.get(codename="export_figures"))
    client.force_login(ks)
    assert client.get(reverse("review:figures")).status_code == 200
    assert client.get(reverse("review:history_csv")).status_code == 200


def test_verksamhetsspecialist_sees_figures(client, vs):
    client.force_login(vs)
    assert client.get(reverse("review:figures")).status_code == 200


# --- query counts that do not grow with history ---------------------------------------------


def _count(client, url, params=None):
    from django.core.cache import cache

    cache.clear()  # pages kept rendered per change: count the rendering
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _pages(open_incident, vs):
    from incidents.models import Incident

    live = open_incident()
    services.escalate(vs, live.pk)
    ended = Incident.objects.ended().order_by("-reported_at").first()
    return [
        ("live", reverse("incidents:live"), None),
        ("incident", reverse("incidents:detail", args=[ended.pk]), None),
        ("live incident", reverse("incidents:detail", args=[live.pk]), None),
        ("report", reverse("review:incident_report", args=[ended.pk]), None),
        (
            "history",
            reverse("review:history"),
            {"scenario": "sesam_unreachable", "reservrutin": "nej", "q": "Sesam"},
        ),
        ("figures", reverse("review:figures"), {"fran": "2000-01-01"}),
    ]


# Session, user, roles with permissions (one query) and the heartbeat banner included; the
# point is that none grows. incident: +1 for the Meddelanden section (notifications app); a
# live one also reads its deadlines; and its urgent orders (the report too).
# The live list: its stamp, the page's count, the ids and list versions of the page's rows, then
# (the rows' cache emptied) the rows' incidents with their tasks, timers and failed notices.
# The live list reads the running drills' ids apart from the real list's page (one query), and
# its whole page the drill plan (incidents.drill_plan.plan; never read by a poll).
# Live list and incident page: +1, whether more than one routine has a version in force (kept in
# the cache, which this count empties). Historik and figures: +1, the routines in force, whose
# scenarios are the filter's choices and the chart's series.
EXPECTED_QUERIES = {"live": 16, "incident": 11, "live incident": 12, "report": 7, "history": 7, "figures": 7}


def test_pages_run_a_fixed_number_of_queries_whatever_the_history(client, va, vs, open_incident):
    client.force_login(va)
    call_command("seed_history", incidents=30, seed=10, stdout=io.StringIO())
    small = {name: _count(client, url, params) for name, url, params in _pages(open_incident, vs)}
    call_command("seed_history", incidents=30, seed=11, stdout=io.StringIO())
    for _i in range(2):
        open_incident(scenario="telephony_fault")
    # A running drill, shown apart in the live list, costs no query more.
    from incidents import drills

    drills.start_drill(va, scenario="sesam_unreachable", participants=[vs.pk])
    large = {name: _count(client, url, params) for name, url, params in _pages(open_incident, vs)}
    assert small == large
    assert large == EXPECTED_QUERIES


def test_the_report_names_notices_in_words_and_the_reserve_clock_as_configured(client, va, settings):
    from datetime import timedelta

    call_command("seed_history", incidents=60, seed=5, stdout=io.StringIO())
    auto = IncidentMetrics.objects.filter(had_reserve_routine=True, reserve_by_hand=False).first()
    assert auto is not None
    settings.RESERVE_ROUTINE_AFTER = timedelta(hours=3, minutes=30)
    client.force_login(va)
    page = client.get(reverse("review:incident_report", args=[auto.incident_id])).content.decode()
    assert "Reservrutinen aktiverades automatiskt efter 3 h 30 min utan prognos." in page
    assert "Vårdgivare Skåne: reservrutin gäller" in page
    assert "[vardgivare_skane]" not in page and "(sent)" not in page


def test_the_figures_form_shows_the_default_period_it_uses(client, va):
    from django.utils import timezone

    client.force_login(va)
    page = client.get(reverse("review:figures")).content.decode()
    today = timezone.localdate()
    assert f'name="till" value="{today.isoformat()}"' in page
    assert 'name="fran" value="' in page
