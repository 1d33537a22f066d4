"""Settings of the Django reference project: what `startproject` gives, trimmed to the pages the
benchmark asks (no admin, no static files), with DEBUG off. A benchmark tool, not a site.

Environment:
  REFERENCE_DB             the SQLite file (required: the benchmark makes one in a temporary dir)
  REFERENCE_CONN_MAX_AGE   seconds a worker keeps its database connection (default 600; 0 opens
                           one per request, Django's default)
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_db = os.environ.get("REFERENCE_DB")
if not _db:
    raise ImproperlyConfigured("set REFERENCE_DB to the SQLite file (setup_reference.py makes it)")

SECRET_KEY = "django-reference-benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "bookshelf",
]

# startproject's list, as it comes.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "reference.urls"
WSGI_APPLICATION = "reference.wsgi.application"

# APP_DIRS with DEBUG off: Django wraps the loaders in its cached loader.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bookshelf.context_processors.user_groups",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _db,
        # Persistent connections, as a deployment would set; 0 is Django's default.
        "CONN_MAX_AGE": int(os.environ.get("REFERENCE_CONN_MAX_AGE", "600")),
    }
}

# Sessions in the database (Django's default backend, named for clarity).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/books/"
LOGOUT_REDIRECT_URL = "/books/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
