"""Write a routine version as YAML (``docs/routine-format.md``): by default the version in
force of the app's own routine, to standard output."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from routines import loader, portable
from routines.models import RoutineVersion


class Command(BaseCommand):
    help = "Export a routine version as YAML (default: the version in force of sesam-lmn)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the routine's version here, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--routine", default=loader.DEFAULT_ROUTINE, help="the routine's key")
        parser.add_argument("--version", type=int, help="the version's number (default: the one in force)")
        parser.add_argument("-o", "--output", help="write to this file instead of standard output")

    def handle(self, *args, routine, version, output, **options):
        if version is None:
            try:
                found = loader.in_force_version(routine)
            except loader.NoVersionInForce:
                raise CommandError(f"No published version of routine {routine!r}.") from None
        else:
            found = (
                RoutineVersion.objects.select_related("routine", "published_by")
                .filter(routine__key=routine, number=version)
                .first()
            )
            if found is None:
                raise CommandError(f"Routine {routine!r} has no version {version}.")
        text = portable.export_version(found)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {found} to {output}")
        else:
            self.stdout.write(text, ending="")
