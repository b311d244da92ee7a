from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit_chain import first_row_naming


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active"]

    def get_deleted_objects(self, objs, request):
        """Refuse, on the confirmation page, to delete anyone the audit history names:
        history is append-only, so people are deactivated instead."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for user in objs:
            if first_row_naming(user) is not None:
                protected.append(_("%(user)s acted in the audit history; deactivate the "
                                   "account instead of deleting it.") % {"user": user})
        return deleted, counts, perms_needed, protected
