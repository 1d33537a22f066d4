"""Shared helpers for scenario.py and check_castellan_db.py (Django side of the interop harness).

Every answer in expected.json is computed here, with Django's own public APIs, on FRESH user
instances loaded from the database, and without writing anything to the database.
"""

import hashlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Made-up permission strings probed in addition to every real "app.codename" string.
EXTRA_PROBES = [
    "bookshelf.nonexistent",
    "add_book",
    "Bookshelf.add_book",
    "",
    "a.b.c",
    "auth.add_user ",
    " auth.add_user",
    "auth.ADD_USER",
    "auth.",
    ".add_user",
    "auth..add_user",
    "reports",
    "reports.export",
]
# Made-up app labels probed in addition to every real app label.
EXTRA_APPS = ["Auth", "nonexistent", "", "auth.", "reports.export"]
# A permission string that exists nowhere; with_perm on it returns the superusers only.
NONEXISTENT_PERM = "auth.nonexistent_perm"
WITH_PERM_COMBOS = [
    (is_active, include_superusers)
    for is_active in (True, False, None)
    for include_superusers in (True, False)
]
# Tables shared with Castellan, and the columns used to fingerprint them (see db_fingerprint).
SHARED_TABLES = {
    "django_content_type": ["id", "app_label", "model"],
    "auth_permission": ["id", "content_type_id", "codename", "name"],
    "auth_group": ["id", "name"],
    "auth_group_permissions": ["group_id", "permission_id"],
    "auth_user": [
        "id", "password", "last_login", "is_superuser", "username", "first_name",
        "last_name", "email", "is_staff", "is_active", "date_joined",
    ],
    "auth_user_groups": ["user_id", "group_id"],
    "auth_user_user_permissions": ["user_id", "permission_id"],
    "django_migrations": ["app", "name", "applied"],
}


def setup_django():
    """Put this directory on sys.path, select interop_settings and run django.setup()."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interop_settings")
    import django

    django.setup()


def sorted_strs(items):
    """Sort by Unicode code point (== UTF-8 byte order), the order used everywhere in the JSON."""
    return sorted(items)


def all_permission_strings():
    """Sorted distinct "app_label.codename" strings of every auth_permission row."""
    from django.contrib.auth.models import Permission

    rows = Permission.objects.values_list("content_type__app_label", "codename")
    return sorted_strs({f"{app}.{code}" for app, code in rows})


def all_app_labels():
    """App labels of every content type (covers every permission's prefix too)."""
    from django.contrib.contenttypes.models import ContentType

    return set(ContentType.objects.values_list("app_label", flat=True).distinct())


def probe_permissions(perms):
    return sorted_strs(set(perms) | set(EXTRA_PROBES))


def probe_apps():
    return sorted_strs(all_app_labels() | set(EXTRA_APPS))


def fresh_user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def permission_answers(username, probes, apps, has_perms_lists):
    """Answers of a fresh instance of the named user (the caches are filled from the DB, once)."""
    u = fresh_user(username)
    answers = {
        "is_active": u.is_active,
        "is_superuser": u.is_superuser,
        "is_staff": u.is_staff,
        "groups": sorted_strs(u.groups.values_list("name", flat=True)),
        # Raw direct grants (rows of auth_user_user_permissions), whatever is_active/is_superuser say.
        "direct_grants": sorted_strs({
            f"{a}.{c}" for a, c in u.user_permissions.values_list("content_type__app_label", "codename")
        }),
        "user_permissions": sorted_strs(u.get_user_permissions()),
        "group_permissions": sorted_strs(u.get_group_permissions()),
        "all_permissions": sorted_strs(u.get_all_permissions()),
    }
    # A second fresh instance for the has_* checks, so they fill the caches themselves.
    u = fresh_user(username)
    answers["has_perm"] = {p: u.has_perm(p) for p in probes}
    answers["has_perms_pairs"] = [[list(lst), u.has_perms(lst)] for lst in has_perms_lists]
    answers["has_module_perms"] = {a: u.has_module_perms(a) for a in apps}
    return answers


def password_answers(encoded, is_active, right, wrong):
    """check_password / authenticate answers computed WITHOUT touching the database.

    User.check_password() and authenticate() would re-hash (and save) any hash that is not
    pbkdf2_sha256 at the current cost; the module-level check_password() without a setter never
    writes.  authenticate(username, password) for an existing user is exactly
    "check_password succeeds and user_can_authenticate (is_active)" with ModelBackend only.
    """
    from django.contrib.auth.hashers import check_password

    ok_right = check_password(right, encoded)
    ok_wrong = check_password(wrong, encoded)
    return {"check_password": {"right": ok_right, "wrong": ok_wrong}, "authenticate": bool(ok_right and is_active)}


def with_perm_answers(perm_strings):
    """User.objects.with_perm(...) for every string × is_active × include_superusers."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    out = []
    for perm in perm_strings:
        for is_active, include_superusers in WITH_PERM_COMBOS:
            out.append(with_perm_one(User, perm, is_active, include_superusers))
    return out


def with_perm_one(User, perm, is_active, include_superusers):
    entry = {"perm": perm, "is_active": is_active, "include_superusers": include_superusers}
    try:
        qs = User.objects.with_perm(perm, is_active=is_active, include_superusers=include_superusers)
        entry["usernames"] = sorted_strs(qs.values_list("username", flat=True))
    except ValueError:
        # Django rejects anything that does not split into exactly two parts on "." (e.g. a
        # permission whose codename itself contains a dot).
        entry["usernames"] = None
        entry["error"] = "ValueError"
    return entry


def group_answers():
    from django.contrib.auth.models import Group

    out = []
    for g in Group.objects.order_by("name"):
        perms = g.permissions.values_list("content_type__app_label", "codename")
        out.append({
            "name": g.name,
            "permissions": sorted_strs({f"{a}.{c}" for a, c in perms}),
            "members": sorted_strs(g.user_set.values_list("username", flat=True)),
        })
    out.sort(key=lambda g: g["name"])
    return out


def db_fingerprint():
    """SHA-256 over the content of every shared table (ids included; through-table ids excluded)."""
    from django.db import connection

    h = hashlib.sha256()
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cur:
        for table, cols in SHARED_TABLES.items():
            if table not in existing:
                h.update(f"<no {table}>".encode())
                continue
            qn = connection.ops.quote_name
            collist = ", ".join(qn(c) for c in cols)
            cur.execute(f"SELECT {collist} FROM {qn(table)} ORDER BY {collist}")
            for row in cur.fetchall():
                h.update(repr((table, row)).encode())
    return h.hexdigest()
