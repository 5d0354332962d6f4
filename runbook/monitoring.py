"""What IT's monitoring reads at ``/metrics`` (Prometheus text format).

Everything an alert would fire on is counted from the database when Prometheus scrapes, not
kept in the process: the rows are the truth, so every web process answers the same and a
restarted one has lost nothing. Only the request latency is the process's own (a histogram
the middleware fills); with several gunicorn processes it is added up over all of them when
PROMETHEUS_MULTIPROC_DIR is set (prometheus-client's multiprocess mode, see gunicorn.conf.py).

This module reads the incidents' and the notifications' tables, so, like ``runbook/urls.py``,
it is a composition module: it imports them inside the functions that need them.
"""

import math
import os

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from . import client, health

# No "_created" series beside each histogram: nothing here alerts on them.
disable_created_metrics()

REQUEST_LATENCY = Histogram(
    "runbook_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by view (URL name) and method.",
    ["view", "method"],
    registry=None,
)


# The methods a label may name. Any other token a client sends ("BREW", "A1", ...) is counted
# as "other": one series each would let a stranger grow every scrape, and the memory (or, in
# multiprocess mode, the files) behind it, without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(view, method, seconds):
    method = method if method in KNOWN_METHODS else "other"
    REQUEST_LATENCY.labels(view=view, method=method).observe(seconds)


def _gauge(name, documentation, labels=None):
    return GaugeMetricFamily(name, documentation, labels=labels)


class DatabaseCollector:
    """The alerting figures, read from the database at each scrape (a handful of queries,
    each on an index: pending and failed messages, due deadlines, live incidents)."""

    def collect(self):
        up = _gauge("runbook_database_up", "1 when the database answered this scrape, else 0.")
        try:
            families = list(self._families(timezone.now()))
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, now):
        from incidents.models import LIVE_STATES, Incident, Timer
        from notifications.models import Channel, Notification

        pending = _gauge(
            "runbook_notifications_pending",
            "Messages not yet delivered (waiting or between retries), by channel.",
            ["channel"],
        )
        failed = _gauge(
            "runbook_notifications_failed",
            "Messages that finally failed (each became a task for a person), by channel.",
            ["channel"],
        )
        oldest = _gauge(
            "runbook_notification_oldest_pending_age_seconds",
            "Age of the oldest undelivered message (since written or resent), by channel; 0 when none.",
            ["channel"],
        )
        by_channel = {
            (row["channel"], row["status"]): row
            for row in Notification.objects.filter(status__in=[Notification.Status.PENDING, Notification.Status.FAILED])
            .values("channel", "status")
            .annotate(n=Count("id"), since=Min(Coalesce("resent_at", "created_at")))
            .order_by()
        }
        for channel in Channel.values:
            waiting = by_channel.get((channel, Notification.Status.PENDING))
            pending.add_metric([channel], waiting["n"] if waiting else 0)
            oldest.add_metric([channel], _seconds(now - waiting["since"]) if waiting else 0)
            lost = by_channel.get((channel, Notification.Status.FAILED))
            failed.add_metric([channel], lost["n"] if lost else 0)
        yield from (pending, failed, oldest)

        overdue = _gauge(
            "runbook_deadlines_overdue",
            "Deadlines whose time has passed and that have not fired yet, by kind.",
            ["kind"],
        )
        lateness = _gauge(
            "runbook_deadline_lateness_seconds",
            "How long past its time the most overdue unfired deadline is, by kind; 0 when none.",
            ["kind"],
        )
        due = {
            row["kind"]: row
            for row in Timer.objects.due(now).values("kind").annotate(n=Count("id"), earliest=Min("due_at")).order_by()
        }
        for kind in Timer.Kind.values:
            row = due.get(kind)
            overdue.add_metric([kind], row["n"] if row else 0)
            lateness.add_metric([kind], _seconds(now - row["earliest"]) if row else 0)
        yield overdue
        yield lateness
        failing = _gauge(
            "runbook_deadlines_failing", "Deadlines whose firing failed in TIMER_ALERT_AFTER_ATTEMPTS sweeps or more."
        )
        failing.add_metric([], health.failing_deadlines())
        yield failing

        heartbeat = _gauge(
            "runbook_scheduler_heartbeat_age_seconds", "Seconds since beat's sweep last ran (+Inf when it never has)."
        )
        at = health.last_beat()
        heartbeat.add_metric([], math.inf if at is None else _seconds(now - at))
        yield heartbeat
        interval = _gauge(
            "runbook_scheduler_sweep_interval_seconds", "How often beat should sweep (TIMER_SWEEP_SECONDS)."
        )
        interval.add_metric([], settings.TIMER_SWEEP_INTERVAL.total_seconds())
        yield interval

        live = _gauge("runbook_incidents_live", "Live (not yet restored) real incidents, by state.", ["state"])
        # Drills (övningar) are no disruption: nothing alerts on them.
        counts = dict(Incident.objects.live().real().values_list("state").annotate(n=Count("id")).order_by())
        for state in LIVE_STATES:
            live.add_metric([str(state)], counts.get(state, 0))
        yield live


def _seconds(delta):
    return max(delta.total_seconds(), 0.0)


def registry():
    """A registry for one scrape: this process's latency histogram (or every gunicorn
    process's, in multiprocess mode) and the figures from the database."""
    scrape = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape.register(REQUEST_LATENCY)
    scrape.register(DatabaseCollector())
    return scrape


def exposition():
    return generate_latest(registry())


# --- who may scrape ----------------------------------------------------------------------


class Refusal:
    OFF = "off"  # neither a token nor networks configured: nobody may scrape
    NETWORK = "network"
    TOKEN = "token"


def refusal(request):
    """None when the request may read /metrics, else why not (a ``Refusal``).

    Each configured condition must hold: the client's address (behind TRUSTED_PROXIES, the
    address they forward) in METRICS_ALLOWED_NETWORKS, and ``Authorization: Bearer`` with
    METRICS_TOKEN. With neither configured nobody may, loopback included: a reverse proxy on
    the same host would make every visitor look like loopback.
    """
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return Refusal.OFF
    if networks and not client.in_networks(client.client_ip(request), client.networks(networks)):
        return Refusal.NETWORK
    if token:
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not constant_time_compare(given.strip(), token):
            return Refusal.TOKEN
    return None
