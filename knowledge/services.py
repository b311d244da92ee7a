"""Every write to the knowledge base and the script templates. Pages, the API and the demo
loader call only these."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from core.models.user import User
from core.services.admin_writes import record_save
from core.services.audit import save_with_history, stamp_history
from core.services.exceptions import Conflict
from knowledge.models import (
    Article,
    ArticleLanguage,
    ArticleMedia,
    ArticleState,
    ArticleType,
    Category,
    MediaKind,
    ScriptFavourite,
    ScriptScenario,
    ScriptTemplate,
    ScriptUsage,
    Tag,
    may_publish,
)
from knowledge.models.images import image_url_is_allowed
from knowledge.models.placeholders import check_placeholders, fill
from tickets.models import Ticket
from tickets.models.choices import Channel

# A CharField always has a max_length; the stubs type it for every field.
TITLE_MAX = cast("int", Article._meta.get_field("title").max_length)
TAG_MAX = cast("int", Tag._meta.get_field("name").max_length)


def can_edit_article(article: Article, user: User) -> bool:
    """Reviewers edit every article that is not archived; an author edits their own draft."""
    if not user.has_perm("knowledge.change_article") or article.state == ArticleState.ARCHIVED:
        return False
    if may_publish(article, user):
        return True
    return article.state == ArticleState.DRAFT and article.author_id == user.pk


def _clean_content(*, title: str, body: str, article_type: str) -> tuple[str, str]:
    title = (title or "").strip()
    body = (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the article a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("Keep the title under %(max)d characters.") % {"max": TITLE_MAX}
    if not body:
        errors["body"] = _("Write the article's text.")
    if article_type not in ArticleType.values:
        errors["article_type"] = _("Unknown article type.")
    if errors:
        raise ValidationError(errors)
    return title, body


def tags_named(names: Iterable[str]) -> list[Tag]:
    """Return the tags with these names, creating the missing ones."""
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        if len(name) > TAG_MAX:
            raise ValidationError({"tags": _("A tag is too long: %(name)s") % {"name": name}})
        tags.append(Tag.objects.get_or_create(name=name)[0])
    return tags


@transaction.atomic
def article_create(*, actor: User, title: str, body: str, article_type: str = ArticleType.FAQ,
                   category: Category | None = None, tags: Iterable[str] = (),
                   language: str = ArticleLanguage.SIMPLIFIED_CHINESE) -> Article:
    """Create a draft article written by the actor."""
    if not actor.has_perm("knowledge.add_article"):
        raise PermissionDenied(_("You may not write articles."))
    title, body = _clean_content(title=title, body=body, article_type=article_type)
    _check_language(language)
    article: Article = Article(title=title, body=body, article_type=article_type,
                               category=category, author=actor, language=language)
    save_with_history(article, actor=actor, reason="create")
    tag_objects = tags_named(tags)
    if tag_objects:
        stamp_history(article, actor=actor, reason="tags")
        article.tags.set(tag_objects)
    return article


@transaction.atomic
def article_update(*, article: Article, actor: User, title: str, body: str, article_type: str,
                   category: Category | None, tags: Iterable[str] | None = None,
                   language: str | None = None) -> Article:
    """Save a new revision of the article's content (`language` None keeps the language)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not can_edit_article(article, actor):
        raise PermissionDenied(_("You may not edit this article."))
    title, body = _clean_content(title=title, body=body, article_type=article_type)
    language = language or article.language
    _check_language(language)
    changed = (title, body, article_type, category, language) != (
        article.title, article.body, article.article_type, article.category, article.language)
    if changed:
        article.title, article.body = title, body
        article.article_type, article.category = article_type, category
        article.language = language
        article.version += 1
        save_with_history(article, actor=actor, reason=f"edit:v{article.version}")
    if tags is not None:
        wanted = tags_named(tags)
        if {t.pk for t in wanted} != set(article.tags.values_list("pk", flat=True)):
            stamp_history(article, actor=actor, reason="tags")
            article.tags.set(wanted)
    return article


def _check_language(language: str) -> None:
    if language not in ArticleLanguage.values:
        raise ValidationError({"language": _("Choose a language from the list.")})


def _transition(article: Article, actor: User, name: str, **kwargs: Any) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    method = getattr(article, name)
    if not can_proceed(method):
        raise Conflict(
            _("The article is %(state)s; it cannot be changed that way.")
            % {"state": article.get_state_display()}, code="wrong_state",
        )
    if not has_transition_perm(method, actor):
        raise PermissionDenied(_("You may not do this to the article."))
    method(**kwargs)
    note = kwargs.get("note", "")
    save_with_history(article, actor=actor, reason=f"{name}: {note}" if note else name)
    return article


@transaction.atomic
def article_submit(*, article: Article, actor: User) -> Article:
    """Send a draft to QA for review."""
    return _transition(article, actor, "submit")


@transaction.atomic
def article_publish(*, article: Article, actor: User, note: str = "") -> Article:
    """Approve an article in review and publish it (QA inspectors and supervisors)."""
    return _transition(article, actor, "publish", reviewer=actor, note=(note or "").strip())


