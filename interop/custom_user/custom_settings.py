"""Settings for the custom-user-model variant of the Castellan interop harness (a test tool).

Environment variables:
  CUSTOM_USER_APP   "staff" (default): AUTH_USER_MODEL = "staff.Person"   (BigAutoField pk, no is_staff)
                    "accounts":        AUTH_USER_MODEL = "accounts.Member" (UUID pk, is_staff, ...)
                    "people":          AUTH_USER_MODEL = "people.Account"  (AbstractUser + bio)
  INTEROP_DB        sqlite:/abs/or/rel/path.sqlite3
                    postgres://user[:pw]@host[:port]/dbname
                    mysql://user[:pw]@host[:port]/dbname      (MySQL or MariaDB)
                    (default: sqlite:<this dir>/custom_user_<app>.sqlite3)
  PYMYSQL_PATH      only for mysql:// when mysqlclient (MySQLdb) is not installed: directories
                    (os.pathsep-separated) holding PyMySQL, e.g. made with
                    `python -m pip install --target /tmp/pymysql pymysql` (default: /tmp/pymysql)

The INTEROP_DB syntax is the one of ../django/interop_settings.py, plus mysql://.  That module is
not imported: it reads INTEROP_APPS / INTEROP_AUTO_FIELD at import time and knows no MySQL.
"""

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

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


def _install_pymysql():
    """Make `import MySQLdb` work through PyMySQL when mysqlclient is not installed."""
    try:
        import MySQLdb  # noqa: F401  (mysqlclient, or an earlier install_as_MySQLdb())
        return
    except ImportError:
        pass
    for p in reversed((os.environ.get("PYMYSQL_PATH") or "/tmp/pymysql").split(os.pathsep)):
        if p and Path(p).is_dir() and p not in sys.path:
            sys.path.insert(0, p)
    try:
        import pymysql
    except ImportError as e:
        raise ImproperlyConfigured(
            "mysql:// needs mysqlclient or PyMySQL; e.g. "
            "`python -m pip install --target /tmp/pymysql pymysql` (PYMYSQL_PATH=/tmp/pymysql)"
        ) from e
    # Django's MySQL backend insists on mysqlclient >= 2.2.1 and reads MySQLdb.version_info.
    pymysql.version_info = (2, 2, 1, "final", 0)
    pymysql.install_as_MySQLdb()


def _database_from_env(url):
    if url.startswith("sqlite:"):
        path = url[len("sqlite:"):]
        if path.startswith("//"):  # tolerate sqlite:///abs/path
            path = path[2:]
        if not path:
            raise ImproperlyConfigured("INTEROP_DB=sqlite: needs a file path")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(path).resolve())}
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if parts.scheme in ("postgres", "postgresql"):
        if not name:
            raise ImproperlyConfigured("INTEROP_DB postgres URL needs a database name")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or "postgres"),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432),
        }
    if parts.scheme in ("mysql", "mariadb"):
        if not name:
            raise ImproperlyConfigured("INTEROP_DB mysql URL needs a database name")
        _install_pymysql()
        return {
            "ENGINE": "django.db.backends.mysql",
            "NAME": name,
            "USER": unquote(parts.username or "root"),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 3306),
            "OPTIONS": {"charset": "utf8mb4"},
        }
    raise ImproperlyConfigured(
        f"unsupported INTEROP_DB {url!r} (use sqlite:PATH, postgres://... or mysql://...)"
    )


DATABASES = {
    "default": _database_from_env(
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
