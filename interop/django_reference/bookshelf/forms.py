from django import forms

from .models import Book


class BookForm(forms.ModelForm):
    class Meta:
        model = Book
        fields = ["title", "author", "isbn", "publication_year", "copies_total"]
        labels = {"isbn": "ISBN", "copies_total": "Copies owned"}
