"""Reads of the knowledge base shared by the pages, the API and the ticket workspace."""

import difflib
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from knowledge.models import (
    Article,
    ArticleLanguage,
    ArticleState,
    ArticleType,
    Category,
    ScriptFavourite,
    ScriptTemplate,
    Tag,
    may_publish,
    stale_cutoff,
)
from knowledge.selectors import search


def can_read_knowledge(user) -> bool:
    return user.is_authenticated and user.has_perm("knowledge.view_article")


def article_visible_to(user) -> QuerySet[Article]:
    """Return the articles the user may read.

    Everyone who reads the knowledge base reads published articles; authors also read
    their own drafts and articles in review; QA inspectors and supervisors read all.
    """
    if not can_read_knowledge(user):
        return Article.objects.none()
    articles = Article.objects.all()
    if may_publish(None, user):
        return articles
    return articles.filter(Q(state=ArticleState.PUBLISHED) | Q(author=user))


def article_get_for_user(*, user, pk: int) -> Article:
    """Return the article with what its page shows, if the user may read it; else Http404."""
    try:
        return (article_visible_to(user)
                .select_related("category", "author", "reviewed_by")
                .prefetch_related("tags", "media")
                .get(pk=pk))
    except Article.DoesNotExist:
        raise Http404(pk) from None


def category_tree() -> list[tuple[Category, int]]:
    """Return every category with its depth, parents before their children, in one query."""
    categories = list(Category.objects.all())
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[tuple[Category, int]] = []

    def walk(parent_id, depth):
        for category in children.get(parent_id, []):
            ordered.append((category, depth))
            walk(category.pk, depth + 1)

    walk(None, 0)
    return ordered


def category_subtree_ids(category_id: int) -> tuple[int, ...]:
    """Return the category's id with the ids of every category below it."""
    by_parent: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        by_parent.setdefault(parent_id, []).append(pk)
    found, frontier = [], [category_id]
    while frontier:
        current = frontier.pop()
        if current in found:
            continue
        found.append(current)
        frontier.extend(by_parent.get(current, []))
    return tuple(found)


@dataclass
class SearchResult:
    articles: list[Article] = field(default_factory=list)
    has_more: bool = False
    query: search.ParsedQuery | None = None


def _with_snippets(articles: list[Article], terms) -> list[Article]:
    for article in articles:
        article.snippet = search.snippet(search.plain_text(article.body), terms)
    return articles


def _fetch_in_order(ids: list[int], *, with_tags: bool = True) -> list[Article]:
    articles = Article.objects.filter(pk__in=ids).select_related("category")
    if with_tags:
        articles = articles.prefetch_related("tags")
    by_id = {article.pk: article for article in articles}
    return [by_id[pk] for pk in ids if pk in by_id]


def article_search(*, user, q: str = "", category: int | None = None, tag: int | None = None,
                   article_type: str | None = None, language: str | None = None,
                   limit: int = 20, offset: int = 0,
                   include_unpublished: bool = False) -> SearchResult:
    """Return the published articles best matching the query (or the newest, without one).

    Uses a fixed number of queries: the search, the articles, their tags, and one more to
    expand a category filter to the categories below it.
    """
    if not can_read_knowledge(user):
        return SearchResult()
    states: tuple[ArticleState, ...] = (ArticleState.PUBLISHED,)
    if include_unpublished and may_publish(None, user):
        states = (ArticleState.DRAFT, ArticleState.IN_REVIEW, ArticleState.PUBLISHED)
    filters = search.Filters(
        states=states,
        category_ids=category_subtree_ids(category) if category else None,
        tag_id=tag or None,
        article_type=article_type if article_type in ArticleType.values else None,
        language=language if language in ArticleLanguage.values else None,
    )
    parsed = search.parse_query(q)
    if parsed.is_empty:
        articles = Article.objects.filter(state__in=states)
        if filters.category_ids is not None:
            articles = articles.filter(category_id__in=filters.category_ids)
        if filters.tag_id:
            articles = articles.filter(tags=filters.tag_id)
        if filters.article_type:
            articles = articles.filter(article_type=filters.article_type)
        if filters.language:
            articles = articles.filter(language=filters.language)
        ids = list(articles.order_by("-updated_at", "-id")
                   .values_list("id", flat=True)[offset:offset + limit + 1])
    else:
        ids = search.search_ids(parsed, filters, limit=limit + 1, offset=offset)
    has_more = len(ids) > limit
    articles = _with_snippets(_fetch_in_order(ids[:limit]), parsed.highlight_terms())
    return SearchResult(articles=articles, has_more=has_more, query=parsed)


