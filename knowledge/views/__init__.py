"""Knowledge-base pages: search, articles, the editor, the review queue, history, scripts."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.services.exceptions import Conflict
from knowledge import selectors, services
from knowledge.models import (
    ArticleLanguage,
    ArticleState,
    ArticleType,
    Category,
    MediaKind,
    Tag,
    may_publish,
)
from knowledge.models.placeholders import PLACEHOLDERS
from knowledge.views.forms import ArticleForm, ScriptFilterForm
from knowledge.views.rendering import render_markdown
from tickets.selectors import ticket_visible_to

PAGE_SIZE = 20


def _require_reader(user) -> None:
    if not selectors.can_read_knowledge(user):
        raise PermissionDenied


def _int_or_none(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdecimal() else None  # "²" is a digit, not a number


def search_page(request):
    """Search published articles with category, tag and type filters."""
    _require_reader(request.user)
    q = request.GET.get("q", "").strip()[:200]
    category = _int_or_none(request.GET.get("category"))
    tag = _int_or_none(request.GET.get("tag"))
    article_type = request.GET.get("type") or None
    language = request.GET.get("language") or None
    page = max(1, _int_or_none(request.GET.get("page")) or 1)
    result = selectors.article_search(
        user=request.user, q=q, category=category, tag=tag, article_type=article_type,
        language=language, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )
    context = {
        "q": q, "result": result, "page": page,
        "category": category, "tag": tag, "article_type": article_type, "language": language,
        "article_languages": ArticleLanguage.choices,
        "categories": [(node.pk, "\u3000" * depth + node.name)
                       for node, depth in selectors.category_tree()],
        "tags": Tag.objects.order_by("name"),
        "types": ArticleType.choices,
        "can_write": request.user.has_perm("knowledge.add_article"),
        "my_drafts": list(selectors.article_list_mine(user=request.user)[:10]),
        "nav_active": "knowledge",
    }
    template = "knowledge/_results.html" if request.htmx else "knowledge/search.html"
    return render(request, template, context)


def article_detail(request, pk: int):
    """Show one article: rendered text, media, review status and the actions allowed."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    return render(request, "knowledge/article.html", {
        "article": article,
        "body_html": render_markdown(article.body),
        "can_edit": services.can_edit_article(article, request.user),
        "can_review": may_publish(article, request.user),
        "can_submit": article.state == ArticleState.DRAFT and (
            article.author_id == request.user.pk or may_publish(article, request.user)),
        "states": ArticleState,
        "media_kinds": MediaKind.choices,
        "nav_active": "knowledge",
    })


def _category(form: ArticleForm) -> Category | None:
    pk = _int_or_none(form.cleaned_data.get("category"))
    return Category.objects.filter(pk=pk).first() if pk else None


def article_edit(request, pk: int | None = None):
    """Write a new article or a new version of one, with a live preview."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk) if pk else None
    if article is None and not request.user.has_perm("knowledge.add_article"):
        raise PermissionDenied
    if article is not None and not services.can_edit_article(article, request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if article is None:
                    article = services.article_create(
                        actor=request.user, title=data["title"], body=data["body"],
                        article_type=data["article_type"], category=_category(form),
                        tags=form.tag_names(),
                        language=data["language"] or ArticleLanguage.SIMPLIFIED_CHINESE)
                else:
                    services.article_update(
                        article=article, actor=request.user, title=data["title"],
                        body=data["body"], article_type=data["article_type"],
                        category=_category(form), tags=form.tag_names(),
                        language=data["language"] or None)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if request.POST.get("then") == "submit":
                    services.article_submit(article=article, actor=request.user)
                    messages.success(request, _("Saved and sent to QA for review."))
                else:
                    messages.success(request, _("Saved."))
                return redirect(article.get_absolute_url())
    else:
        form = ArticleForm(initial=ArticleForm.initial_for(article) if article else None)
    return render(request, "knowledge/edit.html", {
        "form": form, "article": article, "nav_active": "knowledge",
        "preview": render_markdown(form["body"].value() or ""),
    })


@require_POST
def article_preview(request):
    """Render posted Markdown the way the article page will (htmx partial)."""
    _require_reader(request.user)
    return HttpResponse(render_markdown(request.POST.get("body", "")[:100_000]))


# name: (service, message shown when it is done)
TRANSITIONS: dict[str, tuple[Callable[..., object], str | Promise]] = {
    "submit": (services.article_submit, gettext_lazy("Sent to QA for review.")),
    "publish": (services.article_publish, gettext_lazy("Published.")),
    "reject": (services.article_reject, gettext_lazy("Sent back to the author.")),
    "archive": (services.article_archive, gettext_lazy("Archived.")),
    "restore": (services.article_restore, gettext_lazy("Restored as a draft.")),
    "confirm": (services.article_confirm_reviewed, gettext_lazy("Marked as reviewed.")),
}


@require_POST
def article_transition(request, pk: int, name: str):
    """Take a review step on the article."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    if name not in TRANSITIONS:
        raise PermissionDenied
    service, done = TRANSITIONS[name]
    kwargs = {}
    if name in {"publish", "reject"}:
        kwargs["note"] = request.POST.get("note", "")
    try:
        service(article=article, actor=request.user, **kwargs)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(done))
    target = request.POST.get("next", "")
    if target == "queue" and may_publish(article, request.user):
        return redirect("knowledge:review-queue")
    return redirect(article.get_absolute_url())


