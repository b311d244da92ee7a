"""The knowledge base (知识库): articles under review, and script templates (话术)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.models.labels import LabelledName
from knowledge.models.placeholders import check_placeholders
from knowledge.models.text import SEARCH_VERSION, index_tokens
from tickets.models.choices import Channel

PUBLISH_PERMISSION = "knowledge.publish_article"


class Category(models.Model):
    """A node of the category tree (售后政策 › 退款, ...)."""

    name = models.CharField(_("name"), max_length=80)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent category"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    # Supervisors and QA rearrange the tree in admin; history shows who moved what.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="kb_category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot sit below itself.")})
            ancestor = ancestor.parent


class Tag(LabelledName):
    """A keyword tag tuned to frequent questions; shared by articles and script templates."""

    class Meta:
        verbose_name = _("knowledge tag")
        verbose_name_plural = _("knowledge tags")
        ordering = ["name"]


class ArticleType(models.TextChoices):
    FAQ = "faq", _("FAQ")
    POLICY = "policy", pgettext_lazy("article type", "Policy")
    CASE = "case", pgettext_lazy("article type", "Case")
    TUTORIAL = "tutorial", _("Tutorial")


class ArticleLanguage(models.TextChoices):
    """The language an article is written in (Traditional Chinese too, unlike the console)."""

    SIMPLIFIED_CHINESE = "zh-hans", _("Simplified Chinese")
    TRADITIONAL_CHINESE = "zh-hant", _("Traditional Chinese")
    ENGLISH = "en", _("English")


class ArticleState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("article state", "Draft")
    IN_REVIEW = "in_review", pgettext_lazy("article state", "In review")
    PUBLISHED = "published", pgettext_lazy("article state", "Published")
    ARCHIVED = "archived", pgettext_lazy("article state", "Archived")


def may_publish(article: "Article | None", user) -> bool:
    """QA inspectors and supervisors approve; agents never publish (whatever the article:
    None asks whether the user may publish at all)."""
    return user.has_perm(PUBLISH_PERMISSION)


def may_submit(article: "Article", user) -> bool:
    """The author submits a draft; reviewers may submit anyone's."""
    return article.author_id == user.pk or may_publish(article, user)


