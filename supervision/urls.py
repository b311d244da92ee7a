"""URLs of the QA pages, included at "qa/"."""

from django.urls import path

from supervision.views import qa as views

urlpatterns = [
    path("", views.qa_queue, name="qa-queue"),
    path("<int:pk>/", views.qa_review, name="qa-review"),
]
