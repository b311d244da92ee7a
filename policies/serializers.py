"""The facts of a case as JSON, for the evaluate endpoint and the simulator."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from policies import engine
from policies.models import PolicyItemFlag
from policies.services.facts import build_facts
from shop.models import CustomerTier, ProductCategory
from tickets.models import EvidenceKind, ItemCondition, RequestReason

# Bounds well past any real case, so an absurd count answers 400 instead of reaching the engine.
MAX_QUANTITY = 10_000
MAX_WARRANTY_DAYS = 100 * 366
MAX_CASES_90D = 10_000
# How far a client's clock may run ahead of ours before a time counts as "in the future".
CLOCK_SKEW = timedelta(minutes=5)


class OrderFactsSerializer(serializers.Serializer):
    paid_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True)
    signed_at = serializers.DateTimeField(required=False, allow_null=True)
    promised_delivery_at = serializers.DateTimeField(required=False, allow_null=True)
    customer_tier = serializers.ChoiceField(choices=CustomerTier.choices,
                                            default=CustomerTier.NORMAL)

    def validate(self, data):
        order = [("paid_at", data.get("paid_at")), ("shipped_at", data.get("shipped_at")),
                 ("signed_at", data.get("signed_at"))]
        known = [(name, value) for name, value in order if value is not None]
        for (earlier, first), (later, second) in itertools.pairwise(known):
            if second < first:
                raise serializers.ValidationError(
                    {later: _("Cannot be before %(field)s.") % {"field": earlier}})
        return data


class ItemFactsSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ProductCategory.choices)
    flags = serializers.ListField(child=serializers.ChoiceField(choices=PolicyItemFlag.choices),
                                  required=False, default=list)
    paid_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    already_refunded = serializers.DecimalField(max_digits=12, decimal_places=2,
                                                min_value=Decimal("0"), default=Decimal("0.00"))
    warranty_days = serializers.IntegerField(min_value=0, max_value=MAX_WARRANTY_DAYS,
                                             required=False, allow_null=True)
    assessed_damage = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False,
        allow_null=True,
        help_text=_("The damage valued by repair cost or depreciation, where it was assessed."))

    def validate(self, data):
        if data["already_refunded"] > data["paid_amount"]:
            raise serializers.ValidationError(
                {"already_refunded": _("Cannot exceed the item's paid amount.")})
        if data.get("assessed_damage") is not None \
                and data["assessed_damage"] > data["paid_amount"]:
            raise serializers.ValidationError(
                {"assessed_damage": _("Cannot exceed the item's paid amount.")})
        return data


class HistoryFactsSerializer(serializers.Serializer):
    refunds_90d = serializers.IntegerField(min_value=0, max_value=MAX_CASES_90D, default=0)
    disputes_90d = serializers.IntegerField(min_value=0, max_value=MAX_CASES_90D, default=0)


class FactsSerializer(serializers.Serializer):
    order = OrderFactsSerializer()
    item = ItemFactsSerializer()
    reason = serializers.ChoiceField(choices=RequestReason.choices)
    item_condition = serializers.ChoiceField(choices=ItemCondition.choices, required=False,
                                             allow_blank=True, default="")
    evidence = serializers.ListField(child=serializers.ChoiceField(choices=EvidenceKind.choices),
                                     required=False, default=list)
    customer_history = HistoryFactsSerializer(required=False)
    merchant_silent_hours = serializers.DecimalField(max_digits=8, decimal_places=2,
                                                     min_value=Decimal("0"), default=Decimal("0"))
    carrier_silent_hours = serializers.DecimalField(max_digits=8, decimal_places=2,
                                                    min_value=Decimal("0"), default=Decimal("0"))
    claims_statutory = serializers.BooleanField(default=False)
    at = serializers.DateTimeField(required=False)

    def validate(self, data):
        """Refuse a case that cannot be real: an item paid more than its order, or times ahead
        of the moment of the decision (which would silently leave the order unsigned)."""
        now = timezone.now()
        at = data.get("at")
        if at is not None and at > now + CLOCK_SKEW:
            raise serializers.ValidationError(
                {"at": _("Cannot be in the future: decisions are made now or replayed.")})
        moment = at or now
        order, item = data["order"], data["item"]
        errors = {}
        for name in ("paid_at", "shipped_at", "signed_at"):
            value = order.get(name)
            if value is not None and value > moment + CLOCK_SKEW:
                errors[name] = _("Cannot be after the moment of the decision (%(at)s).") % {
                    "at": moment.isoformat()}
        if errors:
            raise serializers.ValidationError({"order": errors})
        if item["paid_amount"] > order["paid_amount"]:
            raise serializers.ValidationError({"item": {"paid_amount": _(
                "Cannot exceed the order's paid amount (%(order)s).")
                % {"order": order["paid_amount"]}}})
        return data

    def to_facts(self) -> engine.Facts:
        data = self.validated_data
        order, item = data["order"], data["item"]
        history = data.get("customer_history") or {}
        return build_facts(
            at=data.get("at"),
            order_paid_amount=order["paid_amount"],
            paid_at=order.get("paid_at"),
            shipped_at=order.get("shipped_at"),
            signed_at=order.get("signed_at"),
            promised_delivery_at=order.get("promised_delivery_at"),
            customer_tier=order["customer_tier"],
            item_category=item["category"],
            item_flags=item["flags"],
            item_paid_amount=item["paid_amount"],
            item_quantity=item["quantity"],
            already_refunded=item["already_refunded"],
            warranty_days=item.get("warranty_days"),
            reason=data["reason"],
            item_condition=data["item_condition"],
            evidence=data["evidence"],
            refunds_90d=history.get("refunds_90d", 0),
            disputes_90d=history.get("disputes_90d", 0),
            merchant_silent_hours=data["merchant_silent_hours"],
            carrier_silent_hours=data["carrier_silent_hours"],
            claims_statutory=data["claims_statutory"],
            assessed_damage=item.get("assessed_damage"),
        )
