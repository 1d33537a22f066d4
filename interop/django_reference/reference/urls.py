from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from bookshelf import views

urlpatterns = [
    path("", RedirectView.as_view(url="/books/")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("books/", views.book_list, name="book-list"),
    path("books/add/", views.book_add, name="book-add"),
]
