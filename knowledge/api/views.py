"""REST API of the knowledge base: search, suggestions, articles and script templates."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import NON_BLANK_TEXT, WHOLE_NUMBER
from knowledge import selectors, services
from knowledge.api.serializers import (
    ARTICLE_TRANSITION_REQUEST,
    ArticleHitSerializer,
    ArticleInSerializer,
    ArticleSerializer,
    ArticleTransitionInSerializer,
    ScriptListQuerySerializer,
    ScriptRenderInSerializer,
    ScriptRenderOutSerializer,
    ScriptTemplateSerializer,
    SearchResultSerializer,
    SuggestionSerializer,
)
from knowledge.models import ArticleLanguage, ArticleType
from knowledge.models.placeholders import PLACEHOLDERS
from tickets.selectors import ticket_get_for_user

MAX_LIMIT = 50


def _int_param(request, name: str, *, default: int | None = None, maximum: int | None = None):
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdecimal():  # what int() reads: "²" is a digit, not a number
        raise ValidationError({name: [_("Give a whole number.")]})
    value = int(raw)
    return min(value, maximum) if maximum else value


def _require_reader(user) -> None:
    if not selectors.can_read_knowledge(user):
        raise PermissionDenied


class SearchView(APIView):
    throttle_scope = "search"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description='Words (AND), OR, NOT or -word, "phrases", '
                                                   "prefix*; Traditional or Simplified."),
            OpenApiParameter("category", WHOLE_NUMBER,
                             description="A category and those below it."),
            OpenApiParameter("tag", WHOLE_NUMBER),
            OpenApiParameter("type", str, enum=ArticleType.values),
            OpenApiParameter("language", str, enum=["", *ArticleLanguage.values]),
            OpenApiParameter("limit", WHOLE_NUMBER, description=f"At most {MAX_LIMIT}."),
            OpenApiParameter("offset", WHOLE_NUMBER),
        ],
        responses=SearchResultSerializer,
    )
    def get(self, request):
        """Search published articles, best match first, with highlighted snippets."""
        _require_reader(request.user)
        article_type = request.query_params.get("type") or None
        if article_type and article_type not in ArticleType.values:
            raise ValidationError({"type": [_("Use one of: %(values)s.")
                                           % {"values": ", ".join(ArticleType.values)}]})
        language = request.query_params.get("language") or None
        if language and language not in ArticleLanguage.values:
            raise ValidationError({"language": [_("Use one of: %(values)s.")
                                               % {"values": ", ".join(ArticleLanguage.values)}]})
        result = selectors.article_search(
            user=request.user, q=request.query_params.get("q", ""),
            category=_int_param(request, "category"), tag=_int_param(request, "tag"),
            article_type=article_type, language=language,
            limit=_int_param(request, "limit", default=20, maximum=MAX_LIMIT) or 20,
            offset=_int_param(request, "offset", default=0),
        )
        return Response({
            "results": ArticleHitSerializer(result.articles, many=True).data,
            "has_more": result.has_more,
        })


class SuggestionsView(APIView):
    throttle_scope = "search"

    @extend_schema(parameters=[OpenApiParameter("ticket", str, required=True, pattern=NON_BLANK_TEXT)],
                   # 404: the ticket named does not exist or is not yours to read.
                   responses={200: SuggestionSerializer(many=True), 404: None})
    def get(self, request):
        """Return the published articles most relevant to a ticket you may read."""
        _require_reader(request.user)
        number = request.query_params.get("ticket", "").strip()
        if not number:
            raise ValidationError({"ticket": [_("Name a ticket number.")]})
        ticket = ticket_get_for_user(user=request.user, number=number)
        articles = selectors.article_suggestions_for_ticket(ticket=ticket, user=request.user)
        return Response(SuggestionSerializer(articles, many=True).data)


class ArticleCreateView(APIView):
    @extend_schema(request=ArticleInSerializer, responses={201: ArticleSerializer})
    def post(self, request):
        """Write a draft article (every role that may write one)."""
        serializer = ArticleInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = services.article_create(actor=request.user, **serializer.validated_data)
        article = selectors.article_get_for_user(user=request.user, pk=article.pk)
        return Response(ArticleSerializer(article).data, status=status.HTTP_201_CREATED)


class ArticleDetailView(APIView):
    @extend_schema(responses=ArticleSerializer)
    def get(self, request, pk: int):
        """Return one article you may read, with its text rendered as safe HTML."""
        _require_reader(request.user)
        return Response(ArticleSerializer(
            selectors.article_get_for_user(user=request.user, pk=pk)).data)

    @extend_schema(request=ArticleInSerializer, responses=ArticleSerializer)
    def put(self, request, pk: int):
        """Save a new version: authors their drafts, QA and supervisors any article."""
        article = selectors.article_get_for_user(user=request.user, pk=pk)
        serializer = ArticleInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.article_update(
            article=article, actor=request.user, title=data["title"], body=data["body"],
            article_type=data["article_type"], category=data.get("category"),
            tags=data.get("tags"), language=data.get("language"),
        )
        return Response(ArticleSerializer(
            selectors.article_get_for_user(user=request.user, pk=pk)).data)


class ArticleTransitionView(APIView):
    @extend_schema(request={"application/json": ARTICLE_TRANSITION_REQUEST},
                   responses=ArticleSerializer)
    def post(self, request, pk: int):
        """Submit, publish, reject, archive or restore: 403 if your role may not, 409 if the
        state does not allow it."""
        article = selectors.article_get_for_user(user=request.user, pk=pk)
        serializer = ArticleTransitionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name, note = serializer.validated_data["name"], serializer.validated_data.get("note", "")
        if name == "publish":
            services.article_publish(article=article, actor=request.user, note=note)
        elif name == "reject":
            services.article_reject(article=article, actor=request.user, note=note)
        else:
            getattr(services, f"article_{name}")(article=article, actor=request.user)
        return Response(ArticleSerializer(
            selectors.article_get_for_user(user=request.user, pk=pk)).data)


class ScriptListView(APIView):
    @extend_schema(parameters=[ScriptListQuerySerializer],
                   responses=ScriptTemplateSerializer(many=True))
    def get(self, request):
        """List the active script templates: your favourites first, then the most used."""
        query = ScriptListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        templates = selectors.script_template_list(user=request.user, **query.validated_data)
        return Response(ScriptTemplateSerializer(templates, many=True).data)


class ScriptRenderView(APIView):
    @extend_schema(request=ScriptRenderInSerializer, responses=ScriptRenderOutSerializer)
    def post(self, request, pk: int):
        """Fill a script's placeholders from a ticket and/or given values; counts one use."""
        template = selectors.script_template_get(user=request.user, pk=pk)
        serializer = ScriptRenderInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        context: dict[str, str] = {}
        number = serializer.validated_data.get("ticket")
        if number:
            ticket = ticket_get_for_user(user=request.user, number=number)
            context = services.script_context_for_ticket(ticket=ticket, agent=request.user)
        given = serializer.validated_data.get("context", {})
        unknown = sorted(set(given) - set(PLACEHOLDERS))
        if unknown:
            raise ValidationError({"context": [_("Unknown placeholders: %(names)s.")
                                              % {"names": ", ".join(unknown)}]})
        context.update(given)
        text = services.script_render(template=template, context=context, user=request.user)
        return Response({"text": text})


class ScriptFavouriteView(APIView):
    @extend_schema(request=None, responses={204: None})
    def put(self, request, pk: int):
        """Add the script to your favourites."""
        template = selectors.script_template_get(user=request.user, pk=pk)
        services.script_favourite_set(template=template, user=request.user, favourite=True)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int):
        """Take the script out of your favourites."""
        template = get_object_or_404(selectors.script_template_list(user=request.user), pk=pk)
        services.script_favourite_set(template=template, user=request.user, favourite=False)
        return Response(status=status.HTTP_204_NO_CONTENT)
