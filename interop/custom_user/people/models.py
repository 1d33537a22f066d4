"""people.Account: the most common custom user (AUTH_USER_MODEL = "people.Account" when
CUSTOM_USER_APP=people).

`class Account(AbstractUser)` with one extra nullable column, the default BigAutoField `id` and
Django's stock UserManager (which, unlike the other two apps' managers, has with_perm()). Logs in
by `username`, like auth.User. Tables: people_account (auth_user's columns plus `bio`),
people_account_groups (id, account_id, group_id), people_account_user_permissions
(id, account_id, permission_id).
"""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Account(AbstractUser):
    bio = models.TextField(blank=True, null=True)

    objects = UserManager()
