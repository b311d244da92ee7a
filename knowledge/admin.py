"""The knowledge base in Django admin: categories, tags, articles with history, scripts."""

from django.contrib import admin

from core.admin.history import ReadOnlyHistoryAdmin, ServiceWritesAdmin
from knowledge import services
from knowledge.models import Article, ArticleMedia, Category, ScriptTemplate, ScriptUsage, Tag


@admin.register(Category)
class CategoryAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "parent", "position"]
    list_filter = ["parent"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(ServiceWritesAdmin):
    search_fields = ["name"]


class ArticleMediaInline(admin.TabularInline):
    model = ArticleMedia
    extra = 0
    fields = ["kind", "url", "caption", "position"]


@admin.register(Article)
class ArticleAdmin(ReadOnlyHistoryAdmin):
    """Content edits only; reviews go through the console's review queue (state is read-only)."""

    list_display = ["title", "article_type", "language", "category", "state", "version",
                    "author", "last_reviewed_at", "updated_at"]
    list_filter = ["state", "article_type", "language", "category", "tags"]
    search_fields = ["title"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["state", "version", "author", "reviewed_by", "last_reviewed_at",
                       "published_at", "review_note", "created_at"]
    fields = ["title", "body", "article_type", "language", "category", "tags",
              *readonly_fields]
    inlines = [ArticleMediaInline]
    list_select_related = ["category", "author"]

    def save_model(self, request, obj, form, change):
        services.article_save_from_admin(article=obj, actor=request.user,
                                         changed=form.changed_data)


@admin.register(ScriptTemplate)
class ScriptTemplateAdmin(ReadOnlyHistoryAdmin):
    """Placeholders are checked by the model's clean(), which the admin form runs."""

    list_display = ["title", "scenario", "channel", "language", "is_active", "usage_count"]
    list_filter = ["scenario", "channel", "language", "is_active", "tags"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["usage_count", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        services.script_template_save_from_admin(template=obj, actor=request.user)


@admin.register(ScriptUsage)
class ScriptUsageAdmin(ServiceWritesAdmin):
    list_display = ["template", "user", "count", "last_used_at"]
    list_select_related = ["template", "user"]
    list_filter = ["template__scenario"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


