from django.core.management.base import BaseCommand

from review import services


class Command(BaseCommand):
    help = "Rewrite every ended incident's metrics row (nyckeltal) from its timeline."

    def handle(self, *args, **options):
        n = services.rebuild_metrics()
        self.stdout.write(f"{n} störningar omräknade från tidslinjen.")
