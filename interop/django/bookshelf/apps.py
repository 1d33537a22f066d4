from django.apps import AppConfig


class BookshelfConfig(AppConfig):
    name = "bookshelf"
    verbose_name = "Bookshelf"
    # Fixed here (not taken from DEFAULT_AUTO_FIELD) so that INTEROP_AUTO_FIELD only changes auth's
    # through tables and never makes bookshelf's committed migration look out of date.
    default_auto_field = "django.db.models.BigAutoField"
