"""Models whose content types and permissions Castellan must reproduce exactly.

Resulting permissions (app label "bookshelf"; codename -> name):
  Book        add/change/delete/view_book "Can <action> book", plus the 7 custom ones below
  Article     add/change/delete/view_article "Can <action> article", plus 3 custom
  BookAuthor  add/change/delete/view_bookauthor "Can <action> book author"
  AuditEntry  default_permissions = () -> only the custom can_audit_entries
  GermanBook  verbose_name="Buch" -> add/change/delete/view_germanbook "Can <action> Buch"
  FeaturedBook (proxy of Book, own content type) add/change/delete/view_featuredbook
              "Can <action> featured book", plus custom can_promote_featuredbook
"""

from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    premium = models.BooleanField(default=False)

    class Meta:
        permissions = [
            ("can_publish_book", "Can publish book"),
            ("can_archive_book", "Can archive book"),
            ("can_feature_book", "Can feature book"),
            ("can_set_premium", "Can set premium"),
            ("can_borrow_book", "Can borrow book"),
            ("can_return_book", "Can return book"),
            ("can_manage_inventory", "Can manage inventory"),
        ]

    def __str__(self):
        return self.title


class Article(models.Model):
    headline = models.CharField(max_length=200)

    class Meta:
        permissions = [
            ("can_publish_article", "Can publish article"),
            ("can_approve_article", "Can approve article"),
            ("can_feature_article", "Can feature article"),
        ]


class BookAuthor(models.Model):
    """Default verbose name "book author" -> "Can add book author"."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)


class AuditEntry(models.Model):
    """No default permissions at all, one custom permission."""

    message = models.TextField()

    class Meta:
        default_permissions = ()
        permissions = [("can_audit_entries", "Can audit entries")]


class GermanBook(models.Model):
    """Explicit verbose_name -> "Can add Buch"."""

    titel = models.CharField(max_length=200)

    class Meta:
        verbose_name = "Buch"
        verbose_name_plural = "Bücher"


class FeaturedBook(Book):
    """Proxy: gets its own content type (bookshelf.featuredbook) and its own permissions."""

    class Meta:
        proxy = True
        permissions = [("can_promote_featuredbook", "Can promote featured book")]
