"""Settings for the custom-user-model variant of the Castellan interop harness (a test tool).

Environment variables:
  CUSTOM_USER_APP   "staff" (default): AUTH_USER_MODEL = "staff.Person"   (BigAutoField pk, no is_staff)
                    "accounts":        AUTH_USER_MODEL = "accounts.Member" (UUID pk, is_staff, ...)
                    "people":          AUTH_USER_MODEL = "people.Account"  (AbstractUser + bio)
  INTEROP_DB        sqlite:/abs/or/rel/path.sqlite3
                    postgres://user[:pw]@host[:port]/dbname
                    mysql://user[:pw]@host[:port]/dbname      (MySQL or MariaDB)
                    (default: sqlite:<this dir>/custom_user_<app>.sqlite3)

INTEROP_DB (and PYMYSQL_PATH) are read by ../interop_db.py, shared with
../django/interop_settings.py.
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

_USER_MODELS = {"staff": "staff.Person", "accounts": "accounts.Member", "people": "people.Account"}

CUSTOM_USER_APP = os.environ.get("CUSTOM_USER_APP", "staff").strip().lower() or "staff"
if CUSTOM_USER_APP not in _USER_MODELS:
    raise ImproperlyConfigured(
        f"CUSTOM_USER_APP must be one of {sorted(_USER_MODELS)}, not {CUSTOM_USER_APP!r}"
    )


DATABASES = {
    "default": database_from_env(
        os.environ.get("INTEROP_DB") or f"sqlite:{BASE_DIR / f'custom_user_{CUSTOM_USER_APP}.sqlite3'}"
    )
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    CUSTOM_USER_APP,
]
AUTH_USER_MODEL = _USER_MODELS[CUSTOM_USER_APP]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MIDDLEWARE = []
ROOT_URLCONF = None
TEMPLATES = []

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

# Same list as ../django/interop_settings.py: Django 6.1's default list in its default order,
# plus MD5 at the end for cheap hashes in tests.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
