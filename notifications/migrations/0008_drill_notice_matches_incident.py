"""A message is a drill's exactly when its incident is a drill: the database refuses a drill's
message marked real (it would go to the real receivers) and a real one marked a drill's."""

from django.db import migrations

MESSAGE = "A notification is marked drill exactly when its incident is a drill"

POSTGRES_SQL = f"""
CREATE FUNCTION notifications_drill_matches_incident() RETURNS trigger AS $$
BEGIN
    IF NEW.drill IS DISTINCT FROM (SELECT is_drill FROM incidents_incident WHERE id = NEW.incident_id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER notifications_drill_matches_incident
    BEFORE INSERT OR UPDATE OF drill, incident_id ON notifications_notification
    FOR EACH ROW EXECUTE FUNCTION notifications_drill_matches_incident();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS notifications_drill_matches_incident ON notifications_notification;
DROP FUNCTION IF EXISTS notifications_drill_matches_incident();
"""

SQLITE_SQL = [
    f"""
CREATE TRIGGER notifications_drill_matches_incident_{name}
    BEFORE {what} ON notifications_notification
    WHEN NEW.drill IS NOT (SELECT is_drill FROM incidents_incident WHERE id = NEW.incident_id)
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
    for name, what in (("insert", "INSERT"), ("update", "UPDATE OF drill, incident_id"))
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS notifications_drill_matches_incident_{name};" for name in ("insert", "update")]


def guard(apps, schema_editor):
    # Messages written before drills were marked: marked now, as the guard will want.
    notification = apps.get_model("notifications", "Notification")
    notification.objects.filter(incident__is_drill=True).update(drill=True)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_SQL)
    elif vendor == "sqlite":
        for sql in SQLITE_SQL:
            schema_editor.execute(sql)


def unguard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0007_drill_notices")]
    operations = [migrations.RunPython(guard, unguard)]
