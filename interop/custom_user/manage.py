#!/usr/bin/env python
"""manage.py for the custom-user interop project (see README.md).

    CUSTOM_USER_APP=accounts INTEROP_DB=postgres://postgres@127.0.0.1:5432/db python manage.py showmigrations
"""
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custom_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