def article_suggestions_for_ticket(*, ticket, user, limit: int = 5) -> list[Article]:
    """Return the published articles most relevant to the ticket's subject and description.

    Best first, each with a highlighted `.snippet`; two queries (none without read access).
    """
    if not can_read_knowledge(user):
        return []
    text = f"{ticket.subject}\n{ticket.description or ''}"
    parsed = search.or_query(text)
    if parsed.is_empty:
        return []
    ids = search.search_ids(parsed, search.Filters(states=(ArticleState.PUBLISHED,)),
                            limit=limit)
    if not ids:
        return []
    return _with_snippets(_fetch_in_order(ids, with_tags=False), parsed.highlight_terms())


def article_review_queue(*, user) -> dict[str, list[Article]]:
    """Return the articles waiting for review and the stale published ones (reviewers only)."""
    if not may_publish(None, user):
        return {"in_review": [], "stale": []}
    base = Article.objects.select_related("category", "author", "reviewed_by")
    in_review = list(base.filter(state=ArticleState.IN_REVIEW).order_by("updated_at", "id"))
    cutoff = stale_cutoff()
    stale = list(base.filter(state=ArticleState.PUBLISHED).filter(
        Q(last_reviewed_at__lt=cutoff) | Q(last_reviewed_at__isnull=True)
    ).order_by("last_reviewed_at", "id")[:100])
    return {"in_review": in_review, "stale": stale}


def article_list_mine(*, user) -> QuerySet[Article]:
    """Return the user's own drafts and articles in review, newest first."""
    return (Article.objects.filter(author=user, state__in=[ArticleState.DRAFT,
                                                           ArticleState.IN_REVIEW])
            .select_related("category").order_by("-updated_at"))


@dataclass
class HistoryEntry:
    record: object
    diff: list[tuple[str, str]]  # (kind, line): kind is "add", "del", "ctx" or "hunk"
    changed_fields: list[str]


CONTENT_FIELDS = ("title", "body", "article_type", "language", "category_id", "state")


def _diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(("hunk", line))
        elif line.startswith("+"):
            lines.append(("add", line[1:]))
        elif line.startswith("-"):
            lines.append(("del", line[1:]))
        else:
            lines.append(("ctx", line[1:]))
    return lines


def article_history(*, article: Article) -> list[HistoryEntry]:
    """Return the article's versions, newest first, each with its diff to the one before."""
    records = list(article.history.select_related("history_user").order_by("history_date",
                                                                          "history_id"))
    entries = []
    previous = None
    for record in records:
        if previous is None:
            diff = _diff_lines("", f"# {record.title}\n\n{record.body}")
            changed = ["title", "body"]
        else:
            changed = [name for name in CONTENT_FIELDS
                       if getattr(previous, name) != getattr(record, name)]
            diff = _diff_lines(f"# {previous.title}\n\n{previous.body}",
                               f"# {record.title}\n\n{record.body}")
        entries.append(HistoryEntry(record=record, diff=diff, changed_fields=changed))
        previous = record
    entries.reverse()
    return entries


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.annotate(article_count=Count("articles")).order_by("name")


