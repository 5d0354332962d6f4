from django.apps import AppConfig


class RunbookConfig(AppConfig):
    name = "runbook"
    verbose_name = "Driftstörningsrutin Sesam LMN"

    def ready(self):
        # Receivers and system checks; language brings a person's language into the session
        # at sign-in.
        from . import checks, deploy_checks, language, signals  # noqa: F401
