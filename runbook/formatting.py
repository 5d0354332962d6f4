"""How durations and the time left read on every page, in every app."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _


def format_duration(value):
    """A duration (timedelta or seconds) as "2 h 05 min" / "14 min" / "–"."""
    if value is None:
        return "–"
    total = int(value.total_seconds() if isinstance(value, timedelta) else value)
    sign = "-" if total < 0 else ""
    total = abs(total)
    minutes_total = (total + 30) // 60
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h {minutes:02d} min"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    if minutes_total == 0 and total:
        return f"{sign}{total} s"
    return f"{sign}{minutes} min"


def time_left(due_at):
    """ "om 2 h 13 min" until a deadline; once it has passed, that it waits for the sweep."""
    seconds = int((due_at - timezone.now()).total_seconds())
    if seconds <= 0:
        return _("förfallen – utlöses vid nästa svep")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("om %(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("om %(m)d min") % {"m": minutes}
    return _("om %(s)d s") % {"s": secs}


def duration_words(delta):
    """A whole number of hours, minutes or seconds in words ("4 timmar")."""
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return _("%(n)d timmar") % {"n": seconds // 3600}
    if seconds % 60 == 0:
        return _("%(n)d minuter") % {"n": seconds // 60}
    return _("%(n)d sekunder") % {"n": seconds}


def clock_time(value, now=None):
    """A deadline's local time as a clock reads it: "15:00" today, "2026-12-04 15:00" on any
    other day (a prognosis may hold the reserve routine for days; "15:00" alone would say
    today). A text kept between renders stays true: a deadline of today fires before midnight."""
    local = timezone.localtime(value)
    if local.date() == timezone.localtime(now or timezone.now()).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
