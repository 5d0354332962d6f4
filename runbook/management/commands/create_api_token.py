"""python manage.py create_api_token USERNAME [--name NAME]: print a new API token, once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from runbook import services
from runbook.errors import ActionRefused


class Command(BaseCommand):
    help = (
        "Make a personal API token for USERNAME and print it. Only its hash is stored, so it "
        "cannot be shown again. The token carries the user's permissions, no more."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (shown on /tokens/).")

    def handle(self, *args, username, name, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is not active; a token would not work.")
        try:
            _token, key = services.issue_token(user, name or "create_api_token")
        except ActionRefused as refused:
            raise CommandError(refused.message) from None
        # The token alone on stdout, so `TOKEN=$(python manage.py create_api_token anna)` works.
        self.stdout.write(key)
