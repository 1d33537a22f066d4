#!/usr/bin/env python
"""Build a random object-permission scenario with Django 6.1 + django-guardian 3.5, write its answers.

    INTEROP_APPS=guardian INTEROP_DB=sqlite:/tmp/g.sqlite3 python guardian_scenario.py --seed 1 --out g.json --reset

The database must be fresh (--reset deletes the SQLite file or recreates PostgreSQL's "public"
schema).  The script migrates (auth, contenttypes, bookshelf, guardian), creates users (active or
not, superusers or not), groups, memberships, global grants, books, articles, and guardian object
grants to users and groups through `assign_perm`, plus rows guardian would only get by hand or
by deleting an object: grants on objects that do not exist, and on "05" when the object is 5.
It then asks guardian, on fresh user instances:

* `checks`: `user.has_perms(perms, obj)` and "any of them" (`any(user.has_perm(p, obj))`), with
  perms of the object's model, of another model of its app, of another app, and bare codenames;
* `get_perms`: `guardian.shortcuts.get_perms(user, obj)`;
* `users_with_perms`: `get_users_with_perms(obj, only_with_perms_in=[codename], with_superusers=...)`;
* `objects`: `get_objects_for_user(user, perms, klass, use_groups, any_perm, with_superuser,
  accept_global_perms)` over every combination of the flags, with valid and invalid perm lists.

Errors are recorded as `"error:<ExceptionClass>"`.  Answers are computed without writing (checked
with a fingerprint of the tables).  Unknown permission names are not asked in `checks`: Castellan
refuses them (exit 2) where guardian answers False.
"""

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop_common as common  # noqa: E402
from scenario import reset_postgres, reset_sqlite_file  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--reset", action="store_true")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--groups", type=int, default=4)
    return p.parse_args()


def build(rng, n_users, n_groups):
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from guardian.models import GroupObjectPermission, UserObjectPermission
    from guardian.shortcuts import assign_perm

    from bookshelf.models import Article, Book

    books = [Book.objects.create(title=f"book {i}") for i in range(8)]
    articles = [Article.objects.create(headline=f"article {i}") for i in range(5)]
    groups = [Group.objects.create(name=f"group {i}") for i in range(n_groups)]
    users = []
    for i in range(n_users):
        users.append(User.objects.create(
            username=f"user{i}",
            is_active=rng.random() > 0.2,
            is_superuser=rng.random() < 0.15,
        ))
    for u in users:
        u.groups.set(rng.sample(groups, rng.randint(0, min(2, len(groups)))))
    book_perms = list(Permission.objects.filter(content_type__app_label="bookshelf", content_type__model="book"))
    article_perms = list(Permission.objects.filter(content_type__app_label="bookshelf", content_type__model="article"))
    group_perms = list(Permission.objects.filter(content_type__app_label="auth", content_type__model="group"))
    # A few global grants, so that guardian's carry-over of global permissions is exercised.
    for u in users:
        u.user_permissions.set(rng.sample(book_perms[:4] + article_perms[:4], rng.randint(0, 2)))
    for g in groups:
        g.permissions.set(rng.sample(book_perms[:4], rng.randint(0, 1)))
    objects = [(b, book_perms[:6]) for b in books] + [(a, article_perms) for a in articles] + [
        (g, group_perms) for g in groups
    ]
    for _ in range(n_users * 6):
        obj, perms = rng.choice(objects)
        perm = rng.choice(perms)
        holder = rng.choice(users) if rng.random() < 0.6 else rng.choice(groups)
        assign_perm(perm.codename, holder, obj)
    # Rows no assign_perm makes: an object that does not exist (or was deleted), and a key that
    # names an existing object only when read as a number.
    # (bulk_create: guardian's save() would look the object up.)
    book_ct = ContentType.objects.get_for_model(Book)
    UserObjectPermission.objects.bulk_create(
        [UserObjectPermission(user=u, permission=book_perms[1], content_type=book_ct, object_pk=pk)
         for u in rng.sample(users, 3) for pk in ("999", f"0{books[4].pk}")],
        ignore_conflicts=True)
    GroupObjectPermission.objects.bulk_create(
        [GroupObjectPermission(group=g, permission=book_perms[3], content_type=book_ct, object_pk="998")
         for g in rng.sample(groups, 1)],
        ignore_conflicts=True)
    return users, objects, book_perms, article_perms, group_perms


def outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - every guardian error is an answer here
        return f"error:{type(e).__name__}"


