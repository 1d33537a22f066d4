#!/usr/bin/env python
"""Build a random permission/password scenario with Django and write Django's answers as JSON.

    INTEROP_DB=sqlite:/tmp/x.sqlite3 python scenario.py --seed 1 --out expected.json [--reset]

The database must be fresh (no tables at all); --reset first deletes the SQLite file, or drops
and recreates the PostgreSQL "public" schema (DESTROYS everything in it).  Then: migrate, build
the scenario from --seed, compute every answer with real Django APIs on fresh user instances,
and verify that computing the answers did not change a single row (no password upgrades).
With INTEROP_APPS=core the bookshelf-specific parts are skipped.  See ../README.md.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop_common as common  # noqa: E402

# Username pieces: \w letters from several scripts plus the extra characters @ . + - _
NAME_STEMS = [
    "alice", "bob", "carol", "dave", "Eve", "zoë", "jürgen", "łukasz", "мария", "Иван", "李雷",
    "ørsted", "straße", "ñandú", "Ωmega", "ÆØÅ", "θεά", "ahmed", "Ναυσικά", "hélène", "çelik",
    "user@example.com", "first.last", "plus+tag", "dash-name", "under_score", "a", "x.y@z+w-v_u",
    "ßig", "ǆungla", "سارة", "नमन", "日本", "O'Brien".replace("'", ""), "Ümit", "Łódź",
]
GROUP_NAMES = [
    "Editors", "Night shift", "Rédaction", "Библиотекари", "图书管理员", " leading space",
    "trailing space ", "a.b", "with/slash", "emoji 📚 club", "Staff", "staff", "Mañana crew",
    "Ärzte & Ärztinnen", "groupe-α", "x" * 150,
]
ASCII_PW = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&*()-_=+[]{};:,.<>/? "
UNICODE_PW = "äöüßéèçñøåłżźœæ€£¥§°µΩπσжщюяあいう漢字🔑"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True, help="where to write expected.json")
    p.add_argument("--reset", action="store_true",
                   help="delete the SQLite file / drop and recreate PostgreSQL's public schema first")
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--groups", type=int, default=12)
    return p.parse_args()


def reset_sqlite_file():
    url = os.environ.get("INTEROP_DB", "")
    if url.startswith("sqlite:"):
        from django.conf import settings

        name = Path(settings.DATABASES["default"]["NAME"])
        for suffix in ("", "-journal", "-wal", "-shm"):
            f = Path(str(name) + suffix)
            if f.exists():
                f.unlink()


def reset_postgres():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cur.execute("CREATE SCHEMA public")


def random_password(rng, unicode_ok=True):
    n = rng.randint(1, 24)
    alphabet = ASCII_PW + (UNICODE_PW if unicode_ok else "")
    return "".join(rng.choice(alphabet) for _ in range(n))


def wrong_for(rng, pw):
    """A different password, often a near miss."""
    candidates = [pw + "x", pw[:-1] if len(pw) > 1 else pw + pw, pw.swapcase(), " " + pw, pw + " ",
                  random_password(rng)]
    candidates = [c for c in candidates if c != pw]
    return rng.choice(candidates)


def make_usernames(rng, n):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.validators import UnicodeUsernameValidator

    User = get_user_model()
    validator = UnicodeUsernameValidator()
    names, seen_folded = [], set()
    stems = NAME_STEMS[:]
    rng.shuffle(stems)
    i = 0
    while len(names) < n:
        stem = stems[i % len(stems)]
        name = stem if i < len(stems) else f"{stem}{rng.choice(['', '.', '_', '-', '+', '@'])}{i}"
        i += 1
        name = User.normalize_username(name)  # NFKC, as create_user would do
        validator(name)  # every stem must be a valid Django username
        if name.casefold() in seen_folded:  # stay unique even under case-insensitive collations
            continue
        seen_folded.add(name.casefold())
        names.append(name)
    return names


def build(rng, n_users, n_groups, full):
    """Create the scenario; returns {username: (raw_password_or_None, wrong_password)}."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    User = get_user_model()
    with transaction.atomic():
        # -- permissions created at run time --------------------------------------------------
        ct = {(c.app_label, c.model): c for c in ContentType.objects.all()}
        special = {}
        special["impersonate"] = Permission.objects.create(
            content_type=ct["auth", "user"], codename="can_impersonate", name="Can impersonate user")
        special["inspect"] = Permission.objects.create(
            content_type=ct["contenttypes", "contenttype"], codename="can_inspect_contenttype",
            name="Can inspect content type")
        # Same "auth.view_user" string from a second row (content type auth|group).
        special["dup_auth"] = Permission.objects.create(
            content_type=ct["auth", "group"], codename="view_user", name="Can view user (group-side duplicate)")
        # A hand-made content type for an app label that has no models at all.
        reports = ContentType.objects.create(app_label="reports", model="salesreport")
        special["reports_view"] = Permission.objects.create(
            content_type=reports, codename="view_salesreport", name="Can view sales report")
        # A codename containing a dot: has_perm("reports.export.csv") works, with_perm raises ValueError.
        special["reports_dotted"] = Permission.objects.create(
            content_type=reports, codename="export.csv", name="Can export CSV")
        if full:
            special["dup_book"] = Permission.objects.create(
                content_type=ct["bookshelf", "article"], codename="can_publish_book",
                name="Can publish book (article-side duplicate)")
            special["translate"] = Permission.objects.create(
                content_type=ct["bookshelf", "book"], codename="can_translate_book", name="Can translate book")
        all_perms = list(Permission.objects.order_by("id"))

        # -- groups ------------------------------------------------------------------------------
        gnames = GROUP_NAMES[:]
        rng.shuffle(gnames)
        groups = [Group.objects.create(name=name) for name in gnames[:n_groups]]
        for g in groups:
            g.permissions.add(*rng.sample(all_perms, rng.randint(0, 8)))
        groups[0].permissions.add(special["dup_auth"])  # the duplicate row via a group
        groups[0].permissions.add(special["reports_view"])

        # -- users --------------------------------------------------------------------------------
        names = make_usernames(rng, n_users)
        # Password kinds: index -> kind. Two real default-cost hashes per algorithm, unusable ones,
        # "" stored as never set, make_password(""), and the rest cheap md5.
        kinds = (["pbkdf2_sha256"] * 2 + ["pbkdf2_sha1"] * 2 + ["argon2"] * 2 + ["bcrypt_sha256"] * 2
                 + ["scrypt"] * 2 + ["unusable"] * 3 + ["never_set", "empty"])
        kinds += ["md5"] * (n_users - len(kinds))
        rng.shuffle(kinds)
        passwords = {}
        users = []
        long_done = False
        for i, (name, kind) in enumerate(zip(names, kinds)):
            flags = rng.random()
            u = User(
                username=name,
                is_active=rng.random() < 0.8,
                is_superuser=flags < 0.15,
                is_staff=rng.random() < 0.3,
                first_name=rng.choice(["", "Ada", "Zoë"]),
                email=rng.choice(["", f"u{i}@example.com"]),
            )
            if kind == "unusable":
                u.set_unusable_password()
                raw, wrong = None, random_password(rng)
            elif kind == "never_set":
                u.password = ""
                raw, wrong = "", random_password(rng)
            elif kind == "empty":
                u.password = make_password("")  # default hasher (pbkdf2_sha256)
                raw, wrong = "", " "
            else:
                raw = random_password(rng, unicode_ok=rng.random() < 0.6)
                if kind == "bcrypt_sha256" and not long_done:
                    long_done = True
                    raw = "ü" * 40 + raw  # > 72 UTF-8 bytes: bcrypt_sha256 pre-hashes, so no truncation
                wrong = wrong_for(rng, raw)
                u.password = make_password(raw, hasher=kind)
            u.save()
            passwords[name] = (raw, wrong)
            users.append(u)

        # Guaranteed corner cases, whatever the seed.
        users[0].is_active, users[0].is_superuser = True, True     # active superuser
        users[1].is_active, users[1].is_superuser = False, True    # inactive superuser
        users[2].is_active, users[2].is_superuser = False, False   # inactive user with grants
        users[3].is_active, users[3].is_superuser = True, False    # active user, duplicate rows
        users[4].is_active, users[4].is_superuser = True, False    # active user, no grants at all
        for u in users[:5]:
            u.save(update_fields=["is_active", "is_superuser"])

        for u in users[5:]:
            if rng.random() < 0.6:
                u.user_permissions.add(*rng.sample(all_perms, rng.randint(1, 6)))
            if rng.random() < 0.7:
                u.groups.add(*rng.sample(groups, rng.randint(1, 4)))
        users[2].user_permissions.add(special["impersonate"], special["reports_view"])
        users[2].groups.add(groups[0])
        users[3].user_permissions.add(special["reports_dotted"], special["inspect"])
        if full:
            users[3].user_permissions.add(special["dup_book"], special["translate"])
        users[3].groups.add(groups[0])
        return passwords


