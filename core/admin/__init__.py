from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.admin import schedules  # noqa: F401 - replaces django-q2's schedule admin
from core.models.user import User
from core.services.audit_chain import first_row_naming


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ["username", "full_name", "email", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active"]

    @admin.display(description=_lazy("name"), ordering="last_name")
    def full_name(self, user: User) -> str:
        """The name as the console writes it (family name first in Chinese)."""
        return user.get_full_name()

    def get_deleted_objects(self, objs, request):
        """Refuse, on the confirmation page, to delete anyone the audit history names:
        history is append-only, so people are deactivated instead."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for user in objs:
            if first_row_naming(user) is not None:
                protected.append(_("%(user)s acted in the audit history; deactivate the "
                                   "account instead of deleting it.") % {"user": user})
        return deleted, counts, perms_needed, protected
