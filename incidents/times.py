"""Every date and time the app accepts, checked in one place (Tidpunkter).

Pages, the API, imports and the stub receivers give times to the services; each goes through
one of these functions before anything is stored. A time outside its bounds is refused with
a Swedish message (``OutOfBounds``, a ``ValueError`` so that the API's schema and the forms
can raise it as it is); the database refuses what slips past with check constraints on the
same outer bounds (``EARLIEST``, ``LATEST``), so that no stored value can break a page.

Bounds (settings, in days):
- when a disruption began: not in the future, at most ``BEGAN_AT_MAX_AGE_DAYS`` back;
- a prognosis: not in the past, at most ``PROGNOSIS_MAX_DAYS`` ahead;
- since when a caller has had the fault: not after now, not before the incident began minus
  a day;
- a date in a filter (Historik, Nyckeltal, the API's lists): between ``EARLIEST`` and
  ``LATEST``.
"""

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from runbook import scenarios

# The outer bounds of every stored time: far outside an incident's life, far inside what
# Python, the database driver and a UTC offset can represent. The database checks them too.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# A clock a minute ahead of the server's is not "in the future".
CLOCK_SKEW = timedelta(minutes=1)
# A caller may have had trouble a while before the disruption was noticed.
CALLER_SINCE_BEFORE_START = timedelta(days=1)


class OutOfBounds(ValueError):
    """A time refused; ``message`` is for the person, worded when read (in the reader's
    language): given as a lazy string, or a callable where it has placeholders."""

    def __init__(self, message):
        self._message = message
        super().__init__()

    @property
    def message(self):
        return str(self._message() if callable(self._message) else self._message)

    def __str__(self):
        return self.message


def began_at_max_age():
    return timedelta(days=settings.BEGAN_AT_MAX_AGE_DAYS)


def prognosis_max_ahead():
    return timedelta(days=settings.PROGNOSIS_MAX_DAYS)


def _aware(value):
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise OutOfBounds(_("Ange en tidpunkt."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc < LATEST:
        raise OutOfBounds(
            lambda: _("Ange en tidpunkt mellan år %(a)d och %(b)d.") % {"a": EARLIEST.year, "b": LATEST.year - 1}
        )
    return value


def stored(value):
    """Any time about to be stored: representable and within the outer bounds."""
    return _aware(value)


def began_at(value, now=None):
    """When a disruption began: not in the future, at most BEGAN_AT_MAX_AGE_DAYS back."""
    value = _aware(value)
    if value is None:
        return None
    now = now or timezone.now()
    if value > now + CLOCK_SKEW:
        raise OutOfBounds(_("Störningen kan inte ha börjat i framtiden."))
    if value < now - began_at_max_age():
        raise OutOfBounds(
            lambda: (
                _("Störningen kan ha börjat högst %(days)d dagar bakåt i tiden.")
                % {"days": settings.BEGAN_AT_MAX_AGE_DAYS}
            )
        )
    return value


def prognosis(value, now=None):
    """When Sesam LMN is expected back: ahead of now, at most PROGNOSIS_MAX_DAYS ahead."""
    value = _aware(value)
    if value is None:
        return None
    now = now or timezone.now()
    if value <= now:
        raise OutOfBounds(_("Prognosen måste ligga i framtiden."))
    if value > now + prognosis_max_ahead():
        raise OutOfBounds(
            lambda: _("Prognosen kan ligga högst %(days)d dagar fram i tiden.") % {"days": settings.PROGNOSIS_MAX_DAYS}
        )
    return value


def caller_since(value, incident_began_at=None, now=None):
    """Since when a caller has had the fault: not after now, not long before the start."""
    value = _aware(value)
    if value is None:
        return None
    now = now or timezone.now()
    if value > now + CLOCK_SKEW:
        raise OutOfBounds(_("”Sedan när” kan inte ligga i framtiden."))
    earliest = (incident_began_at or now) - CALLER_SINCE_BEFORE_START
    if value < earliest:
        raise OutOfBounds(
            lambda: (
                _("”Sedan när” kan ligga högst ett dygn före störningens start (%(start)s).")
                % {"start": timezone.localtime(incident_began_at or now).strftime("%Y-%m-%d %H:%M")}
            )
        )
    return value


def recorded_at(value, now=None):
    """When something was noted on a device and sent later: not in the future, at most
    BEGAN_AT_MAX_AGE_DAYS back (a report kept offline)."""
    value = _aware(value)
    if value is None:
        return None
    now = now or timezone.now()
    if value > now + CLOCK_SKEW:
        raise OutOfBounds(_("Tidpunkten kan inte ligga i framtiden."))
    if value < now - began_at_max_age():
        raise OutOfBounds(
            lambda: (
                _("Tidpunkten kan ligga högst %(days)d dagar bakåt i tiden.") % {"days": settings.BEGAN_AT_MAX_AGE_DAYS}
            )
        )
    return value


def filter_date(value):
    """A date in a filter: between EARLIEST_DATE and LATEST_DATE."""
    if value is None:
        return None
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise OutOfBounds(lambda: _("Ange ett datum mellan %(a)s och %(b)s.") % {"a": EARLIEST_DATE, "b": LATEST_DATE})
    return value


def filter_time(value):
    """A time in a filter (the API's lists): within the outer bounds."""
    return _aware(value)


def reserve_deadline_passed(scenario, began_at_value, reserve_after, now=None):
    """Whether a report of ``scenario`` (a Scenario) starting at ``began_at_value`` puts the
    reserve routine's deadline (start + the routine version's ``reserve_after``) in the past:
    it and its public notice start at once."""
    if not scenario.uses(scenarios.RESERVE_ROUTINE) or began_at_value is None:
        return False
    now = now or timezone.now()
    return began_at_value + reserve_after <= now
