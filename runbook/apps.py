from django.apps import AppConfig


class RunbookConfig(AppConfig):
    name = "runbook"
    verbose_name = "Driftstörningsrutin Sesam LMN"

    def ready(self):
        from . import checks, deploy_checks, signals  # noqa: F401 - receivers, system checks
        from . import language  # noqa: F401  (brings a person's language into the session at sign-in)
