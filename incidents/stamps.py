"""Version stamps: has anything a page shows changed since a browser last asked?

Every incident carries a ``version`` that ``touch`` raises in the transaction of each change a
page shows (state, tasks, prognosis, timeline, deadlines, notices and their delivery). A page
that polls reads the stamp in one indexed query and answers "unchanged" without rendering
(``runbook.polling``). Its ``list_version`` is raised with it, except by the changes the live
list's row does not show, which say so (``listed=False``: a notice claimed, sent or to be
retried changes its attempts and status on the incident page, not the row; a notice that
finally fails, and all the rest, do change the row).

The live list's stamp is taken from the live incidents' ids and list versions (the partial
index ``incident_live_list_stamp``): their count, the sum of their ids and the sum of their
list versions.
Versions only grow, so a listed change to a live incident raises the sum; an incident
that leaves the list lowers the count, and one that joins it comes with a larger id than any
before it, so the count or the sum of ids moves whenever the set changes. Nothing is written
to one shared row, so changes to different incidents never wait for each other.
"""

import hashlib

from django.db import connection
from django.db.models import F

from .models import ENDED_STATES, Incident


def touch(incident_id, *, listed=True):
    """Mark the incident as changed, in the current transaction (with the change itself);
    ``listed=False`` when the change is not shown in the live list's row."""
    if hasattr(incident_id, "pk"):
        incident_id = incident_id.pk
    versions = {"version": F("version") + 1}
    if listed:
        versions["list_version"] = F("list_version") + 1
    Incident.objects.filter(pk=incident_id).update(**versions)


TABLE = Incident._meta.db_table
# The ended states written into the statement (constants of the code, not input), so that
# the planner matches it to the partial index whatever it does with parameters.
NOT_ENDED = "state NOT IN ({})".format(", ".join(f"'{state.value}'" for state in ENDED_STATES))


def incident_stamp(incident_id):
    """The incident's version, or None when there is no such incident."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {TABLE} WHERE id = %s", [incident_id])
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def live_stamp():
    """A short text that changes whenever the live list (not closed or cancelled) changes."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(SUM(list_version), 0) FROM {TABLE} WHERE {NOT_ENDED}"
        )
        count, ids, versions = cursor.fetchone()
    return _live_digest(count, ids, versions)


def live_stamp_of(incidents):
    """The live list's stamp worked out from the list itself (all incidents not ended)."""
    return _live_digest(len(incidents), sum(i.pk for i in incidents), sum(i.list_version for i in incidents))


def _live_digest(count, ids, versions):
    return hashlib.blake2b(f"{count}:{ids}:{versions}".encode(), digest_size=8).hexdigest()
