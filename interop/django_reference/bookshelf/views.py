from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render

from .forms import BookForm
from .models import Book


@login_required
def book_list(request):
    """Published books; every book for holders of `change_book` (as Bookshelf does)."""
    books = Book.objects.all()
    if not request.user.has_perm("bookshelf.change_book"):
        books = books.filter(is_published=True, is_archived=False)
    return render(request, "books/list.html", {"books": books})


@permission_required("bookshelf.add_book", raise_exception=True)
def book_add(request):
    if request.method == "POST":
        form = BookForm(request.POST)
        if form.is_valid():
            book = form.save(commit=False)
            book.copies_available = book.copies_total
            book.save()
            return redirect("book-list")
    else:
        form = BookForm()
    return render(request, "books/form.html", {"form": form})