@transaction.atomic
def article_reject(*, article: Article, actor: User, note: str) -> Article:
    """Send an article in review back to its author as a draft, saying what to change."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what needs to change.")})
    return _transition(article, actor, "reject", reviewer=actor, note=note)


@transaction.atomic
def article_archive(*, article: Article, actor: User) -> Article:
    """Take an outdated article out of search."""
    return _transition(article, actor, "archive")


@transaction.atomic
def article_restore(*, article: Article, actor: User) -> Article:
    """Bring an archived article back as a draft."""
    return _transition(article, actor, "restore")


@transaction.atomic
def article_confirm_reviewed(*, article: Article, actor: User) -> Article:
    """Record that a published article was checked and is still correct."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not may_publish(article, actor):
        raise PermissionDenied(_("Only QA inspectors and supervisors review articles."))
    if article.state != ArticleState.PUBLISHED:
        raise Conflict(_("Only published articles are reviewed again."), code="wrong_state")
    article.last_reviewed_at = timezone.now()
    article.reviewed_by = actor
    save_with_history(article, actor=actor, reason="reviewed",
                      update_fields=["last_reviewed_at", "reviewed_by", "updated_at"])
    return article


@transaction.atomic
def article_rollback(*, article: Article, actor: User, history_id: int) -> Article:
    """Restore the content (title, text, type, category, tags) of an earlier version.

    The rollback is itself a new version, so nothing in the history is lost. Reviewers
    only: it changes what agents read without a new review.
    """
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not may_publish(article, actor) or not actor.has_perm("knowledge.change_article"):
        raise PermissionDenied(_("Only QA inspectors and supervisors roll articles back."))
    if article.state == ArticleState.ARCHIVED:
        raise Conflict(_("Restore the article before rolling it back."), code="wrong_state")
    try:
        old = article.history.get(history_id=history_id)
    except article.history.model.DoesNotExist:
        raise ValidationError({"history_id": _("No such version of this article.")}) from None
    if old.category_id is not None and not Category.objects.filter(pk=old.category_id).exists():
        raise ValidationError({"history_id": _("That version's category no longer exists.")})
    article.title, article.body = old.title, old.body
    article.article_type, article.category_id = old.article_type, old.category_id
    article.version += 1
    save_with_history(article, actor=actor, reason=f"rollback:v{old.version}")
    old_tags = [row.tag for row in old.tags.select_related("tag")]
    if {t.pk for t in old_tags} != set(article.tags.values_list("pk", flat=True)):
        stamp_history(article, actor=actor, reason=f"rollback:v{old.version}")
        article.tags.set(old_tags)
    return article


@transaction.atomic
def article_media_add(*, article: Article, actor: User, kind: str, url: str,
                      caption: str = "") -> ArticleMedia:
    """Attach a picture or a video link to an article."""
    if not can_edit_article(article, actor):
        raise PermissionDenied(_("You may not edit this article."))
    media = ArticleMedia(article=article, kind=kind, url=(url or "").strip(),
                         caption=(caption or "").strip(),
                         position=article.media.count())
    media.full_clean()
    if media.kind == MediaKind.IMAGE and not image_url_is_allowed(media.url):
        raise ValidationError({"url": _(
            "Pictures may only come from the console or the hosts in KNOWLEDGE_IMAGE_HOSTS.")})
    save_with_history(media, actor=actor, reason="media:add")
    return media


# --- Script templates (话术).