def review_queue(request):
    """QA's queue: articles waiting for approval, and published ones due for a new review."""
    if not request.user.has_perm("knowledge.publish_article"):
        raise PermissionDenied
    queue = selectors.article_review_queue(user=request.user)
    return render(request, "knowledge/review_queue.html", {
        **queue, "nav_active": "knowledge_review",
    })


def article_history(request, pk: int):
    """Every version of the article with what changed, and rollback for reviewers."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    return render(request, "knowledge/history.html", {
        "article": article,
        "entries": selectors.article_history(article=article),
        "can_rollback": may_publish(article, request.user)
        and article.state != ArticleState.ARCHIVED,
        "nav_active": "knowledge",
    })


@require_POST
def article_rollback(request, pk: int):
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    history_id = _int_or_none(request.POST.get("history_id"))
    try:
        services.article_rollback(article=article, actor=request.user,
                                  history_id=history_id or 0)
    except (ValidationError, Conflict) as error:
        shown = error.message if isinstance(error, Conflict) else " ".join(error.messages)
        messages.error(request, shown)
        return redirect("knowledge:history", pk=pk)
    messages.success(request, _("Rolled back; the earlier text is now the newest version."))
    return redirect(article.get_absolute_url())


# --- Script library.

def _ticket_for(user, number: str):
    number = (number or "").strip()
    if not number:
        return None
    return ticket_visible_to(user).select_related("customer", "order").filter(
        number=number).first()


def script_library(request):
    """The script templates with filters; copy or insert a script filled for a ticket."""
    if not request.user.has_perm("knowledge.view_scripttemplate"):
        raise PermissionDenied
    form = ScriptFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    templates = list(selectors.script_template_list(
        user=request.user, scenario=filters.get("scenario") or None,
        channel=filters.get("channel") or None, language=filters.get("language") or None,
        q=filters.get("q") or None,
    ))
    ticket = _ticket_for(request.user, filters.get("ticket", ""))
    context = (services.script_context_for_ticket(ticket=ticket, agent=request.user)
               if ticket else services.script_context_for_agent(agent=request.user))
    for template in templates:
        # A preview: filled but not counted as a use until copied or inserted.
        template.filled = services.script_render(template=template, context=context)
    page = {
        "form": form, "templates": templates, "ticket": ticket,
        "ticket_missing": bool(filters.get("ticket")) and ticket is None,
        "placeholders": PLACEHOLDERS, "nav_active": "knowledge_scripts",
    }
    template_name = "knowledge/_scripts.html" if request.htmx else "knowledge/scripts.html"
    return render(request, template_name, page)


@require_POST
def script_use(request, pk: int):
    """Fill a script for the ticket, count the use and return the text (copy and insert)."""
    template = selectors.script_template_get(user=request.user, pk=pk)
    ticket = _ticket_for(request.user, request.POST.get("ticket", ""))
    context = (services.script_context_for_ticket(ticket=ticket, agent=request.user)
               if ticket else services.script_context_for_agent(agent=request.user))
    text = services.script_render(template=template, context=context, user=request.user)
    return JsonResponse({"text": text})


@require_POST
def script_favourite(request, pk: int):
    template = selectors.script_template_get(user=request.user, pk=pk)
    favourite = request.POST.get("favourite") == "1"
    services.script_favourite_set(template=template, user=request.user, favourite=favourite)
    if request.htmx:
        return render(request, "knowledge/_favourite.html",
                      {"template": template, "is_favourite": favourite})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("knowledge:scripts")


@require_POST
def article_media_add(request, pk: int):
    """Attach a picture or a video link to an article the user may edit."""
    _require_reader(request.user)
    article = selectors.article_get_for_user(user=request.user, pk=pk)
    try:
        services.article_media_add(article=article, actor=request.user,
                                   kind=request.POST.get("kind", ""),
                                   url=request.POST.get("url", ""),
                                   caption=request.POST.get("caption", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Added."))
    return redirect(article.get_absolute_url())


def ticket_suggestions(request, number: str):
    """The suggestions panel for a ticket (loaded by the ticket workspace with htmx)."""
    _require_reader(request.user)
    ticket = ticket_visible_to(request.user).filter(number=number).first()
    if ticket is None:
        raise Http404(number)
    articles = selectors.article_suggestions_for_ticket(ticket=ticket, user=request.user)
    return render(request, "knowledge/_suggestions.html", {"articles": articles,
                                                           "ticket": ticket})
