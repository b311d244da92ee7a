"""Supervisors edit the rule table here: typed columns, validation, history, clone, import/export."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from import_export import fields
from import_export.admin import ImportExportMixin

from core.admin.history import ReadOnlyHistoryAdmin, ServiceImportResource
from core.admin.widgets import ChoiceListWidget
from policies.models import LIST_CHOICES, ApprovalLimit, PolicyRule
from policies.services import rules as services


class PolicyRuleResource(ServiceImportResource):
    """Rows keyed by id: an exported sheet re-imported updates the same rules."""

    class Meta:
        model = PolicyRule
        exclude = ["created_at"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True  # every imported row passes PolicyRule.clean()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in LIST_CHOICES:
            self.fields[name] = fields.Field(attribute=name, column_name=name,
                                             widget=ChoiceListWidget())


class PolicyRuleForm(forms.ModelForm):
    """List columns as checkboxes, so only known values can be chosen."""

    class Meta:
        model = PolicyRule
        fields = [field.name for field in PolicyRule._meta.concrete_fields
                  if field.editable and not field.primary_key]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in LIST_CHOICES.items():
            model_field = PolicyRule._meta.get_field(name)
            assert isinstance(model_field, models.Field)  # a column, not a reverse relation
            self.fields[name] = forms.MultipleChoiceField(
                label=model_field.verbose_name, help_text=model_field.help_text,
                choices=choices, required=False, widget=forms.CheckboxSelectMultiple,
            )


@admin.register(PolicyRule)
class PolicyRuleAdmin(ImportExportMixin, ReadOnlyHistoryAdmin):
    form = PolicyRuleForm
    resource_classes = [PolicyRuleResource]
    list_display = ["priority", "name_zh", "name", "kind", "verdict", "approval_role",
                    "payer", "auto_execute", "statutory", "is_active"]
    list_display_links = ["priority", "name_zh", "name"]
    list_filter = ["kind", "verdict", "is_active", "auto_execute", "statutory", "payer"]
    search_fields = ["name", "name_zh", "source"]
    ordering = ["priority", "id"]
    actions = ["clone_rules", "deactivate_rules"]
    fieldsets = [
        (None, {"fields": ["name_zh", "name", "kind", "priority", "is_active",
                           ("effective_from", "effective_to"), "source"]}),
        (_("When it applies (empty means any)"), {
            "description": _("Every filled condition must hold. Windows count from sign-off."),
            "fields": ["categories", "required_flags", "excluded_flags", "reasons",
                       "item_conditions", "order_stages", "customer_tiers", "evidence_any",
                       "evidence_absent", ("within_days", "after_days"),
                       ("within_hours", "after_hours"), "warranty",
                       ("min_order_amount", "max_order_amount"), "max_item_amount",
                       ("min_refunds_90d", "max_refunds_90d"),
                       ("min_disputes_90d", "max_disputes_90d"), "min_merchant_silent_hours",
                       "min_carrier_silent_hours", "sign_off_known", "claims_statutory"],
        }),
        (_("What it gives"), {
            "fields": ["verdict", "approval_role", "freight_payer", "payer", "refund_rule",
                       ("refund_percent", "refund_cap"),
                       ("compensation_percent", "compensation_base"),
                       ("compensation_min", "compensation_cap"),
                       "coupon_amount", "points", "warranty_extension_months", "auto_execute",
                       "statutory"],
        }),
    ]

    def has_delete_permission(self, request, obj=None):
        # Decisions cite rules; retire a rule by deactivating it so its history stays whole.
        return False

    @admin.action(description=_("Clone the selected rules (inactive copies)"),
                  permissions=["add"])
    def clone_rules(self, request, queryset):
        services.policy_rules_clone(rules=queryset, actor=request.user)
        self.message_user(request, _("Cloned %(count)d rules; the copies are inactive.")
                          % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Deactivate the selected rules"), permissions=["change"])
    def deactivate_rules(self, request, queryset):
        services.policy_rules_deactivate(rules=queryset.filter(is_active=True),
                                         actor=request.user)


class ApprovalLimitResource(ServiceImportResource):
    class Meta:
        model = ApprovalLimit
        import_id_fields = ["role"]
        fields = ["role", "max_amount", "note"]
        clean_model_instances = True


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(ImportExportMixin, ReadOnlyHistoryAdmin):
    resource_classes = [ApprovalLimitResource]
    list_display = ["role", "max_amount", "note"]
    search_fields = ["role", "note"]
    list_editable = ["max_amount"]
