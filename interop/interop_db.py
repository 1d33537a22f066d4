"""The database settings of the interop harness's Django projects (a test tool), from a URL.

Shared by django/interop_settings.py and custom_user/custom_settings.py:

  sqlite:/abs/or/rel/path.sqlite3
  postgres://user[:pw]@host[:port]/dbname
  mysql://user[:pw]@host[:port]/dbname      (MySQL or MariaDB, through mysqlclient or PyMySQL)

PYMYSQL_PATH: only for mysql:// when neither mysqlclient nor PyMySQL is importable: directories
(os.pathsep-separated) holding PyMySQL (default /tmp/pymysql). The venv of
scripts/django-venv.sh installs PyMySQL, so it is normally not needed.
"""

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def install_pymysql():
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
            "mysql:// needs mysqlclient or PyMySQL: run scripts/django-venv.sh, or "
            "`python -m pip install --target /tmp/pymysql pymysql` (PYMYSQL_PATH=/tmp/pymysql)"
        ) from e
    # Django's MySQL backend insists on mysqlclient >= 2.2.1 and reads MySQLdb.version_info.
    pymysql.version_info = (2, 2, 1, "final", 0)
    pymysql.install_as_MySQLdb()


def database_from_env(url):
    """Django's DATABASES["default"] for `url` (see the module's documentation)."""
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
        install_pymysql()
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
