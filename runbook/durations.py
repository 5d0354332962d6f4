"""The routine's clocks as settings: each routine version has its own (the 4 hours, the
acknowledgement timeout); ``RESERVE_ROUTINE_AFTER_SECONDS`` and ``ACK_TIMEOUT_SECONDS``, when
set, replace every version's, so that tests and demos can run in seconds.

Unset, the setting holds ``FromRoutine``: a duration that means "the version's own", whose value
is version 1's for code that only needs a figure (``routines.loader.duration`` tells them apart).
Imported by the settings, so it imports nothing of the project.
"""

import os
from datetime import timedelta


class FromRoutine(timedelta):
    """Not set: each incident's routine version decides (this value is version 1's)."""


def setting(name, version_1_seconds):
    if name in os.environ:
        return timedelta(seconds=float(os.environ[name]))
    return FromRoutine(seconds=version_1_seconds)
