"""The project's URLs plus the notifications page and the outbox admin, for the outbox tests."""

from django.contrib import admin
from django.urls import include, path

from cs_console.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("notifications/", include("notifications.urls")),
    # Built again here: the project's admin URLs may predate the outbox admin's registration.
    path("admin/", admin.site.urls),
    *project_urlpatterns,
]
