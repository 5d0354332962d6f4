"""Who may resend a message and read the rules table, as editable group permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DEFAULTS = {
    "verksamhetsansvarig": ["resend_notification", "view_notification_rules"],
    "verksamhetsspecialist": ["resend_notification", "view_notification_rules"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in DEFAULTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=DEFAULTS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="notifications"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("incidents", "0002_roles_and_timeline_guard"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
