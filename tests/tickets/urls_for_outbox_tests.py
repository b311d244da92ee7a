"""The project's URLs plus the notifications page and the outbox admin, for the outbox tests."""

from django.contrib import admin
from django.urls import include, path

from cs_console.urls import urlpatterns as project_urlpatterns
from tickets import admin_outbox  # noqa: F401  registers the outbox admin

urlpatterns = [
    path("notifications/", include("tickets.urls_notifications")),
    # Built again here: the project's admin URLs may predate the outbox admin's registration.
    path("admin/", admin.site.urls),
    *project_urlpatterns,
]
