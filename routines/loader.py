"""The routine a piece of the app runs on, read through one door.

``version_for(incident)`` is the version the incident was pinned to when it was reported;
``in_force(routine)`` the published version new incidents start under now. A version's
document is read once per process and kept by its id (a published version never changes;
a draft is kept by id and revision), never read again per task or per page.
"""

import threading
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache

from runbook.durations import FromRoutine

from .document import Loaded, load
from .models import Routine, RoutineVersion

# The routine the app was made for; a routine not named is this one.
DEFAULT_ROUTINE = "sesam-lmn"

_lock = threading.Lock()
_loaded: dict[tuple[int, int], Loaded] = {}  # (id, revision) -> the version as read
_published: dict[int, Loaded] = {}  # id -> a published version as read


class NoVersionInForce(LookupError):
    pass


def _read(version: RoutineVersion) -> Loaded:
    key = (version.pk, version.revision)
    found = _loaded.get(key)
    if found is None:
        routine = version.routine
        found = load(
            version.document,
            id=version.pk,
            routine_key=routine.key,
            routine_name=routine.name,
            system=routine.system,
            number=version.number,
            revision=version.revision,
            draft=not version.is_published,
        )
        with _lock:
            _loaded[key] = found
            if version.is_published:
                _published[version.pk] = found
    return found


def loaded(version_id: int) -> Loaded:
    """A published version by its id, read from the database the first time only."""
    found = _published.get(version_id)
    if found is not None:
        return found
    return _read(RoutineVersion.objects.select_related("routine").get(pk=version_id))


def draft(version: RoutineVersion) -> Loaded:
    """A draft as it is now (kept by its revision: an edit reads it again)."""
    return _read(version)


def in_force_version(routine: Routine | str | None = None) -> RoutineVersion:
    """The published version of ``routine`` (default: the app's own) with the highest number."""
    key = routine.key if isinstance(routine, Routine) else (routine or DEFAULT_ROUTINE)
    version = (
        RoutineVersion.objects.select_related("routine")
        .filter(routine__key=key, status=RoutineVersion.Status.PUBLISHED)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NoVersionInForce(key)
    return version


def in_force(routine: Routine | str | None = None) -> Loaded:
    """The version of the routine that new incidents start under now."""
    version = in_force_version(routine)
    return _published.get(version.pk) or _read(version)


def routines_in_force() -> list[Loaded]:
    """The version in force of every routine that has a published one, by system name
    (one query): the systems a disruption can be reported in."""
    newest: dict[int, RoutineVersion] = {}
    published = RoutineVersion.objects.select_related("routine").filter(status=RoutineVersion.Status.PUBLISHED)
    for version in published.order_by("routine_id", "-number"):
        newest.setdefault(version.routine_id, version)
    found = [_published.get(v.pk) or _read(v) for v in newest.values()]
    return sorted(found, key=lambda v: (v.system.casefold(), v.routine_key))


# Whether more than one routine has a published version, kept in the cache so that a page
# polled every few seconds does not ask the database; ``routines.services.publish`` drops it.
SEVERAL_KEY = "routines:several"
SEVERAL_SECONDS = 300


def several_routines() -> bool:
    """More than one routine (IT system) has a version in force: pages name the system."""
    try:
        found = cache.get(SEVERAL_KEY)
    except Exception:  # noqa: BLE001 - without the cache the database answers
        found = None
    if found is None:
        found = (
            RoutineVersion.objects.filter(status=RoutineVersion.Status.PUBLISHED)
            .values("routine_id")
            .distinct()
            .count()
            > 1
        )
        try:
            cache.set(SEVERAL_KEY, found, SEVERAL_SECONDS)
        except Exception:  # noqa: BLE001
            pass
    return bool(found)


def routines_changed():
    """A version was published: the next page asks the database again."""
    try:
        cache.delete(SEVERAL_KEY)
    except Exception:  # noqa: BLE001 - the kept answer lapses within SEVERAL_SECONDS
        pass


def version_for(incident) -> Loaded:
    """The version ``incident`` was reported under (its pin); one that has none yet: in force."""
    version_id = getattr(incident, "pinned_version_id", None)
    return loaded(version_id) if version_id else in_force()


# The settings that, when set, replace a duration of every version (runbook/durations.py).
DURATION_SETTINGS = {"reserve_routine_after": "RESERVE_ROUTINE_AFTER", "ack_timeout": "ACK_TIMEOUT"}


def duration(version: Loaded, name: str) -> timedelta:
    """A clock of ``version`` (``reserve_routine_after``, ``ack_timeout``), unless the setting
    replaces it."""
    value = getattr(settings, DURATION_SETTINGS[name])
    return version.duration(name) if isinstance(value, FromRoutine) else value


def forget():
    """Drop what was read (tests whose database was emptied and filled again)."""
    with _lock:
        _loaded.clear()
        _published.clear()
    routines_changed()
