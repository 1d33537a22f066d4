"""Settings for the Django side of the Castellan interop harness (a test tool, not a site).

Environment variables:
  INTEROP_DB          sqlite:/abs/or/rel/path.sqlite3, postgres://user[:pw]@host[:port]/dbname or
                      mysql://user[:pw]@host[:port]/dbname (read by ../interop_db.py;
                      default: sqlite:<this dir>/interop.sqlite3)
  INTEROP_APPS        "full" (default): contenttypes, auth, bookshelf
                      "core": contenttypes and auth only (used to check Castellan-made databases,
                      which hold bookshelf's content types/permissions but not its tables/migration)
                      "guardian": "full" plus django-guardian 3.5 (its two tables, and
                      ObjectPermissionBackend after ModelBackend; no anonymous user row)
  INTEROP_AUTO_FIELD  "BigAutoField" (default) or "AutoField": DEFAULT_AUTO_FIELD, which decides the
                      id type of auth's auto-created through tables when the migrations run.
"""

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

# The database settings are shared with the other interop projects (../interop_db.py).
if str(BASE_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BASE_DIR.parent))
from interop_db import database_from_env  # noqa: E402

SECRET_KEY = "interop-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False


DATABASES = {
    "default": database_from_env(
        os.environ.get("INTEROP_DB") or f"sqlite:{BASE_DIR / 'interop.sqlite3'}"
    )
}

INTEROP_APPS = os.environ.get("INTEROP_APPS", "full").strip().lower()
if INTEROP_APPS not in ("full", "core", "guardian"):
    raise ImproperlyConfigured(f"INTEROP_APPS must be 'full', 'core' or 'guardian', not {INTEROP_APPS!r}")

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
if INTEROP_APPS in ("full", "guardian"):
    INSTALLED_APPS.append("bookshelf")
if INTEROP_APPS == "guardian":
    INSTALLED_APPS.append("guardian")

_auto = os.environ.get("INTEROP_AUTO_FIELD", "BigAutoField")
if _auto not in ("BigAutoField", "AutoField"):
    raise ImproperlyConfigured(f"INTEROP_AUTO_FIELD must be BigAutoField or AutoField, not {_auto!r}")
DEFAULT_AUTO_FIELD = f"django.db.models.{_auto}"

MIDDLEWARE = []
ROOT_URLCONF = None
TEMPLATES = []

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if INTEROP_APPS == "guardian":
    AUTHENTICATION_BACKENDS.append("guardian.backends.ObjectPermissionBackend")
    # Castellan's CLI has no anonymous subject: no "AnonymousUser" row.
    ANONYMOUS_USER_NAME = None

# Django 6.1's default list, in its default order, plus MD5 at the end so that the bulk of the
# scenario's users can get cheap hashes (make_password(pw, hasher="md5")).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
