"""Read a routine from a YAML file (``docs/routine-format.md``) into its draft, or into a new
routine when its key is new, as the user named: the same checks as the pages; a published
version is never changed, and a bad file changes nothing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from routines import portable
from runbook.errors import ActionRefused


class Command(BaseCommand):
    help = "Import a routine from a YAML file as its draft (publish it on the routine's pages)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the YAML file, as export_routine writes it")
        parser.add_argument(
            "--user",
            required=True,
            help="the user the import is made as (Verksamhetsansvarig or Verksamhetsspecialist)",
        )

    def handle(self, *args, file, user, **options):
        person = get_user_model().objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"No active user {user!r}.")
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        try:
            draft = portable.import_file(person, data)
        except ActionRefused as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(
            f"{draft.routine.name}: version {draft.number} is a draft (revision {draft.revision}); "
            "publish it on the routine's page."
        )
