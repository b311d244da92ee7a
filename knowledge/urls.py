from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.search_page, name="search"),
    path("new/", views.article_edit, name="article-new"),
    path("preview/", views.article_preview, name="preview"),
    path("review/", views.review_queue, name="review-queue"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article-edit"),
    path("articles/<int:pk>/history/", views.article_history, name="history"),
    path("articles/<int:pk>/rollback/", views.article_rollback, name="rollback"),
    path("articles/<int:pk>/media/", views.article_media_add, name="media-add"),
    path("articles/<int:pk>/<str:name>/", views.article_transition, name="transition"),
    path("suggestions/<str:number>/", views.ticket_suggestions, name="suggestions"),
    path("scripts/", views.script_library, name="scripts"),
    path("scripts/<int:pk>/use/", views.script_use, name="script-use"),
    path("scripts/<int:pk>/favourite/", views.script_favourite, name="script-favourite"),
]
