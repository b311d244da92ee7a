from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets
from import_export.admin import ImportExportMixin
from simple_history.template_utils import HistoricalRecordContextHelper

from core.admin.history import ReadOnlyHistoryAdmin, ServiceImportResource, ServiceWritesAdmin
from core.services.exceptions import Conflict
from policies.admin import ChoiceListWidget
from shop.models import Customer, CustomerTier, Order, OrderItem, mask_contact
from tickets import (
    admin_outbox,  # noqa: F401 - registers the read-only outbox
    admin_supervision,  # noqa: F401 - QA reviews, incidents and legal holds
    services,
)
from tickets.models import (
    REVEAL_REASON_MAX_LENGTH,
    AgentProfile,
    Attachment,
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ContactReveal,
    Message,
    Resolution,
    RoutingRule,
    Skill,
    SlaPolicy,
    Survey,
    Tag,
    Team,
    Ticket,
)
from tickets.services import legal_holds, privacy


class CustomerAdminForm(forms.ModelForm):
    """The stored phone number is never put into the page: a new one may be typed instead."""

    new_phone = forms.RegexField(
        regex=r"^\+?[0-9\- ]{5,20}$", required=False, max_length=32,
        label=_("New phone number"),
        help_text=_("Leave blank to keep the number on file."),
        error_messages={"invalid": _("Enter a valid phone number.")},
    )

    class Meta:
        model = Customer
        fields = ["external_id", "name", "tier"]


class ContactRevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REVEAL_REASON_MAX_LENGTH,
        help_text=_("Why you need the full number. Your name, the time and this reason are "
                    "logged."))
    ticket = forms.CharField(label=_("For ticket (number, optional)"), required=False,
                             max_length=40)


class MaskedContactHistoryHelper(HistoricalRecordContextHelper):
    """Shows contact fields masked in the history page's "old → new" column."""

    def prepare_delta_change_value(self, change, value):
        return mask_contact(change.field, super().prepare_delta_change_value(change, value))


@admin.register(Customer)
class CustomerAdmin(ReadOnlyHistoryAdmin):
    form = CustomerAdminForm
    change_form_template = "admin/shop/customer/change_form.html"
    list_display = ["name", "external_id", "masked_phone_display", "tier", "created_at"]
    list_filter = ["tier"]
    # Finding a caller by the full number is fine: the number is typed, never shown.
    search_fields = ["name", "external_id", "=phone"]
    readonly_fields = ["masked_phone_display", "created_at", "updated_at"]

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone_display(self, obj: Customer) -> str:
        return obj.masked_phone or "—"

    def get_fields(self, request, obj=None):
        # The new-number input only where the user may change the customer; view-only pages
        # show every field read-only, and the stored number is no field at all.
        if obj is None:
            return ["external_id", "name", "new_phone", "tier"]
        editable = self.has_change_permission(request, obj)
        return [
            "external_id", "name", "masked_phone_display", *(["new_phone"] if editable else []),
            "tier", "created_at", "updated_at",
        ]

    def get_historical_record_context_helper(self, request, historical_record):
        return MaskedContactHistoryHelper(self.model, historical_record)

    def save_model(self, request, obj, form, change):
        new_phone = form.cleaned_data.get("new_phone", "").strip()
        if new_phone:
            obj.phone = new_phone
        super().save_model(request, obj, form, change)

    def get_urls(self):
        custom = [
            path("<int:pk>/reveal/", self.admin_site.admin_view(self.reveal_view),
                 name="shop_customer_reveal"),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_reveal_contact": privacy.can_reveal_contact(request.user),
                         "can_read_reveal_log": request.user.has_perm(
                             "tickets.view_contactreveal")}
        return super().change_view(request, object_id, form_url, extra_context)

    def reveal_view(self, request, pk):
        """Ask for a reason, then show this one customer's full number (logged)."""
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        if not privacy.can_reveal_contact(request.user):
            raise PermissionDenied
        form = ContactRevealForm(request.POST or None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            ticket = None
            number = form.cleaned_data["ticket"].strip()
            try:
                if number:
                    ticket = Ticket.objects.get(number=number)
                revealed = privacy.customer_contact_reveal(
                    actor=request.user, customer=customer, reason=form.cleaned_data["reason"],
                    ticket=ticket)
            except Ticket.DoesNotExist:
                form.add_error("ticket", _("No such ticket."))
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal contact details"),
            "opts": self.model._meta,
            "original": customer,
            "form": form,
            "revealed": revealed,
        }
        response = TemplateResponse(request, "admin/shop/customer/reveal.html", context,
                                    status=400 if form.errors else 200)
        # A revealed number must not linger in shared or browser caches.
        response["Cache-Control"] = "no-store"
        return response


