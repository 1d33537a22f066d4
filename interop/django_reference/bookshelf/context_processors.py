from django.utils.functional import SimpleLazyObject


def user_groups(request):
    """The names of the user's groups (read once, when a template asks)."""

    def names():
        user = request.user
        if not user.is_authenticated:
            return []
        return list(user.groups.order_by("name").values_list("name", flat=True))

    return {"user_groups": SimpleLazyObject(names)}
