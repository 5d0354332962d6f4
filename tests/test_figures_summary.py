"""Nyckeltal per månad: the figures page reads whole months from a summary kept with the
metrics rows, and shows what counting the incidents themselves would show."""

import io
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Task
from review import monthly, selectors
from review import services as review_services
from review.models import FiguresMonth, IncidentMetrics
from review.reports import percentile

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Seeded history runs back about 100 days from here: early March to mid-June 2026.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=STOCKHOLM)
DURATIONS = {
    "escalated": "secs_to_escalated",
    "acknowledged": "secs_to_acknowledged",
    "prognosis": "secs_to_prognosis",
    "reserve": "secs_to_reserve",
    "resolved": "secs_to_resolved",
    "closed": "secs_to_closed",
}


def day(y, m, d):
    """Midnight in Stockholm."""
    return datetime(y, m, d, tzinfo=STOCKHOLM)


PERIODS = {
    "starts and ends mid-month": (day(2026, 3, 20), day(2026, 6, 10)),
    "whole months": (day(2026, 4, 1), day(2026, 6, 1)),
    "inside one month": (day(2026, 5, 5), day(2026, 5, 25)),
    "two part months, none whole": (day(2026, 4, 20), day(2026, 5, 10)),
    "the page's default, up to today": (day(2025, 7, 1), day(2026, 6, 16)),
    "before any incident": (day(2020, 1, 1), day(2020, 3, 1)),
    "mid-month to a day still to come": (day(2026, 4, 10), day(2026, 7, 20)),
    "inside the current month, to a day still to come": (day(2026, 6, 3), day(2026, 6, 28)),
    "the current month from its first day to its last": (day(2026, 6, 1), day(2026, 7, 1)),
}


def straight_from_the_incidents(start, end):
    """What the figures are, counted here from the period's IncidentMetrics rows."""
    rows = list(IncidentMetrics.objects.filter(reported_at__gte=start, reported_at__lt=end))
    kept = [r for r in rows if r.final_state != "cancelled"]
    monthly = {}
    for r in rows:
        local = timezone.localtime(r.reported_at, STOCKHOLM)
        counts = monthly.setdefault(
            (date(local.year, local.month, 1), r.scenario), {"incidents": 0, "cancelled": 0, "reserve": 0}
        )
        counts["cancelled" if r.final_state == "cancelled" else "incidents"] += 1
        counts["reserve"] += r.had_reserve_routine
    ack = settings.ACK_TIMEOUT.total_seconds()
    totals = {
        "incidents": len(kept),
        "escalations": sum(r.escalated_at is not None for r in kept),
        "acknowledged_in_time": sum(
            r.secs_escalated_to_acknowledged is not None and r.secs_escalated_to_acknowledged <= ack for r in kept
        ),
        "reserve": sum(r.had_reserve_routine for r in kept),
        "reserve_by_hand": sum(r.had_reserve_routine and r.reserve_by_hand for r in kept),
        "reserve_early": sum(r.reserve_early for r in kept),
        "followed": sum(r.steps_late == 0 and r.steps_skipped == 0 for r in kept),
        **{f"n_{key}": sum(getattr(r, column) is not None for r in kept) for key, column in DURATIONS.items()},
    }
    durations = {
        key: (
            percentile([getattr(r, column) for r in kept], 0.5),
            percentile([getattr(r, column) for r in kept], 0.9),
        )
        for key, column in DURATIONS.items()
    }
    return monthly, totals, durations


def assert_figures_match_the_incidents(start, end):
    figures = selectors.figures(start, end)
    monthly, totals, durations = straight_from_the_incidents(start, end)
    shown = {
        (timezone.localtime(row["month"], STOCKHOLM).date(), row["scenario"]): {
            "incidents": row["incidents"],
            "cancelled": row["cancelled"],
            "reserve": row["reserve"],
        }
        for row in figures["monthly"]
    }
    assert shown == monthly
    assert [(row["month"], row["scenario"]) for row in figures["monthly"]] == sorted(
        (row["month"], row["scenario"]) for row in figures["monthly"]
    )
    assert figures["totals"] == totals
    for row in figures["durations"]:
        median, p90 = durations[row["key"]]
        assert row["n"] == totals[f"n_{row['key']}"]
        assert row["median"] == pytest.approx(median) and row["p90"] == pytest.approx(p90)
    return figures


@pytest.fixture
def history(time_machine):
    """About 150 ended incidents from early March to mid-June 2026, the clock at NOW."""
    time_machine.move_to(NOW, tick=False)
    call_command("seed_history", incidents=150, per_day=1.5, seed=21, stdout=io.StringIO())


def summary():
    return list(
        FiguresMonth.objects.order_by("month", "scenario").values(
            *[f.name for f in FiguresMonth._meta.concrete_fields if f.name not in ("id", "computed_at")]
        )
    )


