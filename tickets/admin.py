from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from core.admin.history import ReadOnlyHistoryAdmin, ServiceRefusalsAsMessages, ServiceWritesAdmin
from core.services.exceptions import Conflict
from shop.models import Order, OrderItem
from tickets import selectors, services
from tickets.models import (
    Attachment,
    CancelReason,
    Collaborator,
    LegalHold,
    Message,
    Tag,
    Team,
    Ticket,
)
from tickets.services import legal_holds


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
    fields = readonly_fields = ("created_at", "kind", "channel", "author", "body")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = readonly_fields = (
        "created_at", "evidence_kind", "label", "content_type", "size", "uploaded_by")




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
    inlines = [MessageInline, AttachmentInline]  # resolutions/admin.py adds its own

    def get_queryset(self, request):
        return selectors.with_legal_hold(super().get_queryset(request))

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




















@admin.register(LegalHold)
class LegalHoldAdmin(ServiceRefusalsAsMessages, ReadOnlyHistoryAdmin):
    """Place a hold by adding one; release it by giving a reason for release."""

    list_display = ["ticket", "placed_by", "placed_at", "is_active_display", "released_by",
                    "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "placed_by"]
    search_fields = ["=ticket__number", "reason", "=ticket__order__number"]
    list_select_related = ["ticket", "placed_by", "released_by"]
    raw_id_fields = ["ticket"]
    date_hierarchy = "placed_at"

    @admin.display(description=_("active"), boolean=True)
    def is_active_display(self, obj) -> bool:
        return obj.is_active

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["ticket", "reason"]
        return ["ticket", "reason", "placed_by", "placed_at", "released_by", "released_at",
                "release_reason"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        frozen = ["ticket", "reason", "placed_by", "placed_at", "released_by", "released_at"]
        return frozen if obj.is_active else [*frozen, "release_reason"]

    def save_model(self, request, obj, form, change):
        if not change:
            hold = legal_holds.legal_hold_place(ticket=obj.ticket, actor=request.user,
                                                reason=obj.reason)
            obj.pk = hold.pk
        elif "release_reason" in form.changed_data:
            legal_holds.legal_hold_release(hold=obj, actor=request.user,
                                           reason=form.cleaned_data["release_reason"])

    def has_delete_permission(self, request, obj=None):
        return False  # a hold is evidence too: released, never deleted


# The shop's orders are edited here, beside the tickets about them: a legal hold on a ticket
# makes its order read-only.
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
        if obj is not None and selectors.is_held(order_id=obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and selectors.is_held(order_id=obj.pk):
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
        if obj is not None and selectors.is_held(order_id=obj.order_id):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and selectors.is_held(order_id=obj.order_id):
            return False
        return super().has_delete_permission(request, obj)