@admin.register(ContactReveal)
class ContactRevealAdmin(admin.ModelAdmin):
    """The reveal log: read by QA and risk/legal, written only by the reveal service."""

    list_display = ["revealed_at", "revealed_by", "customer", "ticket", "reason"]
    list_filter = [("revealed_by", admin.RelatedOnlyFieldListFilter), "revealed_at"]
    list_select_related = ["revealed_by", "customer", "ticket"]
    search_fields = ["=customer__external_id", "customer__name", "=ticket__number",
                     "=revealed_by__username"]
    date_hierarchy = "revealed_at"
    raw_id_fields = ["customer", "ticket"]
    show_full_result_count = False
    fields = ["revealed_at", "revealed_by", "customer", "ticket", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = [
        "sku", "title", "category", "custom_made", "perishable", "digital", "hygiene_sealed",
        "unit_price", "quantity", "paid_amount", "warranty_months",
    ]


@admin.register(Order)
class OrderAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "number", "customer", "status", "paid_amount", "payment_channel", "paid_at", "signed_at",
        "carrier", "tracking_number",
    ]
    list_filter = ["status", "payment_channel", "carrier", "customer__tier"]
    list_select_related = ["customer"]
    search_fields = ["=number", "=tracking_number", "customer__name", "=customer__external_id"]
    raw_id_fields = ["customer"]
    date_hierarchy = "paid_at"
    inlines = [OrderItemInline]
    readonly_fields = ["created_at"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        # Frozen by a legal hold: shown read-only (the model guard refuses any write anyway).
        if obj is not None and legal_holds.is_held(order_id=obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and legal_holds.is_held(order_id=obj.pk):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "sku", "order", "category", "paid_amount", "quantity", "warranty_months"]
    list_filter = ["category", "custom_made", "perishable", "digital", "hygiene_sealed"]
    list_select_related = ["order"]
    search_fields = ["=sku", "title", "=order__number"]
    raw_id_fields = ["order"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        if obj is not None and legal_holds.is_held(order_id=obj.order_id):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and legal_holds.is_held(order_id=obj.order_id):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Team)
class TeamAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]


@admin.register(Tag)
class TagAdmin(ServiceWritesAdmin):
    search_fields = ["name"]