def main():
    args = parse_args()
    t0 = time.monotonic()
    common.setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    import django

    if args.reset:
        reset_sqlite_file()
        reset_postgres()
    existing = connection.introspection.table_names()
    if existing:
        sys.exit(f"scenario.py: database is not fresh (has tables: {', '.join(sorted(existing)[:8])}...); "
                 "use a new database or pass --reset")

    full = settings.INTEROP_APPS == "full"
    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    passwords = build(rng, args.users, args.groups, full)
    t_built = time.monotonic()

    before = common.db_fingerprint()
    perms = common.all_permission_strings()
    probes = common.probe_permissions(perms)
    apps = common.probe_apps()
    from django.contrib.auth import get_user_model

    User = get_user_model()
    users_out = []
    for u in User.objects.order_by("id"):
        raw, wrong = passwords[u.username]
        mine = set(u.get_all_permissions()) if u.is_active else set()
        lists = [
            [],
            rng.sample(probes, rng.randint(1, 3)),
            sorted(mine)[:4] or rng.sample(perms, 2),
            sorted(mine)[:2] + ["bookshelf.nonexistent"],
            rng.sample(perms, 2),
        ]
        ans = common.permission_answers(u.username, probes, apps, lists)
        pw = common.password_answers(u.password, u.is_active, raw, wrong)
        users_out.append({
            "username": u.username,
            "is_active": ans["is_active"],
            "is_superuser": ans["is_superuser"],
            "is_staff": ans["is_staff"],
            "groups": ans["groups"],
            "direct_grants": ans["direct_grants"],
            "user_permissions": ans["user_permissions"],
            "group_permissions": ans["group_permissions"],
            "all_permissions": ans["all_permissions"],
            "has_perm": ans["has_perm"],
            "has_perms_pairs": ans["has_perms_pairs"],
            "has_module_perms": ans["has_module_perms"],
            "password": raw,
            "wrong_password": wrong,
            "encoded": u.password,
            "check_password": pw["check_password"],
            "authenticate": pw["authenticate"],
        })
    with_perm = common.with_perm_answers(perms + [common.NONEXISTENT_PERM])
    out = {
        "django_version": django.get_version(),
        "seed": args.seed,
        "interop_apps": settings.INTEROP_APPS,
        "database_vendor": connection.vendor,
        "permissions": perms,
        "probe_permissions": probes,
        "apps": apps,
        "groups": common.group_answers(),
        "users": users_out,
        "with_perm": with_perm,
    }
    after = common.db_fingerprint()
    if before != after:
        sys.exit("scenario.py: BUG: computing the answers changed the database")
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    t_end = time.monotonic()
    print(f"scenario.py: seed {args.seed}, {connection.vendor}, apps={settings.INTEROP_APPS}: "
          f"{len(users_out)} users, {len(out['groups'])} groups, {len(perms)} permission strings, "
          f"{len(probes)} probes, {len(with_perm)} with_perm entries -> {args.out} "
          f"(build {t_built - t0:.1f}s, total {t_end - t0:.1f}s)")


if __name__ == "__main__":
    main()