# --- the same figures as counting the incidents -------------------------------------------


@pytest.mark.parametrize("period", PERIODS, ids=list(PERIODS))
def test_figures_equal_a_count_of_the_incidents_themselves(history, period):
    start, end = PERIODS[period]
    figures = assert_figures_match_the_incidents(start, end)
    if period == "whole months":
        assert figures["totals"]["incidents"] > 0


def test_figures_for_any_period_take_at_most_three_queries(history):
    for start, end in PERIODS.values():
        with CaptureQueriesContext(connection) as ctx:
            selectors.figures(start, end)
        assert len(ctx.captured_queries) <= 3, (start, end)


def test_a_period_of_whole_months_up_to_today_reads_no_incident_for_its_counts(history):
    """The default period: from the first of a month to today. The current month has begun
    and the period's end is still to come, so the summary holds all of it."""
    start, end = PERIODS["the page's default, up to today"]
    with CaptureQueriesContext(connection) as ctx:
        selectors.figures(start, end)
    assert len(ctx.captured_queries) == 2  # the summary and the percentiles
    june = FiguresMonth.objects.filter(month=date(2026, 6, 1)).order_by("scenario").first()
    FiguresMonth.objects.filter(pk=june.pk).update(incidents=999)
    shown = sum(
        row["incidents"]
        for row in selectors.figures(start, end)["monthly"]
        if row["scenario"] == june.scenario and row["month"].month == 6
    )
    assert shown == 999  # read from the summary, not counted from the incidents


def test_whole_months_are_read_from_the_summary_and_part_months_from_the_incidents(history):
    april = FiguresMonth.objects.filter(month=date(2026, 4, 1)).order_by("scenario").first()
    FiguresMonth.objects.filter(pk=april.pk).update(incidents=999)

    def shown(start, end):
        return sum(
            row["incidents"]
            for row in selectors.figures(start, end)["monthly"]
            if row["scenario"] == april.scenario and row["month"].month == 4
        )

    assert shown(day(2026, 4, 1), day(2026, 5, 1)) == 999
    assert shown(day(2026, 4, 2), day(2026, 5, 1)) < 999


def test_a_month_counted_under_another_ack_timeout_is_counted_from_the_incidents(history, settings):
    settings.ACK_TIMEOUT = timedelta(minutes=5)
    for start, end in PERIODS.values():
        assert_figures_match_the_incidents(start, end)
        with CaptureQueriesContext(connection) as ctx:
            selectors.figures(start, end)
        assert len(ctx.captured_queries) <= 3  # stale months are counted with the edges, in one query
    call_command("rebuild_incident_metrics", stdout=io.StringIO())
    assert set(FiguresMonth.objects.values_list("ack_timeout_secs", flat=True)) == {300}
    assert_figures_match_the_incidents(*PERIODS["whole months"])


def test_incidents_reported_either_side_of_midnight_stockholm_time_count_in_their_own_month(
    time_machine, open_incident, va
):
    # 2026-03-31 23:30 in Stockholm is 21:30 UTC, and 2026-04-01 00:10 is 22:10 UTC on
    # 31 March: only Swedish months put them apart.
    late_march = datetime(2026, 3, 31, 23, 30, tzinfo=STOCKHOLM)
    early_april = datetime(2026, 4, 1, 0, 10, tzinfo=STOCKHOLM)
    for moment in (late_march, early_april):
        time_machine.move_to(moment, tick=False)
        services.cancel(va, open_incident(scenario="telephony_fault").pk, reason="Falsklarm")

    assert list(FiguresMonth.objects.order_by("month").values_list("month", "cancelled")) == [
        (date(2026, 3, 1), 1),
        (date(2026, 4, 1), 1),
    ]
    for start, end in ((day(2026, 3, 1), day(2026, 5, 1)), (day(2026, 3, 15), day(2026, 4, 15))):
        monthly = selectors.figures(start, end)["monthly"]
        assert [(row["month"], row["cancelled"]) for row in monthly] == [
            (day(2026, 3, 1), 1),
            (day(2026, 4, 1), 1),
        ]
    assert selectors.figures(day(2026, 3, 1), day(2026, 4, 1))["monthly"][0]["cancelled"] == 1


# --- kept current ---------------------------------------------------------------------------


def _close(incident_id, va):
    services.resolve(va, incident_id)
    for task in Task.objects.filter(incident_id=incident_id, done_at__isnull=True):
        services.complete_task(va, task.pk)
    services.close(va, incident_id, review={"what_happened": "Telefonin låg nere"})


