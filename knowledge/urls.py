from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("articles/<int:pk>/", views.article_detail, name="article"),
]
