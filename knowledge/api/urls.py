from django.urls import path

from knowledge.api import views as api

urlpatterns = [
    path("knowledge/search/", api.SearchView.as_view(), name="knowledge-search"),
    path("knowledge/suggestions/", api.SuggestionsView.as_view(), name="knowledge-suggestions"),
    path("knowledge/articles/", api.ArticleCreateView.as_view(), name="knowledge-article-list"),
    path("knowledge/articles/<int:pk>/", api.ArticleDetailView.as_view(),
         name="knowledge-article-detail"),
    path("knowledge/articles/<int:pk>/transitions/", api.ArticleTransitionView.as_view(),
         name="knowledge-article-transitions"),
    path("knowledge/scripts/", api.ScriptListView.as_view(), name="knowledge-script-list"),
    path("knowledge/scripts/<int:pk>/render/", api.ScriptRenderView.as_view(),
         name="knowledge-script-render"),
    path("knowledge/scripts/<int:pk>/favourite/", api.ScriptFavouriteView.as_view(),
         name="knowledge-script-favourite"),
]
