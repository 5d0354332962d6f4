"""Two PostgreSQL roles: the owner of the tables runs the migrations, the app only uses them.

The timeline is the record of what was done during a disruption. The app's role may read it and
append to it, never update, delete, truncate or alter it: only the owner of a table may alter,
disable its triggers or drop it, and the triggers refuse UPDATE, DELETE and TRUNCATE even to
the owner. Every other table (and sequence) is the app's to read and write.

``manage.py migrate`` connects as ``MIGRATE_DATABASE_URL``'s role (the owner) when it is set,
and after every run grants the app's role (``DATABASE_URL``'s user) what this module says,
with default privileges so that tables a later migration makes are the app's as well.
"""

from django.conf import settings

# Tables the app may only read and append to.
APPEND_ONLY_TABLES = ("incidents_timelineevent",)
REWRITES = ("UPDATE", "DELETE", "TRUNCATE")


def owner_settings():
    """The connection settings of MIGRATE_DATABASE_URL, or None when it is not set."""
    if not settings.MIGRATE_DATABASE_URL:
        return None
    import dj_database_url

    return dj_database_url.parse(settings.MIGRATE_DATABASE_URL)


def grant_app_role(connection, app_role):
    """Grant ``app_role`` the app's privileges, as the owner connected on ``connection``."""
    quote = connection.ops.quote_name
    role = quote(app_role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # Tables and sequences the owner makes later (a new migration) are the app's too.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    for table in APPEND_ONLY_TABLES:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quote(table)} FROM {role}, PUBLIC")
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def rewrite_powers(connection, role=None):
    """What lets ``role`` (default: the connected one) rewrite the timeline; empty when nothing.

    A superuser, the table's owner (or a member of the owning role) can disable the triggers or
    drop the table; a role granted UPDATE, DELETE or TRUNCATE needs no more than that.
    """
    if connection.vendor != "postgresql":
        return []
    powers = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(%s, current_user)", [role])
        (role,) = cursor.fetchone()
        for table in APPEND_ONLY_TABLES:
            cursor.execute(
                "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'USAGE'), "
                + ", ".join(f"has_table_privilege(r.oid, c.oid, '{what}')" for what in REWRITES)
                + " FROM pg_roles r, pg_class c WHERE r.rolname = %s AND c.oid = to_regclass(%s)",
                [role, table],
            )
            row = cursor.fetchone()
            if row is None:
                continue
            superuser, owner, *may = row
            if superuser:
                powers.append(f"{role} is a superuser")
            elif owner:
                powers.append(f"{role} owns {table} (or is a member of its owner)")
            else:
                granted = [what for what, yes in zip(REWRITES, may, strict=True) if yes]
                if granted:
                    powers.append(f"{role} may {', '.join(granted)} {table}")
    return powers
