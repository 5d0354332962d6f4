"""Who a signed-in person is allowed to be, read once per request.

Every page asks the same questions of the person: which roles (groups) they hold and which
permissions those and their own grants give. Django's ``ModelBackend`` answers with one ORM
query for their own permissions and one for their groups', and the roles cost a third; on a
page that costs more than the page's own data. ``load_access`` reads all three in one
query and keeps the answer on the user object, which lives for one request, so a change
of a group's permissions counts from the person's next request, as with ``ModelBackend``.
"""

from django.contrib.auth import backends, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


def _access_sql():
    user = get_user_model()
    user_groups = user.groups.through._meta.db_table
    user_perms = user.user_permissions.through._meta.db_table
    group_perms = Group.permissions.through._meta.db_table
    group, permission = Group._meta.db_table, Permission._meta.db_table
    content_type = ContentType._meta.db_table
    # One row per (group, permission) the person holds through a group, a row with no
    # permission for a group that grants none, and one row per permission of their own.
    return f"""
        SELECT g.name, ct.app_label, p.codename
          FROM {user_groups} ug
          JOIN {group} g ON g.id = ug.group_id
          LEFT JOIN {group_perms} gp ON gp.group_id = g.id
          LEFT JOIN {permission} p ON p.id = gp.permission_id
          LEFT JOIN {content_type} ct ON ct.id = p.content_type_id
         WHERE ug.user_id = %s
        UNION ALL
        SELECT NULL, ct.app_label, p.codename
          FROM {user_perms} up
          JOIN {permission} p ON p.id = up.permission_id
          JOIN {content_type} ct ON ct.id = p.content_type_id
         WHERE up.user_id = %s
    """


def load_access(user):
    """Fill the person's group names and permission caches with one query (once per request)."""
    loaded = hasattr(user, "_group_names") and (
        user.is_superuser or (hasattr(user, "_user_perm_cache") and hasattr(user, "_group_perm_cache"))
    )
    if loaded:  # read earlier in this request, and no cache deleted since to read again
        return
    groups, group_perms, own_perms = set(), set(), set()
    if user.is_authenticated and user.pk is not None:
        with connections[router.db_for_read(Permission)].cursor() as cursor:
            cursor.execute(_access_sql(), [user.pk, user.pk])
            for group_name, app_label, codename in cursor.fetchall():
                perm = f"{app_label}.{codename}" if codename else None
                if group_name is None:
                    own_perms.add(perm)
                else:
                    groups.add(group_name)
                    if perm:
                        group_perms.add(perm)
    user._group_names = groups
    if not user.is_superuser:  # ModelBackend gives a superuser every permission itself
        # The attribute names ModelBackend keeps its own caches under, so that its other
        # methods (has_perm, has_module_perms) read these.
        user._user_perm_cache = own_perms
        user._group_perm_cache = group_perms


class ModelBackend(backends.ModelBackend):
    """Django's ModelBackend, with permissions and roles read in one query (``load_access``).

    While people sign in through the region's identity provider (``runbook.oidc``), a
    password signs in only a named break-glass administrator; anyone else's attempt is a
    failed one (django-axes counts it, as every failure, before this backend is asked).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        from . import oidc

        name = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        if not oidc.may_use_password(name):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def _get_permissions(self, user_obj, obj, from_name):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super()._get_permissions(user_obj, obj, from_name)
        load_access(user_obj)
        return getattr(user_obj, f"_{from_name}_perm_cache")
