from django.contrib import admin
from import_export import fields, widgets
from import_export.admin import ImportExportMixin

from core.admin.history import ReadOnlyHistoryAdmin, ServiceImportResource
from core.admin.widgets import ChoiceListForm, ChoiceListWidget
from routing.models import AgentProfile, RoutingRule, Skill
from shop.models import CustomerTier
from tickets.models import (
    Category,
    Channel,
    RequestReason,
    Team,
)


class AgentProfileForm(ChoiceListForm):
    list_choices = {"skills": Skill.choices}

    class Meta:
        model = AgentProfile
        fields = ["user", "skills", "capacity", "is_available"]


@admin.register(AgentProfile)
class AgentProfileAdmin(ReadOnlyHistoryAdmin):
    form = AgentProfileForm
    list_display = ["user", "capacity", "is_available", "skills"]
    list_editable = ["capacity", "is_available"]
    list_filter = ["is_available"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]


class RoutingRuleForm(ChoiceListForm):
    list_choices = {"categories": Category.choices, "request_reasons": RequestReason.choices,
                    "channels": Channel.choices, "customer_tiers": CustomerTier.choices}

    class Meta:
        model = RoutingRule
        fields = ["name", "order", "is_active", "keywords", "categories", "request_reasons",
                  "channels", "customer_tiers", "set_category", "team", "required_skill",
                  "raise_priority_to"]


class RoutingRuleResource(ServiceImportResource):
    team = fields.Field(attribute="team", column_name="team",
                        widget=widgets.ForeignKeyWidget(Team, field="code"))

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "order", "is_active", "keywords", "categories",
                  "request_reasons", "channels", "customer_tiers", "set_category", "team",
                  "required_skill", "raise_priority_to"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("categories", "request_reasons", "channels", "customer_tiers"):
            self.fields[name] = fields.Field(attribute=name, column_name=name,
                                             widget=ChoiceListWidget())


@admin.register(RoutingRule)
class RoutingRuleAdmin(ImportExportMixin, ReadOnlyHistoryAdmin):
    resource_classes = [RoutingRuleResource]
    form = RoutingRuleForm
    list_display = ["order", "name", "keywords", "set_category", "team", "required_skill",
                    "raise_priority_to", "is_active"]
    list_display_links = ["order", "name"]
    list_filter = ["is_active", "team", "required_skill"]
    search_fields = ["name", "keywords"]
    ordering = ["order", "id"]
