"""Bookshelf's book, as Castellan's example application stores it (table `bookshelf_book`), with
the custom permissions of its policy (examples/bookshelf/bookshelf.toml)."""

from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=100)
    isbn = models.CharField(max_length=13, unique=True)
    publication_year = models.IntegerField(null=True, blank=True)
    copies_total = models.IntegerField(default=1)
    copies_available = models.IntegerField(default=1)
    is_published = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    is_featured = models.BooleanField(default=False)
    is_premium = models.BooleanField(default=False)

    class Meta:
        ordering = ["title", "id"]
        permissions = [
            ("can_publish_book", "Can publish book"),
            ("can_archive_book", "Can archive book"),
            ("can_feature_book", "Can feature book on homepage"),
            ("can_set_premium", "Can mark book as premium content"),
            ("can_borrow_book", "Can borrow books"),
            ("can_return_book", "Can return books"),
            ("can_manage_inventory", "Can manage inventory"),
        ]

    def __str__(self):
        return self.title
