#!/usr/bin/env python
"""Check a database where Castellan created django-guardian's tables and object grants.

    INTEROP_APPS=guardian INTEROP_DB=sqlite:/tmp/c.sqlite3 python guardian_check.py --out answers.json

Runs Django's `migrate` and records which migrations it had to apply (guardian's must already be
recorded: Castellan created its tables), then asks guardian, for every user and every group as an
object, `get_perms`, `has_perm` of each group permission, and `get_objects_for_user` for each
group permission, after writing one grant through guardian (`assign_perm("auth.delete_group",
<first user>, <last group>)`) that the Rust side must read back. Writes the answers as JSON.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop_common as common  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    common.setup_django()
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission, User
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from guardian.shortcuts import assign_perm, get_objects_for_user, get_perms

    if settings.INTEROP_APPS != "guardian":
        sys.exit("guardian_check.py: run with INTEROP_APPS=guardian")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = sorted(f"{m.app_label}.{m.name}" for m, _ in plan)
    call_command("migrate", verbosity=0, interactive=False)
    perms = sorted(Permission.objects.filter(content_type__app_label="auth", content_type__model="group")
                   .values_list("codename", flat=True))
    groups = list(Group.objects.order_by("id"))
    # One grant written through guardian first: its answers include it, and Castellan must see it.
    first = User.objects.order_by("id").first()
    assign_perm("auth.delete_group", first, groups[-1])
    out = {"pending": pending, "get_perms": [], "has_perm": [], "objects": [],
           "assigned": {"user": first.username, "object": f"auth.group:{groups[-1].pk}", "perm": "auth.delete_group"}}
    for user in User.objects.order_by("id"):
        for group in groups:
            fresh = User.objects.get(pk=user.pk)
            obj = f"auth.group:{group.pk}"
            out["get_perms"].append({"user": user.username, "object": obj,
                                     "result": sorted(f"auth.{c}" for c in get_perms(fresh, group))})
            for c in perms:
                fresh = User.objects.get(pk=user.pk)
                out["has_perm"].append({"user": user.username, "object": obj, "perm": f"auth.{c}",
                                        "result": fresh.has_perm(f"auth.{c}", group)})
        for c in perms:
            fresh = User.objects.get(pk=user.pk)
            pks = sorted((str(g.pk) for g in get_objects_for_user(fresh, f"auth.{c}", Group)), key=lambda s: (len(s), s))
            out["objects"].append({"user": user.username, "perm": f"auth.{c}", "result": pks})
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"guardian_check.py: {len(out['get_perms'])} get_perms, {len(out['has_perm'])} has_perm, "
          f"{len(out['objects'])} get_objects_for_user; Django applied {pending}")


if __name__ == "__main__":
    main()
