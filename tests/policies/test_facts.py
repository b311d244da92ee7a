"""One builder of the engine's facts: a ticket, the simulator form and the API agree.

No database: tickets and orders here are unsaved model instances. The facts read from the
database (history, evidence, the rule set's version) are in tests/resolutions/test_decision_facts.py.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from policies.serializers import FactsSerializer
from policies.services import facts
from policies.views.forms import CaseForm
from shop.models import Customer, Order, OrderItem
from tickets.models import Collaborator, Ticket, TicketState

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)
SIGNED = datetime(2026, 3, 5, 9, 30, tzinfo=SHANGHAI)


# One case as the evaluate API takes it; the tests below describe it in the other two ways.
API_CASE = {
    "at": AT.isoformat(),
    "order": {"paid_amount": "300.00", "customer_tier": "vip",
              "paid_at": (SIGNED - timedelta(days=3)).isoformat(),
              "shipped_at": (SIGNED - timedelta(days=2)).isoformat(),
              "signed_at": SIGNED.isoformat()},
    "item": {"category": "electronics", "flags": ["sanbao", "freight_insured"],
             "paid_amount": "300.00", "already_refunded": "20.00", "warranty_days": 365},
    "reason": "quality_defect", "item_condition": "opened", "evidence": ["photo"],
    "customer_history": {"refunds_90d": 1, "disputes_90d": 0},
    "merchant_silent_hours": "2.50",
}


def case(**changes):
    values = {
        "at": AT, "order_paid_amount": Decimal("300.00"), "customer_tier": "vip",
        "paid_at": SIGNED - timedelta(days=3), "shipped_at": SIGNED - timedelta(days=2),
        "signed_at": SIGNED, "item_category": "electronics",
        "item_paid_amount": Decimal("300.00"), "reason": "quality_defect",
    }
    return facts.build_facts(**(values | changes))


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_case_typed_into_the_simulator_and_sent_to_the_api_gives_equal_facts():
    form = CaseForm({
        "at": local(AT), "order_paid_amount": "300.00", "customer_tier": "vip",
        "paid_at": local(SIGNED - timedelta(days=3)),
        "shipped_at": local(SIGNED - timedelta(days=2)), "signed_at": local(SIGNED),
        "item_category": "electronics", "item_flags": ["sanbao", "freight_insured"],
        "item_paid_amount": "300.00", "already_refunded": "20.00", "warranty_days": "365",
        "reason": "quality_defect", "item_condition": "opened", "evidence": ["photo"],
        "refunds_90d": "1", "disputes_90d": "0", "merchant_silent_hours": "2.5",
    })
    api = FactsSerializer(data=API_CASE)
    assert form.is_valid(), form.errors
    assert api.is_valid(), api.errors

    assert form.to_facts() == api.to_facts()


def test_a_ticket_and_the_same_case_sent_to_the_api_give_equal_facts():
    # given: a VIP's insured order of a phone with a year's warranty, waiting on the merchant
    customer = Customer(tier="vip")
    order = Order(customer=customer, paid_amount=Decimal("300.00"),
                  paid_at=SIGNED - timedelta(days=3), shipped_at=SIGNED - timedelta(days=2),
                  signed_at=SIGNED, freight_insured=True)
    item = OrderItem(order=order, category="electronics", paid_amount=Decimal("300.00"),
                     quantity=1, warranty_months=12)
    ticket = Ticket(customer=customer, order=order, order_item=item,
                    request_reason="quality_defect", item_condition="opened",
                    state=TicketState.PENDING_INTERNAL, waiting_on=Collaborator.SUPPLIER,
                    waiting_since=AT - timedelta(hours=2, minutes=30))
    api = FactsSerializer(data=API_CASE)
    assert api.is_valid(), api.errors

    # when
    from_ticket = facts.facts_from_ticket(ticket, item, at=AT, already_refunded=Decimal("20.00"),
                                          evidence={"photo"}, refunds_90d=1, disputes_90d=0)

    # then
    assert from_ticket == api.to_facts()


def test_the_builder_adds_the_flags_the_shop_data_implies():
    flags = case(item_flags=["custom_made"], no_return_confirmed=True, freight_insured=True,
                 warranty_months=12).item_flags

    assert flags == {"custom_made", "no_return_confirmed", "freight_insured", "sanbao"}


def test_only_covered_categories_with_a_warranty_are_sanbao():
    assert "sanbao" not in case(item_category="apparel", warranty_months=12).item_flags
    assert "sanbao" not in case(item_category="electronics", warranty_months=0).item_flags
    assert "sanbao" not in case(item_category="electronics", warranty_days=365).item_flags


def test_warranty_months_count_from_the_local_day_of_sign_off():
    # 31 Jan in Shanghai (still 30 Jan in UTC): one month later is 28 Feb, so 28 days.
    signed = datetime(2026, 1, 30, 17, 0, tzinfo=UTC)

    decided = case(signed_at=signed, warranty_months=1, time_zone="Asia/Shanghai")

    assert decided.warranty_days == 28


def test_without_warranty_months_the_days_given_are_kept():
    assert case(warranty_days=90).warranty_days == 90
    assert case().warranty_days is None
    assert case(warranty_months=0, warranty_days=90).warranty_days == 0


def test_merchant_silence_is_counted_from_when_the_merchant_was_asked():
    waited = case(merchant_waiting_since=AT - timedelta(hours=1, minutes=30))
    given = case(merchant_silent_hours=Decimal("7"),
                 merchant_waiting_since=AT - timedelta(hours=1))

    assert waited.merchant_silent_hours == Decimal("1.5")
    assert given.merchant_silent_hours == Decimal("7")
    assert case().merchant_silent_hours == 0


def test_only_a_ticket_waiting_on_the_merchant_has_merchant_silence():
    on_logistics = Ticket(state=TicketState.PENDING_INTERNAL, waiting_on=Collaborator.LOGISTICS,
                          waiting_since=AT)
    on_merchant = Ticket(state=TicketState.PENDING_INTERNAL, waiting_on=Collaborator.SUPPLIER,
                         waiting_since=AT)

    assert facts.merchant_waiting_since(on_logistics) is None
    assert facts.merchant_waiting_since(on_merchant) == AT


def test_without_a_clock_the_builder_decides_as_of_now_in_the_current_time_zone():
    before = timezone.now()

    decided = case(at=None)

    assert before <= decided.at <= timezone.now()
    assert decided.time_zone == timezone.get_current_timezone_name()


def test_a_ticket_waiting_on_logistics_counts_the_carrier_silence():
    """Seed 004: the carrier is asked first and has 48 h to answer about a lost parcel."""
    on_logistics = Ticket(state=TicketState.PENDING_INTERNAL, waiting_on=Collaborator.LOGISTICS,
                          waiting_since=AT - timedelta(hours=50))
    on_merchant = Ticket(state=TicketState.PENDING_INTERNAL, waiting_on=Collaborator.SUPPLIER,
                         waiting_since=AT)

    assert facts.carrier_waiting_since(on_logistics) == AT - timedelta(hours=50)
    assert facts.carrier_waiting_since(on_merchant) is None
    assert case(carrier_waiting_since=AT - timedelta(hours=50)).carrier_silent_hours == 50


def test_the_ticket_gives_the_statutory_claim_and_the_item_its_periodical_flag():
    customer = Customer(tier="normal")
    order = Order(customer=customer, paid_amount=Decimal("30.00"), signed_at=SIGNED)
    item = OrderItem(order=order, category="books", paid_amount=Decimal("30.00"),
                     periodical=True)
    ticket = Ticket(customer=customer, order=order, order_item=item, request_reason="counterfeit",
                    claims_statutory=True)

    decided = facts.facts_from_ticket(ticket, item, at=AT, already_refunded=Decimal("0.00"),
                                      evidence=(), refunds_90d=0, disputes_90d=0)

    assert decided.claims_statutory is True
    assert "periodical" in decided.item_flags


def test_the_rest_days_are_the_calendars_between_sign_off_and_the_decision():
    """Civil Code art. 203 needs the rest days; chinese-calendar counts make-up working days."""
    signed = datetime(2026, 9, 27, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    at = datetime(2026, 10, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai"))

    rest = case(signed_at=signed, at=at, time_zone="Asia/Shanghai").rest_days

    assert {day.isoformat() for day in rest} == {
        "2026-09-27", *(f"2026-10-0{day}" for day in range(1, 8)),
    }


def test_the_simulator_refuses_the_impossible_cases_the_api_refuses():
    now = timezone.now()
    form = CaseForm({
        "at": local(now + timedelta(days=30)), "order_paid_amount": "199.00",
        "customer_tier": "normal", "signed_at": local(now + timedelta(days=31)),
        "item_category": "home", "item_paid_amount": "500.00", "already_refunded": "0.00",
        "reason": "no_reason", "refunds_90d": "0", "disputes_90d": "0",
        "merchant_silent_hours": "0",
    })

    assert not form.is_valid()
    assert {"at", "signed_at", "item_paid_amount"} <= set(form.errors)
