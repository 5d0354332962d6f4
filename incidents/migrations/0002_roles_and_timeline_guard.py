"""The five roles of the routine as groups with their default permissions (DESIGN 1 and 3),
and, on PostgreSQL, a trigger that keeps the timeline append-only below the ORM too."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DEFAULTS = {
    "kundservice": ["view_incident", "report_incident", "cancel_own_report", "log_reserve_order"],
    "systemansvarig": [
        "view_incident",
        "report_incident",
        "acknowledge_incident",
        "record_prognosis",
        "record_it_contact",
        "resolve_incident",
    ],
    "verksamhetsansvarig": [
        "view_incident",
        "report_incident",
        "escalate_incident",
        "await_it_incident",
        "reclassify_incident",
        "record_prognosis",
        "record_it_contact",
        "activate_reserve_routine",
        "resolve_incident",
        "close_incident",
        "cancel_incident",
        "complete_any_task",
        "log_reserve_order",
    ],
    "verksamhetsspecialist": [
        "view_incident",
        "report_incident",
        "escalate_incident",
        "await_it_incident",
        "reclassify_incident",
        "record_prognosis",
        "record_it_contact",
        "activate_reserve_routine",
        "resolve_incident",
        "cancel_incident",
        "complete_any_task",
        "log_reserve_order",
    ],
    "telefoniansvarig": ["view_incident", "report_incident"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in DEFAULTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames)
        group.permissions.add(*perms)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=DEFAULTS).delete()


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The timeline is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timeline_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineevent
    FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineevent;
DROP FUNCTION IF EXISTS incidents_timeline_append_only();
"""


def guard_timeline(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL)


def unguard_timeline(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
        migrations.RunPython(guard_timeline, unguard_timeline),
    ]
