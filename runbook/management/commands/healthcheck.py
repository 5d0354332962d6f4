"""Exit 0 when healthy, 1 otherwise: for container health checks.

Without options: the database answers. ``--scheduler``: beat's sweep has also run within three
sweep intervals (what /readyz checks too).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from runbook import health


class Command(BaseCommand):
    help = "Exit 1 when the database does not answer (or, with --scheduler, beat has stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--scheduler", action="store_true", help="also require a recent sweep")

    def handle(self, *args, scheduler, **options):
        try:
            connection.ensure_connection()
        except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
            raise CommandError(f"database: {exc}") from exc
        if scheduler:
            stale = health.scheduler_stale()
            if stale:
                raise CommandError(f"scheduler: last sweep {stale}")
        self.stdout.write("ok")
