"""URLs of the dashboard, included at "dashboard/"."""

from django.urls import path

from reporting import views as views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("ranking/", views.scorecard, name="dashboard-scorecard"),
    path("report/", views.export, name="dashboard-export"),
]
