"""Django's migrate, run as the owner of the tables when MIGRATE_DATABASE_URL is set.

The app itself connects with DATABASE_URL as a role that may not rewrite the timeline
(runbook/db_roles.py); this command connects as the owner instead, migrates, and grants that
role what the app needs, every run. Without MIGRATE_DATABASE_URL it is Django's own.
"""

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from runbook import db_roles

# The owner's credentials; the database is the one being migrated (the test database, say).
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    help = migrate.Command.help + " As MIGRATE_DATABASE_URL's role when it is set."

    def handle(self, *args, **options):
        owner = db_roles.owner_settings()
        connection = connections[options["database"]]
        if owner is None or connection.vendor != "postgresql":
            return super().handle(*args, **options)
        app_role = connection.settings_dict["USER"]
        saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key) for key in CREDENTIALS})
        try:
            super().handle(*args, **options)
            if app_role and app_role != owner.get("USER"):
                db_roles.grant_app_role(connection, app_role)
                powers = db_roles.rewrite_powers(connection, app_role)
                if powers:
                    raise CommandError(
                        f"The app's database role could rewrite the timeline: {'; '.join(powers)}. "
                        "Connect the app (DATABASE_URL) as a role of its own, not the owner's."
                    )
                if options["verbosity"]:
                    self.stdout.write(
                        f"The app's role {app_role} may read and append to the timeline, and use every other table."
                    )
        finally:
            connection.close()
            connection.settings_dict.update(saved)
