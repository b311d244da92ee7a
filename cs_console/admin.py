from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cs_console.models import User


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active"]
