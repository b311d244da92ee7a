from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from tickets.models import Customer, Order, OrderItem, Team


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "external_id", "masked_phone_display", "tier", "created_at"]
    list_filter = ["tier"]
    search_fields = ["name", "external_id", "=phone"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone_display(self, obj: Customer) -> str:
        return obj.masked_phone


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = [
        "sku", "title", "category", "custom_made", "perishable", "digital", "hygiene_sealed",
        "unit_price", "quantity", "paid_amount", "warranty_months",
    ]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
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


@admin.register(OrderItem)
class OrderItemAdmin(SimpleHistoryAdmin):
    list_display = ["title", "sku", "order", "category", "paid_amount", "quantity", "warranty_months"]
    list_filter = ["category", "custom_made", "perishable", "digital", "hygiene_sealed"]
    list_select_related = ["order"]
    search_fields = ["=sku", "title", "=order__number"]
    raw_id_fields = ["order"]
    show_full_result_count = False


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]
