#!/usr/bin/env python
"""Check a database created and filled by Castellan against Django, and Castellan's answers too.

    INTEROP_APPS=core INTEROP_DB=postgres://postgres@127.0.0.1:5432/castellan_db \
        python check_castellan_db.py --expected expected.json

Run with INTEROP_APPS=core (contenttypes + auth only): Castellan creates bookshelf's content
types and permissions but neither bookshelf's model tables nor its django_migrations row.
Checks, all of which must pass (exit status 0; 1 on any failure, with every problem listed):
  a. migrations: the migration plan is empty, the recorded history is consistent, every installed
     model's table and columns exist, and running `migrate` (inside a transaction that is rolled
     back) makes post_migrate create no content type and no permission;
  b. Django's system checks (`check --database default`) pass;
  w. a rolled-back write probe: Django can insert a content type, permission, group, user and
     all three kinds of link rows (catches stale PostgreSQL identity sequences). On PostgreSQL
     this advances the sequences by one; no row is left behind. Skip with --no-write-probe;
  c. every answer in expected.json (written by Castellan, same format as scenario.py's output)
     agrees with Django's answer on this database.
The shared tables are fingerprinted before and after; the script fails if it changed any row.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop_common as common  # noqa: E402


class Rollback(Exception):
    pass


def jdump(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


class Report:
    def __init__(self):
        self.failures = []      # (section, message)
        self.mismatches = []    # (who, field, django, castellan)
        self.compared = 0

    def fail(self, section, msg):
        self.failures.append((section, msg))
        print(f"FAIL [{section}] {msg}", flush=True)

    def cmp(self, who, field, django_value, castellan_value):
        self.compared += 1
        if django_value != castellan_value:
            self.mismatches.append((who, field, django_value, castellan_value))

    def cmp_set(self, who, field, django_list, castellan_list):
        self.compared += 1
        if castellan_list is None or set(django_list) != set(castellan_list):
            self.mismatches.append((who, field, sorted(django_list), castellan_list))


# --- a. migrations ----------------------------------------------------------------------------

def ct_perm_rows():
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    cts = set(ContentType.objects.values_list("id", "app_label", "model"))
    perms = set(Permission.objects.values_list("id", "content_type__app_label", "content_type__model", "codename", "name"))
    return cts, perms


def check_migrations(rep):
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.migrations.exceptions import InconsistentMigrationHistory
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    try:
        executor.loader.check_consistent_history(connection)
    except InconsistentMigrationHistory as e:
        rep.fail("migrate", f"inconsistent django_migrations history: {e}")
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        todo = ", ".join(f"{m.app_label}.{m.name}{' (backwards)' if back else ''}" for m, back in plan)
        rep.fail("migrate", f"Django would apply {len(plan)} migration(s): {todo}")
    try:
        call_command("makemigrations", check=True, dry_run=True, verbosity=0)
    except SystemExit:
        rep.fail("migrate", "makemigrations --check: the models have changes without a migration")

    tables = set(connection.introspection.table_names())
    with connection.cursor() as cur:
        for model in apps.get_models(include_auto_created=True):
            opts = model._meta
            if not opts.managed or opts.proxy:
                continue
            if opts.db_table not in tables:
                rep.fail("schema", f"table {opts.db_table} (model {opts.label}) does not exist")
                continue
            have = {c.name for c in connection.introspection.get_table_description(cur, opts.db_table)}
            want = {f.column for f in opts.local_concrete_fields}
            missing = sorted(want - have)
            if missing:
                rep.fail("schema", f"table {opts.db_table} lacks column(s) {', '.join(missing)}")

    if plan:
        return  # running migrate for real would apply them; do not touch the database
    before = ct_perm_rows()
    try:
        with transaction.atomic():
            call_command("migrate", verbosity=0, interactive=False)
            after = ct_perm_rows()
            raise Rollback
    except Rollback:
        pass
    new_cts = sorted(after[0] - before[0])
    new_perms = sorted(after[1] - before[1])
    if new_cts:
        rep.fail("migrate", "post_migrate would create content type(s): "
                 + ", ".join(f"{a}.{m}" for _, a, m in new_cts))
    if new_perms:
        rep.fail("migrate", "post_migrate (create_permissions) would create permission(s): "
                 + ", ".join(f"{a}.{c} on {a}|{m} ({n!r})" for _, a, m, c, n in new_perms))
    if before[0] - after[0] or before[1] - after[1]:
        rep.fail("migrate", "running migrate removed or changed content types / permissions")


# --- b. system checks -------------------------------------------------------------------------

def check_system(rep):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", databases=["default"], verbosity=0)
    except SystemCheckError as e:
        rep.fail("check", f"system checks failed:\n{e}")


# --- w. write probe ---------------------------------------------------------------------------

def check_write_probe(rep):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import DatabaseError, transaction

    User = get_user_model()
    step = "start"
    try:
        with transaction.atomic():
            step = "insert django_content_type"
            ct = ContentType.objects.create(app_label="interop_probe", model="probe")
            step = "insert auth_permission"
            perm = Permission.objects.create(content_type=ct, codename="probe_it", name="Can probe it")
            step = "insert auth_group"
            group = Group.objects.create(name="interop probe group \u2713")
            step = "insert auth_user"
            user = User(username="interop_probe_user", password=make_password("probe", hasher="md5"))
            user.save()
            step = "insert auth_user_user_permissions"
            user.user_permissions.add(perm)
            step = "insert auth_group_permissions"
            group.permissions.add(perm)
            step = "insert auth_user_groups"
            user.groups.add(group)
            step = "read back"
            fresh = User.objects.get(pk=user.pk)
            if not (fresh.has_perm("interop_probe.probe_it")
                    and fresh.get_group_permissions() == {"interop_probe.probe_it"}
                    and User.objects.with_perm("interop_probe.probe_it", include_superusers=False)
                    .filter(pk=user.pk).exists()):
                rep.fail("write", "rows inserted by Django are not seen as a permission grant")
            raise Rollback
    except Rollback:
        pass
    except DatabaseError as e:
        rep.fail("write", f"Django cannot write to the Castellan database ({step}): {type(e).__name__}: {e}")


# --- c. answers -------------------------------------------------------------------------------

def check_answers(rep, exp):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    perms = common.all_permission_strings()
    rep.cmp_set("<global>", "permissions", perms, exp.get("permissions"))
    probes = exp.get("probe_permissions") or []
    apps = exp.get("apps") or []
    missing_probes = sorted(set(perms) - set(probes))
    if missing_probes:
        rep.mismatches.append(("<global>", "probe_permissions lacks real permission strings", missing_probes, None))
    missing_apps = sorted(common.all_app_labels() - set(apps))
    if missing_apps:
        rep.mismatches.append(("<global>", "apps lacks real app labels", missing_apps, None))

    db_users = {u.username: u for u in User.objects.all()}
    exp_users = exp.get("users") or []
    exp_names = [u.get("username") for u in exp_users]
    rep.cmp_set("<global>", "usernames", list(db_users), exp_names)

    for eu in exp_users:
        name = eu.get("username")
        if name not in db_users:
            continue
        dbu = db_users[name]
        has_perm_keys = sorted(set(probes) | set((eu.get("has_perm") or {}).keys()))
        module_keys = sorted(set(apps) | set((eu.get("has_module_perms") or {}).keys()))
        pairs = [p[0] for p in eu.get("has_perms_pairs") or []]
        d = common.permission_answers(name, has_perm_keys, module_keys, pairs)
        for f in ("is_active", "is_superuser", "is_staff"):
            if f in eu:
                rep.cmp(name, f, d[f], eu[f])
        for f in ("groups", "direct_grants", "user_permissions", "group_permissions", "all_permissions"):
            if f in eu or f not in ("groups", "direct_grants"):  # those two are optional
                rep.cmp_set(name, f, d[f], eu.get(f))
        ehp = eu.get("has_perm") or {}
        for p in has_perm_keys:
            rep.cmp(name, f"has_perm[{p!r}]", d["has_perm"][p], ehp.get(p, "<missing>"))
        for (lst, dj), pair in zip(d["has_perms_pairs"], eu.get("has_perms_pairs") or []):
            rep.cmp(name, f"has_perms({jdump(lst)})", dj, pair[1])
        emp = eu.get("has_module_perms") or {}
        for a in module_keys:
            rep.cmp(name, f"has_module_perms[{a!r}]", d["has_module_perms"][a], emp.get(a, "<missing>"))
        if "encoded" in eu:
            rep.cmp(name, "encoded (auth_user.password)", dbu.password, eu["encoded"])
        if "wrong_password" in eu:
            pw = common.password_answers(dbu.password, dbu.is_active, eu.get("password"), eu["wrong_password"])
            ecp = eu.get("check_password") or {}
            rep.cmp(name, "check_password(right)", pw["check_password"]["right"], ecp.get("right", "<missing>"))
            rep.cmp(name, "check_password(wrong)", pw["check_password"]["wrong"], ecp.get("wrong", "<missing>"))
            rep.cmp(name, "authenticate", pw["authenticate"], eu.get("authenticate", "<missing>"))

    # with_perm: every entry given, and full coverage of permission strings × 6 combinations.
    seen = set()
    for e in exp.get("with_perm") or []:
        key = (e.get("perm"), e.get("is_active"), e.get("include_superusers"))
        seen.add(key)
        d = common.with_perm_one(User, *key)
        who = f"with_perm({key[0]!r}, is_active={key[1]}, include_superusers={key[2]})"
        cu = e.get("usernames")
        if d["usernames"] is None or cu is None:
            rep.cmp(who, "usernames/error", [d["usernames"], d.get("error")], [cu, e.get("error")])
        else:
            rep.cmp_set(who, "usernames", d["usernames"], cu)
    uncovered = [(p, a, s) for p in perms + [common.NONEXISTENT_PERM]
                 for a, s in common.WITH_PERM_COMBOS if (p, a, s) not in seen]
    if uncovered:
        rep.mismatches.append(("<global>", "with_perm entries missing", [list(k) for k in uncovered], None))

    if "groups" in exp:
        dg = {g["name"]: g for g in common.group_answers()}
        cg = {g.get("name"): g for g in exp["groups"]}
        rep.cmp_set("<global>", "group names", list(dg), list(cg))
        for n in sorted(set(dg) & set(cg), key=str):
            rep.cmp_set(f"group {n!r}", "permissions", dg[n]["permissions"], cg[n].get("permissions"))
            rep.cmp_set(f"group {n!r}", "members", dg[n]["members"], cg[n].get("members"))
    return len(exp_users), len(probes)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--expected", required=True, help="expected.json written by Castellan")
    ap.add_argument("--no-write-probe", action="store_true", help="skip the rolled-back write probe")
    args = ap.parse_args()
    t0 = time.monotonic()
    exp = json.loads(Path(args.expected).read_text(encoding="utf-8"))

    common.setup_django()
    from django.conf import settings
    from django.db import connection

    rep = Report()
    print(f"check_castellan_db: {connection.vendor} database {settings.DATABASES['default']['NAME']}, "
          f"INSTALLED_APPS={settings.INSTALLED_APPS}", flush=True)
    if settings.INTEROP_APPS != "core":
        print("check_castellan_db: note: INTEROP_APPS is not 'core'; a Castellan-made database has no "
              "bookshelf tables or migration row, so use INTEROP_APPS=core for it", flush=True)
    fp_before = common.db_fingerprint()
    sections = [("migrate", check_migrations), ("check", check_system)]
    if not args.no_write_probe:
        sections.append(("write", check_write_probe))
    for section, fn in sections:
        try:
            fn(rep)
        except Exception as e:  # report and go on with the other sections
            rep.fail(section, f"crashed: {type(e).__name__}: {e}")
    n_users = n_probes = 0
    try:
        n_users, n_probes = check_answers(rep, exp)
    except Exception as e:
        import traceback

        traceback.print_exc()
        rep.fail("answers", f"crashed: {type(e).__name__}: {e}")
    if common.db_fingerprint() != fp_before:
        rep.fail("internal", "the check changed rows in the shared tables (it must not)")

    for who, field, dj, ca in rep.mismatches:
        print(f"MISMATCH {who} | {field} | django={jdump(dj)} | castellan={jdump(ca)}")
    elapsed = time.monotonic() - t0
    if rep.failures or rep.mismatches:
        print(f"check_castellan_db: FAILED: {len(rep.failures)} check failure(s), "
              f"{len(rep.mismatches)} mismatch(es) out of {rep.compared} comparisons ({elapsed:.1f}s)")
        sys.exit(1)
    print(f"check_castellan_db: OK: migrations, system checks{', write probe' if not args.no_write_probe else ''} "
          f"pass; {n_users} users × {n_probes} permissions agree ({rep.compared} comparisons, {elapsed:.1f}s)")


if __name__ == "__main__":
    main()
