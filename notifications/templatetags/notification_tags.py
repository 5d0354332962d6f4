from collections import Counter

from django import template
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..models import Channel, DrillReceipt, Notification
from ..services import may_resend, may_view_rules, resendable

register = template.Library()


def _notifications(incident):
    """One query per page for both tags below."""
    cached = getattr(incident, "_notification_list", None)
    if cached is None:
        cached = list(Notification.objects.filter(incident=incident).order_by("created_at", "id"))
        incident._notification_list = cached
    return cached


@register.inclusion_tag("notifications/_incident_messages.html", takes_context=True)
def incident_notifications(context, incident):
    """Meddelanden: each message's state and attempts; sent e-mail is counted, not listed."""
    user = context["request"].user
    rows, sent_mail = [], Counter()
    notifications = _notifications(incident)
    # The latest of each reference by id, as ``services.resend`` decides (not by the order
    # shown: two messages written at once may have their times the other way round).
    last_of_reference = {}
    for n in notifications:
        key = (n.channel, n.recipient)
        last_of_reference[key] = max(last_of_reference.get(key, n.pk), n.pk)
    # A drill's notices: which of them the app's own drill receiver has kept (one query).
    received = (
        set(DrillReceipt.objects.filter(incident=incident).values_list("notification_id", flat=True))
        if incident.is_drill
        else set()
    )
    for n in notifications:
        n.resendable = resendable(n, last_of_reference[(n.channel, n.recipient)] != n.pk)
        n.drill_received = n.pk in received
        if n.channel == Channel.EMAIL and n.status == Notification.Status.SENT:
            sent_mail[n.subject] += 1
        else:
            rows.append(n)
    return {
        "incident": incident,
        "rows": rows,
        "sent_mail": sorted(sent_mail.items()),
        "failed": sum(1 for n in rows if n.status == Notification.Status.FAILED),
        "may_resend": may_resend(user),
        "may_view_rules": may_view_rules(user),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("notifications/_incident_alert.html")
def incident_notification_alert(incident):
    """The red mark: messages that finally failed and need a person."""
    return {"failed": sum(1 for n in _notifications(incident) if n.status == Notification.Status.FAILED)}


@register.simple_tag
def failed_notices(incidents):
    """For the live list: how many messages finally failed, per incident id (one query)."""
    ids = [incident.pk for incident in incidents]
    if not ids:
        return {}
    rows = (
        Notification.objects.filter(incident_id__in=ids, status=Notification.Status.FAILED)
        .values("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    return dict(rows)


@register.filter
def failed_count(failed, incident):
    return failed.get(incident.pk, 0)


@register.filter
def local_time(value):
    """An ISO 8601 time from a payload as "2026-11-26 09:15" in Stockholm time; else as given."""
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such time ("2026-02-30T10:00")
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        return value
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