def main():
    args = parse_args()
    t0 = time.monotonic()
    common.setup_django()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from guardian.shortcuts import get_objects_for_user, get_perms, get_users_with_perms

    from bookshelf.models import Article, Book

    if settings.INTEROP_APPS != "guardian":
        sys.exit("guardian_scenario.py: run with INTEROP_APPS=guardian")
    if args.reset:
        reset_sqlite_file()
        reset_postgres()
    if connection.introspection.table_names():
        sys.exit("guardian_scenario.py: database is not fresh; use a new database or pass --reset")
    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(args.seed)
    users, objects, book_perms, article_perms, group_perms = build(rng, args.users, args.groups)

    before = common.db_fingerprint()
    label = lambda obj: f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"  # noqa: E731
    checks, perms_out, objects_out, holders_out = [], [], [], []
    for obj, own in objects:
        for perm in own[:3]:
            for with_superusers in (False, True):
                users_ = get_users_with_perms(obj, only_with_perms_in=[perm.codename],
                                              with_superusers=with_superusers)
                holders_out.append({"object": label(obj), "perm": f"{obj._meta.app_label}.{perm.codename}",
                                    "with_superusers": with_superusers,
                                    "result": sorted(u.username for u in users_)})
    for u in users:
        fresh = User.objects.get(pk=u.pk)
        for obj, own in rng.sample(objects, 8):
            app = obj._meta.app_label
            other_model = article_perms if obj._meta.model_name == "book" else book_perms
            pool = [f"{app}.{p.codename}" for p in own] + [p.codename for p in own[:2]]
            if app == "bookshelf":
                pool += [f"bookshelf.{p.codename}" for p in other_model[:2]]
            pool.append("auth.view_group" if app == "bookshelf" else "bookshelf.view_book")
            for _ in range(3):
                perms = rng.sample(pool, rng.randint(1, 3))
                for any_ in (False, True):
                    fresh = User.objects.get(pk=u.pk)  # no per-instance cache between questions
                    if any_:
                        result = outcome(lambda: any(fresh.has_perm(p, obj) for p in perms))
                    else:
                        result = outcome(lambda: fresh.has_perms(perms, obj))
                    checks.append({"user": u.username, "object": label(obj), "perms": perms,
                                   "any": any_, "result": result})
            fresh = User.objects.get(pk=u.pk)
            perms_out.append({"user": u.username, "object": label(obj),
                              "result": sorted(f"{app}.{c}" for c in get_perms(fresh, obj))})
        lists = [
            ("bookshelf.book", ["bookshelf.change_book"]),
            ("bookshelf.book", ["bookshelf.view_book", "bookshelf.change_book"]),
            ("bookshelf.book", ["bookshelf.add_book", "bookshelf.change_book", "bookshelf.delete_book"]),
            ("bookshelf.book", ["change_book", "view_book"]),
            ("bookshelf.book", []),
            ("bookshelf.book", ["bookshelf.change_book", "bookshelf.change_article"]),
            ("bookshelf.book", ["bookshelf.change_book", "auth.change_group"]),
            ("bookshelf.book", ["bookshelf.change_article"]),
            ("bookshelf.book", ["bookshelf.no_such_perm"]),
            ("bookshelf.article", ["bookshelf.view_article", "bookshelf.change_article"]),
            ("bookshelf.article", ["bookshelf.can_approve_article"]),
            ("auth.group", ["auth.change_group", "auth.delete_group"]),
        ]
        klasses = {"bookshelf.book": Book, "bookshelf.article": Article,
                   "auth.group": __import__("django.contrib.auth.models", fromlist=["Group"]).Group}
        for model, perms in lists:
            for use_groups, any_perm, with_superuser, accept_global in itertools.product((True, False), repeat=4):
                fresh = User.objects.get(pk=u.pk)
                result = outcome(lambda: sorted(
                    (str(o.pk) for o in get_objects_for_user(
                        fresh, perms, klasses[model], use_groups=use_groups, any_perm=any_perm,
                        with_superuser=with_superuser, accept_global_perms=accept_global)),
                    key=lambda s: (len(s), s)))
                objects_out.append({"user": u.username, "model": model, "perms": perms,
                                    "use_groups": use_groups, "any_perm": any_perm,
                                    "with_superuser": with_superuser, "accept_global_perms": accept_global,
                                    "result": result})
    after = common.db_fingerprint()
    if before != after:
        sys.exit("guardian_scenario.py: BUG: computing the answers changed the database")
    out = {"seed": args.seed, "database_vendor": connection.vendor,
           "checks": checks, "get_perms": perms_out, "objects": objects_out,
           "users_with_perms": holders_out}
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"guardian_scenario.py: seed {args.seed}, {connection.vendor}: {len(checks)} checks, "
          f"{len(perms_out)} get_perms, {len(objects_out)} get_objects_for_user -> {args.out} "
          f"in {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