def _clean_template(*, title: str, body: str, scenario: str, channel: str,
                    language: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the script a title.")
    if not body:
        errors["body"] = _("Write the script's text.")
    if scenario not in ScriptScenario.values:
        errors["scenario"] = _("Unknown scenario.")
    if channel and channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    if language not in {code for code, _name in settings.LANGUAGES}:
        errors["language"] = _("Unknown language.")
    if errors:
        raise ValidationError(errors)
    check_placeholders(body, field="body")
    return title, body


# The article fields whose change makes a new version (the state and review fields do not).
CONTENT_FIELDS = frozenset({"title", "body", "article_type", "language", "category"})


def article_save_from_admin(*, article: Article, actor: User, changed: Iterable[str]) -> Article:
    """Save an article added or edited in admin: a new one names its author, and a change
    of its content (`changed` names the edited fields) makes a new version."""
    adding = article._state.adding
    if adding:
        article.author = actor
    elif CONTENT_FIELDS & set(changed):
        article.version += 1
    return record_save(record=article, actor=actor, reason="admin:add" if adding else "admin:edit")


def script_template_save_from_admin(*, template: ScriptTemplate, actor: User) -> ScriptTemplate:
    """Save a script template added or edited in admin; a new one names who wrote it."""
    adding = template._state.adding
    if adding:
        template.created_by = actor
    return record_save(record=template, actor=actor,
                       reason="admin:add" if adding else "admin:edit")


@transaction.atomic
def script_template_create(*, actor: User, title: str, body: str, scenario: str, channel: str = "",
                           language: str = "zh-hans", tags: Iterable[str] = (),
                           is_active: bool = True) -> ScriptTemplate:
    """Create a script template; unknown placeholders are refused."""
    if not actor.has_perm("knowledge.add_scripttemplate"):
        raise PermissionDenied(_("You may not write script templates."))
    title, body = _clean_template(title=title, body=body, scenario=scenario, channel=channel,
                                  language=language)
    if ScriptTemplate.objects.filter(title=title, language=language).exists():
        raise ValidationError({"title": _("A script with this title already exists.")})
    template = ScriptTemplate(title=title, body=body, scenario=scenario, channel=channel,
                              language=language, is_active=is_active, created_by=actor)
    save_with_history(template, actor=actor, reason="create")
    tag_objects = tags_named(tags)
    if tag_objects:
        stamp_history(template, actor=actor, reason="tags")
        template.tags.set(tag_objects)
    return template


@transaction.atomic
def script_template_update(*, template: ScriptTemplate, actor: User, title: str, body: str,
                           scenario: str, channel: str, language: str, is_active: bool,
                           tags: Iterable[str] | None = None) -> ScriptTemplate:
    """Change a script template; unknown placeholders are refused."""
    if not actor.has_perm("knowledge.change_scripttemplate"):
        raise PermissionDenied(_("You may not change script templates."))
    template = ScriptTemplate.objects.select_for_update().get(pk=template.pk)
    title, body = _clean_template(title=title, body=body, scenario=scenario, channel=channel,
                                  language=language)
    if ScriptTemplate.objects.filter(title=title, language=language).exclude(
            pk=template.pk).exists():
        raise ValidationError({"title": _("A script with this title already exists.")})
    template.title, template.body, template.scenario = title, body, scenario
    template.channel, template.language, template.is_active = channel, language, is_active
    save_with_history(template, actor=actor, reason="edit")
    if tags is not None:
        stamp_history(template, actor=actor, reason="tags")
        template.tags.set(tags_named(tags))
    return template


def script_render(*, template: ScriptTemplate, context: dict,
                  user: User | AnonymousUser | None = None) -> str:
    """Return the template's text with its placeholders filled, as plain text.

    Only known placeholder names are replaced, by the string value given; nothing is
    evaluated. The caller escapes the result when it puts it into HTML. With a user, the
    use is counted (for the template and for that user).
    """
    # Names are written in the script's language (王小美 in a Chinese script), whatever
    # language the agent's console speaks: the text goes to the customer.
    with translation.override(template.language):
        text = fill(template.body, context)
    if user is not None and user.is_authenticated:
        script_record_use(template=template, user=user)
    return text


@transaction.atomic
def script_record_use(*, template: ScriptTemplate, user: User) -> None:
    """Count one use of the template, overall and by this user."""
    # A counter, not an audited change: an UPDATE with F() keeps concurrent uses exact.
    ScriptTemplate.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1)
    now = timezone.now()
    updated = ScriptUsage.objects.filter(template=template, user=user).update(
        count=F("count") + 1, last_used_at=now)
    if not updated:
        _usage, created = ScriptUsage.objects.get_or_create(
            template=template, user=user, defaults={"count": 1, "last_used_at": now})
        if not created:
            ScriptUsage.objects.filter(template=template, user=user).update(
                count=F("count") + 1, last_used_at=now)


@transaction.atomic
def script_favourite_set(*, template: ScriptTemplate, user: User, favourite: bool) -> bool:
    """Add the template to the user's favourites, or take it out; return the new state."""
    if not user.has_perm("knowledge.view_scripttemplate"):
        raise PermissionDenied(_("You may not use script templates."))
    if favourite:
        ScriptFavourite.objects.get_or_create(template=template, user=user)
    else:
        ScriptFavourite.objects.filter(template=template, user=user).delete()
    return favourite


def _short_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def script_context_for_agent(*, agent: User) -> dict[str, Any]:
    """Return the placeholder values known without a ticket: the agent's name.

    The name is lazy: it is written when script_render fills a script, in that script's
    language's order (family name first in Chinese).
    """
    return {"agent_name": lazy(str, str)(agent)}


def script_context_for_ticket(*, ticket: Ticket, agent: User | None) -> dict[str, Any]:
    """Return the placeholder values for a ticket (strings, the agent's name lazy).

    `deadline` is the ticket's next due time (customer update, first response or
    resolution, whichever comes first), in the active language's short date-time format.
    """
    due_times = [when for when in (ticket.first_response_due_at if not ticket.first_response_at
                                   else None,
                                   ticket.next_update_due_at, ticket.resolution_due_at)
                 if when is not None]
    return {
        "customer_name": ticket.customer.name if ticket.customer_id else "",
        "order_number": ticket.order.number if ticket.order is not None else "",
        "ticket_number": ticket.number,
        "deadline": _short_datetime(min(due_times)) if due_times else "",
        **(script_context_for_agent(agent=agent) if agent is not None else {"agent_name": ""}),
        "shop_name": settings.KNOWLEDGE_SHOP_NAME or _("our shop"),
    }