class ReadOnlyInline(admin.TabularInline):
    """The timeline is written by the services; admin only shows it."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "kind", "channel", "author", "body"]
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["created_at", "evidence_kind", "label", "content_type", "size", "uploaded_by"]
    readonly_fields = fields


class ResolutionInline(ReadOnlyInline):
    model = Resolution
    fields = ["created_at", "kind", "state", "refund_amount", "compensation_amount", "proposed_by"]
    readonly_fields = fields


# Only descriptive fields are edited in admin (through a service); the workflow moves by the
# transition buttons below the form.
TICKET_EDITABLE_FIELDS = ["subject", "description", "category", "ticket_type", "tags"]
TICKET_FIELDS = [
    "number", "state", "subject", "description", "ticket_type", "category", "tags",
    "channel", "priority", "complaint_level", "customer", "order", "order_item", "team",
    "assignee", "request_reason", "item_condition", "requested_resolution", "waiting_on",
    "resolution_summary", "cancel_reason", "merged_into", "created_by", "created_at",
    "first_response_due_at", "first_response_at", "resolution_due_at", "next_update_due_at",
    "paused_seconds", "resolved_at", "closed_at", "reopened_count",
]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "number", "subject", "state", "priority", "complaint_level", "team", "assignee",
        "customer", "created_at", "resolution_due_at", "legal_hold",
    ]
    list_filter = ["state", "priority", "complaint_level", "channel", "category", "ticket_type",
                   "team"]
    list_select_related = ["team", "assignee", "customer"]
    search_fields = ["=number", "subject", "customer__name", "=customer__external_id",
                     "=order__number"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    editable_fields = TICKET_EDITABLE_FIELDS
    fields = TICKET_FIELDS
    readonly_fields = [name for name in TICKET_FIELDS if name not in TICKET_EDITABLE_FIELDS]
    filter_horizontal = ["tags"]
    inlines = [MessageInline, AttachmentInline, ResolutionInline]

    def get_queryset(self, request):
        return legal_holds.with_legal_hold(super().get_queryset(request))

    @admin.display(description=_("legal hold"), boolean=True, ordering="on_legal_hold")
    def legal_hold(self, obj) -> bool:
        return obj.on_legal_hold

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        if ticket is not None and ticket.on_legal_hold:
            self.message_user(request, _("Under a legal hold: the order data and resolutions of "
                                         "this ticket are frozen."), messages.WARNING)
        return self._change_view_with_transitions(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return False  # tickets come in through intake (channels, the console), numbered

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail must survive; duplicates are merged, spam cancelled

    def get_urls(self):
        custom = [
            path("<int:pk>/transition/", self.admin_site.admin_view(self.transition_view),
                 name="tickets_ticket_transition"),
        ]
        return custom + super().get_urls()

    def _change_view_with_transitions(self, request, object_id, form_url="",
                                      extra_context=None):
        extra_context = extra_context or {}
        ticket = self.get_object(request, object_id)
        if ticket is not None:
            extra_context.update({
                "ticket_transitions": services.ticket_available_transitions(
                    ticket=ticket, user=request.user),
                "cancel_reasons": CancelReason.choices,
                "collaborators": Collaborator.choices,
            })
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data
                   if name in self.editable_fields and name != "tags"}
        if changes:
            services.ticket_update_details(ticket=obj, actor=request.user, reason="admin:edit",
                                           **changes)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)  # read-only: writes nothing
        if "tags" in form.changed_data:
            services.ticket_update_details(ticket=form.instance, actor=request.user,
                                           reason="admin:tags", tags=form.cleaned_data["tags"])

    def transition_view(self, request, pk):
        """Take a transition from the admin through the same service as everyone else."""
        if request.method != "POST":
            return redirect(reverse("admin:tickets_ticket_change", args=[pk]))
        ticket = get_object_or_404(Ticket, pk=pk)
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        name = request.POST.get("name", "")
        params = {key: request.POST[key].strip() for key in ("summary", "reason", "waiting_on")
                  if request.POST.get(key, "").strip()}
        try:
            if request.POST.get("assignee", "").strip():
                params["assignee"] = get_user_model().objects.get(
                    username=request.POST["assignee"].strip(), is_active=True)
            if request.POST.get("merged_into", "").strip():
                params["merged_into"] = Ticket.objects.get(number=request.POST["merged_into"].strip())
            services.ticket_transition(ticket=ticket, actor=request.user, name=name,
                                       comment=request.POST.get("comment", ""), **params)
        except (get_user_model().DoesNotExist, Ticket.DoesNotExist):
            self.message_user(request, _("No such user or ticket."), messages.ERROR)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        except (PermissionDenied, Conflict) as error:
            self.message_user(request, str(error) or _("You may not do that."), messages.ERROR)
        else:
            self.message_user(request, _("Done: %(state)s.") % {"state": ticket.get_state_display()},
                              messages.SUCCESS)
        return redirect(reverse("admin:tickets_ticket_change", args=[pk]))


class ChoiceListForm(forms.ModelForm):
    """Edit JSON list columns as checkboxes of their choices."""

    list_choices: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in self.list_choices.items():
            model_field = self._meta.model._meta.get_field(name)
            self.fields[name] = forms.MultipleChoiceField(
                label=model_field.verbose_name, help_text=model_field.help_text, choices=choices,
                required=False, widget=forms.CheckboxSelectMultiple)


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
    list_choices = {"categories": Category.choices, "channels": Channel.choices,
                    "customer_tiers": CustomerTier.choices}

    class Meta:
        model = RoutingRule
        fields = ["name", "order", "is_active", "keywords", "categories", "channels",
                  "customer_tiers", "set_category", "team", "required_skill",
                  "raise_priority_to"]


class RoutingRuleResource(ServiceImportResource):
    team = fields.Field(attribute="team", column_name="team",
                        widget=widgets.ForeignKeyWidget(Team, field="code"))

    class Meta:
        model = RoutingRule
        fields = ["id", "name", "order", "is_active", "keywords", "categories", "channels",
                  "customer_tiers", "set_category", "team", "required_skill",
                  "raise_priority_to"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("categories", "channels", "customer_tiers"):
            self.fields[name] = fields.Field(attribute=name, column_name=name,
                                             widget=ChoiceListWidget())


class SlaPolicyResource(ServiceImportResource):
    """One row per priority and complaint level, which is also the row's key."""

    class Meta:
        model = SlaPolicy
        import_id_fields = ["priority", "complaint_level"]
        fields = ["priority", "complaint_level", "first_response_minutes", "resolution_minutes",
                  "update_interval_minutes", "escalate_after_minutes", "clock", "work_starts",
                  "work_ends", "source"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


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


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ImportExportMixin, ReadOnlyHistoryAdmin):
    resource_classes = [SlaPolicyResource]
    list_display = ["__str__", "first_response_minutes", "resolution_minutes",
                    "update_interval_minutes", "escalate_after_minutes", "clock"]
    list_filter = ["priority", "complaint_level", "clock"]
    search_fields = ["source"]
    ordering = ["priority", "complaint_level"]


@admin.register(Survey)
class SurveyAdmin(ServiceWritesAdmin):
    """Answers are the customers' own words: read, never edited."""

    list_display = ["ticket", "sent_at", "answered_at", "csat", "speed", "attitude",
                    "expertise", "nps"]
    list_filter = ["csat", "nps"]
    search_fields = ["=ticket__number"]
    list_select_related = ["ticket"]
    exclude = ["token"]
    readonly_fields = ["ticket", "sent_at", "expires_at", "answered_at", "csat", "speed",
                       "attitude", "expertise", "nps", "comment"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
