#!/usr/bin/env python
"""Django's view of a user that Castellan created in a custom-user-model database.

    CUSTOM_USER_APP=staff INTEROP_DB=... python check_castellan_user.py \
        --username U --password P --wrong W --probes '["staff.view_person", ...]'

Prints one JSON object: authenticate() with the right and a wrong password, full_clean() errors
(null when the instance validates), the user's groups, get_all_permissions(), has_perm() for every
probe (on a fresh instance) and has_module_perms() for every app label of the probes.
"""

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--wrong", required=True)
    p.add_argument("--probes", required=True, help="JSON list of permission strings")
    args = p.parse_args()
    sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "custom_settings"
    import django

    django.setup()
    from django.contrib.auth import authenticate, get_user_model
    from django.core.exceptions import ValidationError

    User = get_user_model()
    probes = json.loads(args.probes)
    out = {
        "authenticate_right": authenticate(None, username=args.username, password=args.password) is not None,
        "authenticate_wrong": authenticate(None, username=args.username, password=args.wrong) is not None,
    }
    u = User._default_manager.get_by_natural_key(args.username)
    try:
        u.full_clean()
        out["full_clean"] = None
    except ValidationError as e:
        out["full_clean"] = str(e.message_dict)
    out["groups"] = sorted(u.groups.values_list("name", flat=True))
    out["all_permissions"] = sorted(u.get_all_permissions())
    u = User._default_manager.get_by_natural_key(args.username)
    out["has_perm"] = {perm: u.has_perm(perm) for perm in probes}
    apps = sorted({perm.split(".", 1)[0] for perm in probes})
    out["has_module_perms"] = {a: u.has_module_perms(a) for a in apps}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