def test_closing_and_cancelling_show_on_the_figures_page_at_once(client, time_machine, open_incident, va):
    time_machine.move_to(NOW, tick=True)
    client.force_login(va)
    whole_june = {"fran": "2026-06-01", "till": "2026-06-30"}

    def figures(params=None):
        return client.get(reverse("review:figures"), params or {}).context["figures"]

    assert figures()["totals"]["incidents"] == 0
    _close(open_incident(scenario="telephony_fault").pk, va)
    for shown in (figures(), figures(whole_june)):
        assert shown["totals"]["incidents"] == 1
        assert [(r["scenario"], r["incidents"], r["cancelled"]) for r in shown["monthly"]] == [
            ("telephony_fault", 1, 0)
        ]

    services.cancel(va, open_incident(scenario="telephony_fault").pk, reason="Falsklarm")
    for shown in (figures(), figures(whole_june)):
        assert shown["totals"]["incidents"] == 1
        assert [(r["scenario"], r["incidents"], r["cancelled"]) for r in shown["monthly"]] == [
            ("telephony_fault", 1, 1)
        ]


def test_rebuild_command_restores_the_summary(history):
    before = summary()
    FiguresMonth.objects.filter(month=date(2026, 4, 1)).delete()
    FiguresMonth.objects.filter(month=date(2026, 5, 1)).update(incidents=0, followed=7)
    FiguresMonth.objects.create(month=date(2001, 1, 1), scenario="telephony_fault", incidents=3, ack_timeout_secs=900)
    call_command("rebuild_incident_metrics", stdout=io.StringIO())
    assert summary() == before
    assert_figures_match_the_incidents(day(2001, 1, 1), day(2026, 7, 1))


def test_a_rewritten_metrics_row_that_moves_month_and_scenario_leaves_its_old_month(open_incident, va, everyone):
    incident = open_incident(scenario="kundservice_link_loss")
    services.reclassify(everyone, incident.pk, "telephony_fault")
    _close(incident.pk, va)
    # As if an earlier version had counted it under its first scenario, a month earlier.
    row = IncidentMetrics.objects.get(pk=incident.pk)
    month = row.reported_at.astimezone(STOCKHOLM).date().replace(day=1)
    earlier = row.reported_at - timedelta(days=40)
    IncidentMetrics.objects.filter(pk=incident.pk).update(scenario="kundservice_link_loss", reported_at=earlier)
    old_key = (earlier.astimezone(STOCKHOLM).date().replace(day=1), "kundservice_link_loss")
    review_services.refresh_figures_months({old_key, (month, "telephony_fault")})
    assert list(FiguresMonth.objects.values_list("month", "scenario", "incidents")) == [(*old_key, 1)]

    review_services.record_metrics(incident)

    assert list(FiguresMonth.objects.values_list("month", "scenario", "incidents")) == [(month, "telephony_fault", 1)]


def test_rebuilding_the_metrics_moves_a_stale_row_to_its_month_and_scenario(open_incident, va):
    incident = open_incident(scenario="telephony_fault")
    _close(incident.pk, va)
    row = IncidentMetrics.objects.get(pk=incident.pk)
    month = row.reported_at.astimezone(STOCKHOLM).date().replace(day=1)
    IncidentMetrics.objects.filter(pk=incident.pk).update(scenario="sesam_unreachable")
    review_services.refresh_figures_months({(month, "sesam_unreachable"), (month, "telephony_fault")})
    assert list(FiguresMonth.objects.values_list("scenario", flat=True)) == ["sesam_unreachable"]

    call_command("rebuild_incident_metrics", stdout=io.StringIO())

    assert list(FiguresMonth.objects.values_list("month", "scenario", "incidents")) == [(month, "telephony_fault", 1)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_incidents_ending_at_once_in_the_same_month_are_both_counted(
    require_postgres, monkeypatch, open_incident, va
):
    first, second, third = (open_incident(scenario="telephony_fault") for _i in range(3))
    services.cancel(va, first.pk, reason="Falsklarm")  # the month's row exists and is committed
    holding, release, third_done = threading.Event(), threading.Event(), threading.Event()
    errors = []
    count_by_month = monthly.count_by_month

    def count_after_a_pause(*args):
        # The first transaction stops between taking the month's row and counting the month.
        if threading.current_thread() is threads[0]:
            holding.set()
            release.wait(10)
        return count_by_month(*args)

    monkeypatch.setattr(monthly, "count_by_month", count_after_a_pause)

    def cancel(incident, done=None):
        try:
            services.cancel(va, incident.pk, reason="Falsklarm")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            holding.set()
            if done:
                done.set()
            connection.close()

    threads = [
        threading.Thread(target=cancel, args=(second,)),
        threading.Thread(target=cancel, args=(third, third_done)),
    ]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    # The second waits for the month's row while the first holds it...
    assert not third_done.wait(1)
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors and not any(t.is_alive() for t in threads)
    # ...and then counts all three.
    assert list(FiguresMonth.objects.values_list("scenario", "cancelled")) == [("telephony_fault", 3)]