class Article(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    article_type = models.CharField(
        _("type"), max_length=12, choices=ArticleType.choices, default=ArticleType.FAQ
    )
    category = models.ForeignKey(
        Category, models.PROTECT, null=True, blank=True, related_name="articles",
        verbose_name=_("category"),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=ArticleLanguage.choices,
        default=ArticleLanguage.SIMPLIFIED_CHINESE,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles", verbose_name=_("tags"))
    state = FSMField(
        _("state"), max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT,
        protected=True,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="knowledge_articles",
        verbose_name=_("author"),
    )
    # Counts content revisions; every one is kept in the history with its diff.
    version = models.PositiveIntegerField(_("version"), default=1)
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="reviewed_articles", verbose_name=_("last reviewed by"),
    )
    last_reviewed_at = models.DateTimeField(_("last reviewed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # The folded, tokenised text the full-text indexes are built on (see knowledge.models.text).
    search_title = models.TextField(_("title tokens"), blank=True, editable=False)
    search_body = models.TextField(_("body tokens"), blank=True, editable=False)
    search_version = models.PositiveSmallIntegerField(
        _("tokeniser version"), default=0, editable=False
    )

    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_title", "search_body", "search_version"],
        m2m_fields=[tags],
    )

    # Set on search hits by knowledge.selectors: an excerpt with the matches marked.
    snippet: str

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at"]
        permissions = [("publish_article", _("Can approve, publish and archive articles"))]
        indexes = [
            models.Index(fields=["state", "-updated_at"], name="kb_article_state_idx"),
            models.Index(fields=["state", "last_reviewed_at"], name="kb_article_reviewed_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.update_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"title", "body"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_title", "search_body",
                                       "search_version"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("knowledge:article", args=[self.pk])

    def update_search_fields(self) -> None:
        """Recompute the token columns from the title and body."""
        self.search_title = index_tokens(self.title)
        self.search_body = index_tokens(self.body)
        self.search_version = SEARCH_VERSION

    @property
    def is_stale(self) -> bool:
        """Return True if a published article has not been reviewed for too long."""
        if self.state != ArticleState.PUBLISHED:
            return False
        reviewed = self.last_reviewed_at or self.published_at
        return reviewed is None or reviewed < stale_cutoff()

    # Transitions change fields on self only; knowledge.services calls and saves them.
    # django-fsm-2 types `permission` as a callable taking any Model, so checks of one
    # model's rows do not fit its annotation (here and below).
    @transition(field=state, source=ArticleState.DRAFT, target=ArticleState.IN_REVIEW,
                permission=may_submit)  # type: ignore[arg-type]
    def submit(self) -> None:
        self.review_note = ""

    @transition(field=state, source=ArticleState.IN_REVIEW, target=ArticleState.PUBLISHED,
                permission=may_publish)  # type: ignore[arg-type]
    def publish(self, *, reviewer, note: str = "") -> None:
        now = timezone.now()
        self.published_at = now
        self.last_reviewed_at = now
        self.reviewed_by = reviewer
        self.review_note = note

    @transition(field=state, source=ArticleState.IN_REVIEW, target=ArticleState.DRAFT,
                permission=may_publish)  # type: ignore[arg-type]
    def reject(self, *, reviewer, note: str) -> None:
        self.reviewed_by = reviewer
        self.review_note = note

    @transition(field=state, source=[ArticleState.DRAFT, ArticleState.PUBLISHED],
                target=ArticleState.ARCHIVED, permission=may_publish)  # type: ignore[arg-type]
    def archive(self) -> None:
        pass

    @transition(field=state, source=ArticleState.ARCHIVED, target=ArticleState.DRAFT,
                permission=may_publish)  # type: ignore[arg-type]
    def restore(self) -> None:
        pass


def stale_cutoff():
    """Return the moment before which a review counts as stale."""
    return timezone.now() - timedelta(days=settings.KNOWLEDGE_STALE_AFTER_DAYS)


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video link")


class ArticleMedia(models.Model):
    """A picture or a video tutorial shown with an article."""

    article = models.ForeignKey(
        Article, models.CASCADE, related_name="media", verbose_name=_("article")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=MediaKind.choices)
    url = models.URLField(
        _("address"), max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("article media")
        verbose_name_plural = _("article media")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.caption or self.url


class ScriptScenario(models.TextChoices):
    GREETING = "greeting", _("Greeting")
    EMPATHY = "empathy", _("Empathy (understand – confirm – solve)")
    RESTATE = "restate", _("Restating the problem")
    APOLOGY = "apology", _("Apology")
    ESCALATION = "escalation", _("Escalation promise")
    REFUND = "refund", _("Refund explanation")
    RETURN = "return", _("Return explanation")
    LOGISTICS = "logistics", _("Logistics explanation")
    CLOSING = "closing", _("Closing")


class ScriptTemplate(models.Model):
    """A script (话术) an agent pastes into a reply, with {placeholders} filled in."""

    title = models.CharField(_("title"), max_length=120)
    scenario = models.CharField(_("scenario"), max_length=12, choices=ScriptScenario.choices)
    # Blank: fits every channel.
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders in braces, for example {customer_name} or {order_number}."),
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="script_templates", verbose_name=_("tags")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # A counter, not content: kept out of the history so each use does not write a version.
    usage_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="script_templates", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "usage_count"], m2m_fields=[tags])

    # Set by the script library page: the body filled for the chosen ticket (a preview).
    filled: str
    # Set by the ticket workspace's script picker: the scenario's translated name.
    scenario_label: str

    class Meta:
        verbose_name = _("script template")
        verbose_name_plural = _("script templates")
        ordering = ["scenario", "title"]
        constraints = [
            models.UniqueConstraint(fields=["title", "language"], name="kb_script_unique_title"),
        ]
        indexes = [
            models.Index(fields=["is_active", "scenario", "language"], name="kb_script_list_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        check_placeholders(self.body, field="body")


class ScriptFavourite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="script_favourites",
        verbose_name=_("user"),
    )
    template = models.ForeignKey(
        ScriptTemplate, models.CASCADE, related_name="favourites", verbose_name=_("script template")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("favourite script")
        verbose_name_plural = _("favourite scripts")
        constraints = [
            models.UniqueConstraint(fields=["user", "template"], name="kb_favourite_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.template}"


class ScriptUsage(models.Model):
    """How often one agent has used one script template."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="script_usages",
        verbose_name=_("user"),
    )
    template = models.ForeignKey(
        ScriptTemplate, models.CASCADE, related_name="usages", verbose_name=_("script template")
    )
    count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)

    class Meta:
        verbose_name = _("script usage")
        verbose_name_plural = _("script usages")
        constraints = [
            models.UniqueConstraint(fields=["user", "template"], name="kb_usage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.template} × {self.count}"
