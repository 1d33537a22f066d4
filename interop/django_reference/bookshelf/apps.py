from django.apps import AppConfig


class BookshelfConfig(AppConfig):
    name = "bookshelf"
    verbose_name = "Bookshelf"
