"""URLs of the console's notifications page, included at "notifications/"."""

from django.urls import path

from notifications import views as views

urlpatterns = [
    path("", views.notification_list, name="notification-list"),
    path("<int:pk>/read/", views.notification_mark_read, name="notification-read"),
    path("read-all/", views.notification_mark_all_read, name="notification-read-all"),
]
