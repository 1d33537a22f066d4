#!/usr/bin/env python
"""Migrates the reference project's SQLite database and seeds it (idempotent):

    REFERENCE_DB=/tmp/x/reference.sqlite3 REFERENCE_PASSWORD=... python setup_reference.py

A user `editor` (the given password) in a group `Editors` holding Bookshelf's Editors permissions
(`bookshelf.view_book`, `add_book`, `change_book`) and Bookshelf's five demo books (four
published), as `bookshelf --demo` seeds them.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reference.settings")

BOOKS = [
    ("Dune", "Frank Herbert", "9780441172719", 1965, 3, True),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", "9780441478125", 1969, 2, True),
    ("Neuromancer", "William Gibson", "9780441569595", 1984, 1, True),
    ("The Dispossessed", "Ursula K. Le Guin", "9780061054884", 1974, 2, True),
    ("Draft: A Memoir in Progress", "Anonymous", "9780000000002", 2026, 1, False),
]
EDITORS = ["view_book", "add_book", "change_book"]


def main():
    password = os.environ.get("REFERENCE_PASSWORD")
    if not password:
        sys.exit("set REFERENCE_PASSWORD (the password of the user editor)")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)

    from django.contrib.auth.models import Group, Permission, User

    from bookshelf.models import Book

    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(
        Permission.objects.filter(content_type__app_label="bookshelf", codename__in=EDITORS)
    )
    editor = User.objects.filter(username="editor").first() or User(
        username="editor", email="editor@example.org"
    )
    editor.set_password(password)
    editor.save()
    editor.groups.add(editors)
    for title, author, isbn, year, copies, published in BOOKS:
        Book.objects.get_or_create(
            isbn=isbn,
            defaults=dict(
                title=title,
                author=author,
                publication_year=year,
                copies_total=copies,
                copies_available=copies,
                is_published=published,
            ),
        )
    print(f"seeded {os.environ['REFERENCE_DB']}: editor in Editors, {Book.objects.count()} books")


if __name__ == "__main__":
    main()
