"""API representations of articles, search hits and script templates."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import NON_BLANK_TEXT, request_variants
from knowledge.models import (
    Article,
    ArticleLanguage,
    ArticleType,
    Category,
    ScriptScenario,
    ScriptTemplate,
    Tag,
)
from knowledge.models.placeholders import PLACEHOLDERS
from knowledge.views.rendering import render_markdown
from tickets.models.choices import Channel

ARTICLE_TRANSITIONS = ["submit", "publish", "reject", "archive", "restore"]


class ArticleHitSerializer(serializers.ModelSerializer):
    category = serializers.StringRelatedField[Category]()
    tags = serializers.StringRelatedField[Tag](many=True)
    snippet = serializers.CharField(help_text="Escaped HTML: the matches are wrapped in <mark>.")
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Article
        fields = ["id", "title", "article_type", "category", "tags", "snippet", "url",
                  "updated_at"]


class SearchResultSerializer(serializers.Serializer):
    results = ArticleHitSerializer(many=True)
    has_more = serializers.BooleanField()


class SuggestionSerializer(serializers.ModelSerializer):
    snippet = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Article
        fields = ["id", "title", "article_type", "snippet", "url"]


class ArticleSerializer(serializers.ModelSerializer):
    tags = serializers.StringRelatedField[Tag](many=True)
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "title", "body", "body_html", "article_type", "language", "category",
                  "tags",
                  "state", "version", "author", "reviewed_by", "review_note",
                  "last_reviewed_at", "published_at", "is_stale", "created_at", "updated_at"]

    def get_body_html(self, article) -> str:

        return str(render_markdown(article.body))


class ArticleInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=100_000)
    article_type = serializers.ChoiceField(choices=ArticleType.choices, default=ArticleType.FAQ)
    # Optional: a new article is in Simplified Chinese, an edit keeps the article's language.
    language = serializers.ChoiceField(choices=ArticleLanguage.choices, required=False)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(),
                                                  allow_null=True, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class ArticleTransitionInSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=ARTICLE_TRANSITIONS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


_NOTE = {"type": "string", "maxLength": 2000}
# A rejection says what needs to change; the other transitions take an optional note.
ARTICLE_TRANSITION_REQUEST = request_variants(
    {"name": {"type": "string", "enum": ARTICLE_TRANSITIONS}, "note": _NOTE},
    [
        ({"name": {"type": "string", "enum": ["reject"]},
          "note": {**_NOTE, "minLength": 1, "pattern": NON_BLANK_TEXT}}, ["name", "note"]),
        ({"name": {"type": "string", "enum": [n for n in ARTICLE_TRANSITIONS if n != "reject"]}},
         ["name"]),
    ],
)


class ScriptTemplateSerializer(serializers.ModelSerializer):
    tags = serializers.StringRelatedField[Tag](many=True)
    is_favourite = serializers.BooleanField(read_only=True)

    class Meta:
        model = ScriptTemplate
        fields = ["id", "title", "scenario", "channel", "language", "body", "tags",
                  "is_active", "usage_count", "is_favourite"]


class ScriptListQuerySerializer(serializers.Serializer):
    # Blank is no filter, as an empty select in a form sends it.
    scenario = serializers.ChoiceField(choices=ScriptScenario.choices, required=False,
                                       allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)


@extend_schema_field({
    "type": "object",
    "properties": {name: {"type": "string", "maxLength": 500} for name in PLACEHOLDERS},
    "additionalProperties": False,
})
class PlaceholderValuesField(serializers.DictField):
    """Values by placeholder name; a name that is no placeholder is refused."""

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        unknown = sorted(set(values) - set(PLACEHOLDERS))
        if unknown:
            raise serializers.ValidationError(
                _("No such placeholder: %(names)s.") % {"names": ", ".join(unknown)[:200]})
        return values


class ScriptRenderInSerializer(serializers.Serializer):
    ticket = serializers.CharField(required=False, max_length=24,
                                   help_text="Fill the placeholders from this ticket.")
    # The metaclass takes declared fields out of the class, so this field does not replace
    # Field.context at run time; the stubs cannot know that.
    context = PlaceholderValuesField(  # type: ignore[assignment]
        child=serializers.CharField(allow_blank=True, max_length=500), required=False,
        help_text="Values for placeholders; they override the ticket's. Known names: "
                  + ", ".join(PLACEHOLDERS),
    )


class ScriptRenderOutSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="Plain text; escape it before putting it in HTML.")
