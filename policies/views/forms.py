"""The simulator's case form: the same facts the engine decides on, typed by a person."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from policies import engine
from policies.models import PolicyItemFlag
from policies.serializers import CLOCK_SKEW, MAX_CASES_90D, MAX_WARRANTY_DAYS
from policies.services.facts import build_facts
from shop.models import CustomerTier, ProductCategory
from tickets.models import EvidenceKind, ItemCondition, RequestReason

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _when(label, required=False):
    return forms.DateTimeField(label=label, required=required, widget=DATETIME,
                               input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class CaseForm(forms.Form):
    ticket = forms.CharField(label=_("or take the facts from ticket"), required=False,
                             help_text=_("A ticket number such as CS20261122-000001."))
    at = _when(_("decide as of"))
    order_paid_amount = forms.DecimalField(label=_("order paid amount"), min_value=Decimal("0"),
                                           max_digits=12, decimal_places=2, initial="199.00")
    customer_tier = forms.ChoiceField(label=_("customer tier"), choices=CustomerTier.choices)
    paid_at = _when(_("paid at"))
    shipped_at = _when(_("shipped at"))
    signed_at = _when(_("signed for at"))
    promised_delivery_at = _when(_("promised delivery by"))
    item_category = forms.ChoiceField(label=_("category"), choices=ProductCategory.choices)
    item_flags = forms.MultipleChoiceField(label=_("item flags"), choices=PolicyItemFlag.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)
    item_paid_amount = forms.DecimalField(label=_("item paid amount"), min_value=Decimal("0"),
                                          max_digits=12, decimal_places=2, initial="199.00")
    already_refunded = forms.DecimalField(label=_("already refunded"), min_value=Decimal("0"),
                                          max_digits=12, decimal_places=2, initial="0.00")
    warranty_days = forms.IntegerField(label=_("warranty (days)"), min_value=0,
                                       max_value=MAX_WARRANTY_DAYS, required=False)
    reason = forms.ChoiceField(label=_("request reason"), choices=RequestReason.choices)
    item_condition = forms.ChoiceField(label=_("item condition"),
                                       choices=[("", "—"), *ItemCondition.choices], required=False)
    evidence = forms.MultipleChoiceField(label=_("evidence"), choices=EvidenceKind.choices,
                                         required=False, widget=forms.CheckboxSelectMultiple)
    refunds_90d = forms.IntegerField(label=_("refunds in 90 days"), min_value=0,
                                     max_value=MAX_CASES_90D, initial=0)
    disputes_90d = forms.IntegerField(label=_("disputes in 90 days"), min_value=0,
                                      max_value=MAX_CASES_90D, initial=0)
    merchant_silent_hours = forms.DecimalField(label=_("merchant silent (hours)"),
                                               min_value=Decimal("0"), max_digits=8,
                                               decimal_places=2, initial="0")
    carrier_silent_hours = forms.DecimalField(label=_("carrier silent (hours)"),
                                              min_value=Decimal("0"), max_digits=8,
                                              decimal_places=2, initial="0", required=False)
    claims_statutory = forms.BooleanField(label=_("claims statutory compensation"),
                                          required=False)
    assessed_damage = forms.DecimalField(label=_("assessed damage"), min_value=Decimal("0"),
                                         max_digits=12, decimal_places=2, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" \
                else f"{css} form-select-sm"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("already_refunded") and data.get("item_paid_amount") is not None \
                and data["already_refunded"] > data["item_paid_amount"]:
            self.add_error("already_refunded", _("Cannot exceed the item's paid amount."))
        if data.get("item_paid_amount") is not None and data.get("order_paid_amount") is not None \
                and data["item_paid_amount"] > data["order_paid_amount"]:
            self.add_error("item_paid_amount", _("Cannot exceed the order's paid amount."))
        now = timezone.now()
        at = data.get("at")
        if at is not None and at > now + CLOCK_SKEW:
            self.add_error("at", _("Cannot be in the future: decisions are made now or replayed."))
        moment = at or now
        for name in ("paid_at", "shipped_at", "signed_at"):
            value = data.get(name)
            if value is not None and value > moment + CLOCK_SKEW:
                self.add_error(name, _("Cannot be after the moment of the decision (%(at)s).")
                               % {"at": moment.isoformat()})
        return data

    def to_facts(self) -> engine.Facts:
        data = self.cleaned_data
        return build_facts(
            at=data.get("at"),
            order_paid_amount=data["order_paid_amount"],
            paid_at=data.get("paid_at"),
            shipped_at=data.get("shipped_at"),
            signed_at=data.get("signed_at"),
            promised_delivery_at=data.get("promised_delivery_at"),
            customer_tier=data["customer_tier"],
            item_category=data["item_category"],
            item_flags=data["item_flags"],
            item_paid_amount=data["item_paid_amount"],
            already_refunded=data["already_refunded"],
            warranty_days=data.get("warranty_days"),
            reason=data["reason"],
            item_condition=data.get("item_condition") or "",
            evidence=data["evidence"],
            refunds_90d=data["refunds_90d"],
            disputes_90d=data["disputes_90d"],
            merchant_silent_hours=data["merchant_silent_hours"],
            carrier_silent_hours=data.get("carrier_silent_hours") or Decimal("0"),
            claims_statutory=bool(data.get("claims_statutory")),
            assessed_damage=data.get("assessed_damage"),
        )
