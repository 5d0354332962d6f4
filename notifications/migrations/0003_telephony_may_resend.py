"""Telefoniansvarig may resend a message too: a lavinmeddelande that could not be put on the
phone queue becomes their task, and resending it is the first thing to try."""

from django.db import migrations


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="telefoniansvarig")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="notifications", codename="resend_notification")
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="telefoniansvarig"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="notifications", codename="resend_notification")
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_default_permissions")]

    operations = [migrations.RunPython(grant, revoke)]
