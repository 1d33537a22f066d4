"""Prepares the Castellan-made database for Django's admin and serves it.

    serve.py --bind 127.0.0.1:PORT

Runs `migrate --fake-initial` first (the admin's and sessions' tables; auth and contenttypes are
recorded as applied by Castellan, and a table Castellan already made is adopted), then runserver
without the reloader.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")


def main():
    args = sys.argv[1:]
    if len(args) != 2 or args[0] != "--bind":
        sys.exit("usage: serve.py --bind HOST:PORT")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", fake_initial=True, interactive=False, verbosity=0)
    call_command("runserver", args[1], use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main()
