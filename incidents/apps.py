from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

TIMELINE = "incidents_timelineevent"
# The triggers of migration 0015 on SQLite, made again if missing (keep_timeline_guard).
SQLITE_GUARD = [
    f"""CREATE TRIGGER IF NOT EXISTS incidents_timeline_append_only_{what}
    BEFORE {what.upper()} ON {TIMELINE}
BEGIN
    SELECT RAISE(ABORT, 'The timeline is append-only');
END;"""
    for what in ("update", "delete")
]


def keep_timeline_guard(using, **kwargs):
    """To alter a table, Django's SQLite backend makes a new one and copies the rows over; the
    new table has no triggers. After every migrate the timeline's are made again if missing."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite" or TIMELINE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for sql in SQLITE_GUARD:
            cursor.execute(sql)


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Driftstörningar")

    def ready(self):
        post_migrate.connect(keep_timeline_guard, sender=self)
        from . import checks  # noqa: F401 - registers the deploy checks
