"""The knowledge base in Django admin: categories, tags, articles with history, scripts."""

from django.contrib import admin

from core.admin.history import ReadOnlyHistoryAdmin
from knowledge.models import (
    Article,
    ArticleMedia,
    Category,
    ScriptTemplate,
    ScriptUsage,
    Tag,
)


@admin.register(Category)
class CategoryAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "parent", "position"]
    list_filter = ["parent"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ArticleMediaInline(admin.TabularInline):
    model = ArticleMedia
    extra = 0
    fields = ["kind", "url", "caption", "position"]


@admin.register(Article)
class ArticleAdmin(ReadOnlyHistoryAdmin):
    """Content edits only; reviews go through the console's review queue (state is read-only)."""

    list_display = ["title", "article_type", "category", "state", "version", "author",
                    "last_reviewed_at", "updated_at"]
    list_filter = ["state", "article_type", "category", "tags"]
    search_fields = ["title"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["state", "version", "author", "reviewed_by", "last_reviewed_at",
                       "published_at", "review_note", "created_at"]
    fields = ["title", "body", "article_type", "category", "tags", *readonly_fields]
    inlines = [ArticleMediaInline]
    list_select_related = ["category", "author"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        elif {"title", "body", "article_type", "category"} & set(form.changed_data):
            obj.version += 1
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance._history_user = request.user
            instance._change_reason = "admin:edit"
            instance.save()
        for instance in formset.deleted_objects:
            instance._history_user = request.user
            instance._change_reason = "admin:delete"
            instance.delete()
        formset.save_m2m()


@admin.register(ScriptTemplate)
class ScriptTemplateAdmin(ReadOnlyHistoryAdmin):
    """Placeholders are checked by the model's clean(), which the admin form runs."""

    list_display = ["title", "scenario", "channel", "language", "is_active", "usage_count"]
    list_filter = ["scenario", "channel", "language", "is_active", "tags"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["usage_count", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ScriptUsage)
class ScriptUsageAdmin(admin.ModelAdmin):
    list_display = ["template", "user", "count", "last_used_at"]
    list_select_related = ["template", "user"]
    list_filter = ["template__scenario"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


