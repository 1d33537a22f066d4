#!/usr/bin/env python
"""Build a random permission/password scenario on a custom user model and write Django's answers.

    CUSTOM_USER_APP=people INTEROP_DB=sqlite:/tmp/x.sqlite3 python scenario.py --seed 1 --out expected.json

The database must be fresh (no tables).  Then: migrate (custom_settings.py, the app named by
CUSTOM_USER_APP: `people`, `staff`, or `accounts` with its UUID primary key), build the scenario from --seed
with get_user_model() (users with random flags and cheap md5 passwords set with set_password,
groups, group grants, direct grants, memberships), compute every answer with Django's own APIs on
fresh instances, and verify that computing them did not change a single row: authenticate() runs
inside a transaction that is rolled back, so its hash upgrades never reach the database.

Every user is named by the value of its USERNAME_FIELD ("username" for people.Account, "email"
for staff.Person).  Lists of strings are sorted by code point.
"""

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

EXTRA_PROBES = ["", "add_account", "people.", ".view_person", "auth.add_user", "auth.view_user",
                "staff.nonexistent", "people.nonexistent", "reports", "reports.export", "a.b.c",
                "People.add_account", "staff.ADD_PERSON", " staff.add_person", "people.add_account ",
                "accounts.view_member", "accounts.VIEW_MEMBER", "accounts."]
EXTRA_APPS = ["", "nonexistent", "Auth", "auth.", "reports.export", "People", "Staff"]
NONEXISTENT_PERM = "auth.nonexistent_perm"
WITH_PERM_COMBOS = [(a, s) for a in (True, False, None) for s in (True, False)]
CHEAP_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

NAME_STEMS = ["alice", "bob", "carol", "dave", "Eve", "zoë", "jürgen", "łukasz", "мария", "李雷",
              "ørsted", "ñandú", "hélène", "first.last", "plus+tag", "dash-name", "under_score",
              "Ümit", "ahmed", "θεά"]
GROUP_NAMES = ["Editors", "Night shift", "Rédaction", "Библиотекари", "图书管理员", "Staff",
               "staff", "emoji 📚 club", "with/slash", "Mañana crew"]
ASCII_PW = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*()-_=+[]{};:,.<>/? "
UNICODE_PW = "äöüßéèçñøåłżźœæ€£¥§°µΩπσжщюяあいう漢字🔑"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--groups", type=int, default=6)
    return p.parse_args()


def setup_django():
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "custom_settings"
    import django

    django.setup()


def random_password(rng, unicode_ok=True):
    alphabet = ASCII_PW + (UNICODE_PW if unicode_ok else "")
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 20)))


def wrong_for(rng, pw):
    cands = [pw + "x", pw[:-1] if len(pw) > 1 else pw + pw, pw.swapcase(), " " + pw, random_password(rng)]
    return rng.choice([c for c in cands if c != pw])


def uname(u):
    return getattr(u, type(u).USERNAME_FIELD)


def perm_str(p):
    return f"{p.content_type.app_label}.{p.codename}"