def script_template_list(*, user, scenario: str | None = None, channel: str | None = None,
                         language: str | None = None,
                         q: str | None = None) -> QuerySet[ScriptTemplate]:
    """Return the active templates: the user's favourites first, then the most used.

    Each carries `is_favourite`; tags are prefetched.
    """
    if not user.is_authenticated or not user.has_perm("knowledge.view_scripttemplate"):
        return ScriptTemplate.objects.none()
    templates = ScriptTemplate.objects.filter(is_active=True)
    if scenario:
        templates = templates.filter(scenario=scenario)
    if channel:
        # A template without a channel fits every channel.
        templates = templates.filter(Q(channel=channel) | Q(channel=""))
    if language:
        templates = templates.filter(language=language)
    if q and q.strip():
        tagged = ScriptTemplate.tags.through.objects.filter(scripttemplate_id=OuterRef("pk"))
        for word in q.split():
            templates = templates.filter(
                Q(title__icontains=word) | Q(body__icontains=word)
                | Exists(tagged.filter(tag__name=word))
            )
    favourite = Exists(ScriptFavourite.objects.filter(user=user, template=OuterRef("pk")))
    return (templates.annotate(
        is_favourite=favourite,
        favourite_rank=Case(When(favourite, then=Value(0)), default=Value(1),
                            output_field=IntegerField()),
    ).prefetch_related("tags").order_by("favourite_rank", "-usage_count", "scenario", "title"))


# Which scenarios of script fit a ticket, by its category and by the kind of resolution
# proposed or under way (the policy engine's kinds, by value: knowledge sits beside
# resolutions and imports neither it nor policies). Greetings and closings fit every ticket
# and keep their usual place.
SCENARIOS_FOR_CATEGORY: dict[str, tuple[str, ...]] = {
    "order_not_received": ("logistics", "empathy"),
    "order_late": ("logistics", "apology"),
    "logistics_exception": ("logistics", "apology"),
    "wrong_or_missing_item": ("apology", "return"),
    "return_exchange": ("return",),
    "refund_not_arrived": ("refund",),
    "double_charge": ("refund", "apology"),
    "payment_failed": ("restate",),
    "quality_damage": ("apology", "return", "empathy"),
    "quality_malfunction": ("apology", "return", "empathy"),
    "counterfeit": ("escalation", "empathy"),
    "safety_hazard": ("escalation", "apology"),
    "service_attitude": ("apology", "empathy", "escalation"),
}
SCENARIOS_FOR_RESOLUTION: dict[str, tuple[str, ...]] = {
    "refund_only": ("refund",),
    "partial_refund": ("refund",),
    "return_refund": ("return", "refund"),
    "exchange": ("return",),
    "repair": ("return",),
    "recall": ("return", "escalation"),
    "reissue": ("logistics",),
    "compensation_coupon": ("apology",),
    "compensation_points": ("apology",),
    "compensation_cash": ("apology",),
    "extended_warranty": ("apology",),
}


def script_template_ranked(*, user, channel: str | None = None, language: str | None = None,
                           category: str = "", resolution_kinds=(),
                           q: str | None = None) -> QuerySet[ScriptTemplate]:
    """Return the templates of script_template_list, those that fit the ticket first.

    Ranked in the database, in one query, by three keys before the list's own order
    (favourites, then the most used):

    1. scripts whose scenario fits a resolution proposed or under way on the ticket
       (SCENARIOS_FOR_RESOLUTION: a refund being proposed wants the refund explanation);
    2. then scripts whose scenario fits the ticket's category (SCENARIOS_FOR_CATEGORY: a
       damaged parcel wants an apology and the return explanation);
    3. then every other script.

    Each template carries `fit_rank` (0, 1 or 2). The ranking is a Case on the scenario
    column, so it costs no extra query and the templates page no differently.
    """
    templates = script_template_list(user=user, channel=channel, language=language, q=q)
    for_resolution = {scenario for kind in resolution_kinds
                      for scenario in SCENARIOS_FOR_RESOLUTION.get(kind, ())}
    for_category = set(SCENARIOS_FOR_CATEGORY.get(category, ())) - for_resolution
    fit = Case(When(scenario__in=sorted(for_resolution), then=Value(0)),
               When(scenario__in=sorted(for_category), then=Value(1)),
               default=Value(2), output_field=IntegerField())
    # F(): the ranks are annotations of this query, not columns.
    return templates.annotate(fit_rank=fit).order_by(
        F("fit_rank"), F("favourite_rank"), "-usage_count", "scenario", "title")


def script_template_get(*, user, pk: int) -> ScriptTemplate:
    """Return the active template if the user may use it; raise Http404 otherwise."""
    try:
        return script_template_list(user=user).get(pk=pk)
    except ScriptTemplate.DoesNotExist:
        raise Http404(pk) from None
