"""WSGI entry point for gunicorn: `gunicorn reference.wsgi` from this project's directory."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reference.settings")
application = get_wsgi_application()