def build(rng, n_users, n_groups):
    """Returns {username: (raw password or None, wrong password)}."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.test.utils import override_settings

    User = get_user_model()
    app, model = User._meta.app_label, User._meta.model_name
    field_names = {f.name for f in User._meta.get_fields()}
    has_staff = "is_staff" in field_names
    with transaction.atomic():
        user_ct = ContentType.objects.get_for_model(User)
        ct = {(c.app_label, c.model): c for c in ContentType.objects.all()}
        special = {
            # A custom permission on the user model.
            "impersonate": Permission.objects.create(
                content_type=user_ct, codename=f"can_impersonate_{model}", name="Can impersonate"),
            "inspect": Permission.objects.create(
                content_type=ct["contenttypes", "contenttype"], codename="can_inspect_contenttype",
                name="Can inspect content type"),
        }
        # The same "app.view_<model>" string from a second row (another content type of the same app).
        legacy = ContentType.objects.create(app_label=app, model="legacy")
        special["dup"] = Permission.objects.create(
            content_type=legacy, codename=f"view_{model}", name="Duplicate view")
        reports = ContentType.objects.create(app_label="reports", model="salesreport")
        special["reports_view"] = Permission.objects.create(
            content_type=reports, codename="view_salesreport", name="Can view sales report")
        # A codename with a dot: has_perm works, with_perm raises ValueError.
        special["dotted"] = Permission.objects.create(
            content_type=reports, codename="export.csv", name="Can export CSV")
        all_perms = list(Permission.objects.order_by("id"))

        gnames = GROUP_NAMES[:]
        rng.shuffle(gnames)
        groups = [Group.objects.create(name=n) for n in gnames[:n_groups]]
        for g in groups:
            g.permissions.add(*rng.sample(all_perms, rng.randint(0, 6)))
        groups[0].permissions.add(special["dup"], special["reports_view"])

        stems = NAME_STEMS[:]
        rng.shuffle(stems)
        kinds = ["unusable", "unusable", "never_set", "pbkdf2_sha256"]
        kinds += ["md5"] * (n_users - len(kinds))
        rng.shuffle(kinds)
        passwords, users = {}, []
        for i, kind in enumerate(kinds):
            stem = stems[i % len(stems)]
            fields = {"is_active": rng.random() < 0.8, "is_superuser": rng.random() < 0.15}
            if User.USERNAME_FIELD == "email":
                name = User.objects.normalize_email(f"{stem}{i}@Example.COM")
                fields["email"] = name
                fields["display_name"] = f"{stem.title()} #{i}"
                if rng.random() < 0.5 and "nickname" in field_names:
                    fields["nickname"] = stem[:3]
            else:
                name = User.normalize_username(stem if i < len(stems) else f"{stem}{i}")
                fields["username"] = name
                fields["email"] = rng.choice(["", f"u{i}@example.com"])
                fields["first_name"] = rng.choice(["", "Ada", "Zoë"])
            if has_staff:
                fields["is_staff"] = rng.random() < 0.3
            u = User(**fields)
            if kind == "unusable":
                u.set_unusable_password()
                raw, wrong = None, random_password(rng)
            elif kind == "never_set":
                u.password = ""
                raw, wrong = "", random_password(rng)
            elif kind == "pbkdf2_sha256":
                raw = random_password(rng)
                wrong = wrong_for(rng, raw)
                u.password = make_password(raw, hasher="pbkdf2_sha256")
            else:
                raw = random_password(rng, unicode_ok=rng.random() < 0.5)
                wrong = wrong_for(rng, raw)
                with override_settings(PASSWORD_HASHERS=CHEAP_HASHERS):
                    u.set_password(raw)
            u.save()
            passwords[name] = (raw, wrong)
            users.append(u)

        # Corner cases whatever the seed.
        for u, (active, sup) in zip(users, [(True, True), (False, True), (False, False), (True, False),
                                            (True, False)]):
            u.is_active, u.is_superuser = active, sup
            u.save(update_fields=["is_active", "is_superuser"])
        for u in users[5:]:
            if rng.random() < 0.6:
                u.user_permissions.add(*rng.sample(all_perms, rng.randint(1, 5)))
            if rng.random() < 0.7:
                u.groups.add(*rng.sample(groups, rng.randint(1, 3)))
        users[2].user_permissions.add(special["impersonate"], special["reports_view"])
        users[2].groups.add(groups[0])
        users[3].user_permissions.add(special["dotted"], special["inspect"], special["dup"])
        users[3].groups.add(groups[0])
        # users[4]: active, no grants at all.
    return passwords


def fingerprint():
    """SHA-256 over every row of every table (django_session aside)."""
    from django.db import connection

    h = hashlib.sha256()
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names()):
            if table == "django_session":
                continue
            cur.execute(f"SELECT * FROM {qn(table)}")
            rows = sorted(repr(r) for r in cur.fetchall())
            h.update(repr((table, rows)).encode())
    return h.hexdigest()


def fresh(name):
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.get_by_natural_key(name)


def authenticate_no_write(name, password):
    """Django's authenticate(), in a transaction that is rolled back (no hash upgrade survives).

    The same hashers as settings.PASSWORD_HASHERS, with md5 moved to the front: that only changes
    which hash an upgrade would write (rolled back anyway) and the dummy hash run for unknown users
    and unusable passwords, not the answer, and saves a 1.5M-round PBKDF2 per call.
    """
    from django.conf import settings
    from django.contrib.auth import authenticate
    from django.db import transaction
    from django.test.utils import override_settings

    hashers = CHEAP_HASHERS + [h for h in settings.PASSWORD_HASHERS if h not in CHEAP_HASHERS]
    with override_settings(PASSWORD_HASHERS=hashers), transaction.atomic():
        user = authenticate(None, username=name, password=password)
        transaction.set_rollback(True)
    return user is not None


def main():
    args = parse_args()
    t0 = time.monotonic()
    setup_django()
    import django
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    existing = connection.introspection.table_names()
    if existing:
        sys.exit(f"scenario.py: database is not fresh (has tables: {sorted(existing)[:8]})")
    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    passwords = build(rng, args.users, args.groups)
    t_built = time.monotonic()

    before = fingerprint()
    User = get_user_model()
    perms = sorted({perm_str(p) for p in Permission.objects.select_related("content_type")})
    probes = sorted(set(perms) | set(EXTRA_PROBES))
    apps = sorted(set(ContentType.objects.values_list("app_label", flat=True)) | set(EXTRA_APPS))
    backend = ModelBackend()
    users_out = []
    for u in User._default_manager.order_by("pk"):
        name = uname(u)
        raw, wrong = passwords[name]
        u = fresh(name)
        mine = sorted(u.get_all_permissions())
        entry = {
            "username": name,
            "is_active": u.is_active,
            "is_superuser": u.is_superuser,
            "is_staff": bool(getattr(u, "is_staff", False)),
            "groups": sorted(u.groups.values_list("name", flat=True)),
            "direct_grants": sorted({perm_str(p) for p in u.user_permissions.select_related("content_type")}),
            "user_permissions": sorted(backend.get_user_permissions(u)),
            "group_permissions": sorted(backend.get_group_permissions(u)),
            "all_permissions": sorted(backend.get_all_permissions(u)),
            "encoded": u.password,
        }
        u = fresh(name)  # the has_* calls fill the caches themselves
        entry["has_perm"] = {p: u.has_perm(p) for p in probes}
        lists = [[], rng.sample(probes, rng.randint(1, 3)), mine[:3] or rng.sample(perms, 2),
                 mine[:2] + ["people.nonexistent"], rng.sample(perms, 2)]
        entry["has_perms_pairs"] = [[lst, u.has_perms(lst)] for lst in lists]
        entry["has_module_perms"] = {a: u.has_module_perms(a) for a in apps}
        entry["password"] = raw
        entry["wrong_password"] = wrong
        entry["authenticate_right"] = authenticate_no_write(name, raw if raw is not None else wrong)
        entry["authenticate_wrong"] = authenticate_no_write(name, wrong)
        users_out.append(entry)

    with_perm = []
    for perm in perms + [NONEXISTENT_PERM]:
        for is_active, include_superusers in WITH_PERM_COMBOS:
            e = {"perm": perm, "is_active": is_active, "include_superusers": include_superusers}
            try:
                qs = backend.with_perm(perm, is_active=is_active, include_superusers=include_superusers)
                e["usernames"] = sorted(uname(x) for x in qs)
            except ValueError:
                e["usernames"] = None
                e["error"] = "ValueError"
            with_perm.append(e)
    groups_out = []
    for g in Group.objects.order_by("name"):
        groups_out.append({
            "name": g.name,
            "permissions": sorted({perm_str(p) for p in g.permissions.select_related("content_type")}),
            "members": sorted(uname(x) for x in g.user_set.all()),
        })
    groups_out.sort(key=lambda g: g["name"])
    out = {
        "django_version": django.get_version(),
        "seed": args.seed,
        "user_model": settings.AUTH_USER_MODEL,
        "username_field": User.USERNAME_FIELD,
        "database_vendor": connection.vendor,
        "permissions": perms,
        "probe_permissions": probes,
        "apps": apps,
        "groups": groups_out,
        "users": users_out,
        "unknown_user_authenticates": authenticate_no_write("no-such-user@example.com", "whatever"),
        "with_perm": with_perm,
    }
    if fingerprint() != before:
        sys.exit("scenario.py: BUG: computing the answers changed the database")
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"scenario.py: seed {args.seed}, {settings.AUTH_USER_MODEL} on {connection.vendor}: "
          f"{len(users_out)} users, {len(groups_out)} groups, {len(perms)} permission strings, "
          f"{len(with_perm)} with_perm entries -> {args.out} "
          f"(build {t_built - t0:.1f}s, total {time.monotonic() - t0:.1f}s)")


if __name__ == "__main__":
    main()
