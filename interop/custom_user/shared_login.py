#!/usr/bin/env python
"""Django's side of logins and password-reset links shared with Castellan on a custom user model.

    CUSTOM_USER_APP=accounts INTEROP_DB=... python shared_login.py COMMAND ARG...

Commands (each prints one line):
  whoami SESSION_KEY         the USERNAME_FIELD value of the user `get_user()` finds on that
                             session (Django's own checks: the backend, the session auth hash),
                             or "anonymous"
  login USERNAME             logs the user in with Django's `login()` (through the test client's
                             `force_login`, which stores the session exactly as a login view does)
                             and prints the session key
  create USERNAME PASSWORD   creates a user with the model's manager (`create_user`, so Django
                             picks the primary key) and prints its primary key as `str(pk)`
  make-reset USERNAME        prints "UIDB64 TOKEN" made by `default_token_generator`
  check-reset UIDB64 TOKEN   resolves the user as `PasswordResetConfirmView` does and prints
                             `default_token_generator.check_token(user, token)` (False when no
                             user is found)

SECRET_KEY comes from custom_settings.py unless INTEROP_SECRET_KEY is set;
INTEROP_SECRET_KEY_FALLBACKS (comma-separated) sets SECRET_KEY_FALLBACKS.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    sys.path.insert(0, str(HERE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "custom_settings"
    import django
    from django.conf import settings

    if os.environ.get("INTEROP_SECRET_KEY"):
        settings.SECRET_KEY = os.environ["INTEROP_SECRET_KEY"]
    if os.environ.get("INTEROP_SECRET_KEY_FALLBACKS"):
        settings.SECRET_KEY_FALLBACKS = os.environ["INTEROP_SECRET_KEY_FALLBACKS"].split(",")
    django.setup()
    from django.contrib.auth import get_user, get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.exceptions import ValidationError
    from django.http import HttpRequest
    from django.test import Client
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

    User = get_user_model()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "whoami":
        request = HttpRequest()
        request.session = SessionStore(session_key=args[0])
        user = get_user(request)
        print(user.get_username() if user.is_authenticated else "anonymous")
    elif command == "login":
        client = Client()
        client.force_login(User._default_manager.get_by_natural_key(args[0]))
        print(client.cookies[settings.SESSION_COOKIE_NAME].value)
    elif command == "create":
        extra = {}
        if "display_name" in {f.name for f in User._meta.get_fields()}:
            extra["display_name"] = args[0].split("@")[0].title()
        user = User._default_manager.create_user(args[0], password=args[1], **extra)
        print(str(user.pk))
    elif command == "make-reset":
        user = User._default_manager.get_by_natural_key(args[0])
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        print(uid, default_token_generator.make_token(user))
    elif command == "check-reset":
        try:
            uid = urlsafe_base64_decode(args[0]).decode()
            user = User._default_manager.get(pk=uid)
        except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
            user = None
        print(user is not None and default_token_generator.check_token(user, args[1]))
    else:
        sys.exit(f"shared_login.py: unknown command {command!r}")


if __name__ == "__main__":
    main()
