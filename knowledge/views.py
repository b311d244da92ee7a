"""Knowledge-base pages: search, articles, the editor, the review queue, history, scripts."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from knowledge import selectors, services
from knowledge.models import ArticleState, may_publish
from knowledge.rendering import render_markdown


def _require_reader(user) -> None:
    if not selectors.can_read_knowledge(user):
        raise PermissionDenied


def article_detail(request, pk: int):
    """Show one article: rendered text, media, review status and the actions allowed."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    return render(request, "knowledge/article.html", {
        "article": article,
        "body_html": render_markdown(article.body),
        "can_edit": services.can_edit_article(article, request.user),
        "can_review": may_publish(article, request.user),
        "states": ArticleState,
        "nav_active": "knowledge",
    })
