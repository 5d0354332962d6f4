"""Verksamhetsspecialist and Verksamhetsansvarig keep the contacts and SA's duty hours."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("verksamhetsspecialist", "verksamhetsansvarig")
CODENAMES = ("add_contact", "change_contact", "add_dutyhours", "change_dutyhours", "delete_dutyhours")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="incidents", codename__in=CODENAMES)
    for name in ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="incidents", codename__in=CODENAMES)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0013_timer_attempts"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(grant, revoke)]
