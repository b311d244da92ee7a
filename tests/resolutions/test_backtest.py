"""Backtest of a draft change set (issue 16, point 2): stored decisions replayed under both tables.

A small table of our own, so every number below can be worked out by hand:
  R1 refund_only prio 10: quality defect, item at most 100 → allow, refund what remains, merchant
  R2 refund_only prio 20: quality defect → needs approval (senior agent), merchant
  C1 compensation_cash prio 30: quality defect → allow, 20.00 minimum, platform
The change set lowers R1 to items of at most 50 and moves its money to the platform.
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from policies import engine
from policies.models import PolicyRule
from policies.services import changesets
from resolutions.models import Resolution
from resolutions.services.backtest import backtest
from resolutions.services.resolutions import _facts_as_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(db):
    PolicyRule.objects.all().delete()
    common = {"source": "test", "reasons": ["quality_defect"]}
    return {
        "r1": PolicyRule.objects.create(
            name="R1", kind="refund_only", priority=10, max_item_amount=Decimal("100"),
            verdict="allow", refund_rule="item_remaining", auto_execute=True, **common),
        "r2": PolicyRule.objects.create(
            name="R2", kind="refund_only", priority=20, verdict="needs_approval",
            approval_role="senior_agent", refund_rule="item_remaining", **common),
        "c1": PolicyRule.objects.create(
            name="C1", kind="compensation_cash", priority=30, verdict="allow",
            compensation_min=Decimal("20"), payer="platform", **common),
    }


def facts(item_amount: str, at) -> engine.Facts:
    return engine.Facts(
        at=at, order_paid_amount=Decimal("500.00"), paid_at=at - timedelta(days=4),
        shipped_at=at - timedelta(days=3), signed_at=at - timedelta(days=1),
        promised_delivery_at=None, customer_tier="normal", item_category="electronics",
        item_flags=frozenset({"sanbao"}), item_paid_amount=Decimal(item_amount), item_quantity=1,
        already_refunded=Decimal("0.00"), warranty_days=365, reason="quality_defect",
        item_condition="opened", evidence=frozenset({"photo"}), refunds_90d=0, disputes_90d=0,
        merchant_silent_hours=Decimal("0"),
    )


@pytest.fixture
def decided(table, make_ticket):
    """Four resolutions of the last 90 days and one older, each with the facts it was decided on."""
    now = timezone.now()

    def resolution(kind, amount, days_ago):
        at = now - timedelta(days=days_ago)
        return Resolution.objects.create(ticket=make_ticket(), kind=kind, created_at=at,
                                          facts=_facts_as_json(facts(amount, at)))

    return {
        "small": resolution("refund_only", "40.00", 3),      # R1 → R1, merchant → platform
        "middle": resolution("refund_only", "88.00", 10),    # R1 (allow) → R2 (approval)
        "large": resolution("refund_only", "150.00", 20),    # R2 → R2
        "cash": resolution("compensation_cash", "88.00", 5),  # kind untouched
        "old": resolution("refund_only", "40.00", 100),      # outside 90 days
    }


@pytest.fixture
def draft(table, supervisor):
    rule = table["r1"]
    item = changesets.propose_rule(actor=supervisor, rule=rule, values={
        **changesets.values_of(rule), "max_item_amount": Decimal("50"), "payer": "platform"})
    return item.change_set


def test_counts_by_kind_and_verdict(decided, draft):
    result = backtest(draft, days=90)

    assert result.decisions == 4
    assert result.replayed == 3  # the compensation kind's rules are untouched
    assert result.changed == 2
    assert result.changed_kinds == ("refund_only",)
    assert result.by_kind == {
        "refund_only": {"decisions": 3, "replayed": 3, "changed": 2},
        "compensation_cash": {"decisions": 1, "replayed": 0, "changed": 0},
    }
    assert dict(result.by_verdict) == {("refund_only", "allow", "allow"): 1,
                                       ("refund_only", "allow", "needs_approval"): 1}


def test_money_delta_by_who_bears_it(decided, draft):
    result = backtest(draft, days=90)

    assert result.money_delta == {"merchant": Decimal("-40.00"), "platform": Decimal("40.00"),
                                  "carrier": Decimal("0.00"), "insurer": Decimal("0.00")}


def test_the_changed_cases_carry_both_options_and_their_tickets(decided, draft, table):
    result = backtest(draft, days=90)

    by_resolution = {case.resolution_id: case for case in result.cases}
    assert set(by_resolution) == {decided["small"].pk, decided["middle"].pk}
    middle = by_resolution[decided["middle"].pk]
    assert middle.ticket_id == decided["middle"].ticket_id
    assert middle.ticket_number == decided["middle"].ticket.number
    assert (middle.before.rule_id, middle.before.verdict) == (table["r1"].pk, "allow")
    assert (middle.after.rule_id, middle.after.verdict) == (table["r2"].pk, "needs_approval")
    assert middle.before.explanation
    assert middle.after.explanation
    assert [case.resolution_id for case in result.cases] == [decided["small"].pk,
                                                             decided["middle"].pk]  # newest first


def test_the_window_is_chosen_by_the_reviewer(decided, draft):
    assert backtest(draft, days=7).decisions == 2   # small and cash
    wide = backtest(draft, days=120)
    assert wide.decisions == 5
    assert wide.changed == 3


def test_a_new_rule_in_the_draft_is_replayed_too(decided, table, supervisor):
    values = {**changesets.values_of(table["c1"]), "name": "No cash", "priority": 5,
              "verdict": "deny", "compensation_min": None, "payer": "platform"}
    change_set = changesets.propose_rule(actor=supervisor, rule=None, values=values).change_set

    result = backtest(change_set, days=90)

    assert result.changed_kinds == ("compensation_cash",)
    assert dict(result.by_verdict) == {("compensation_cash", "allow", "deny"): 1}
    assert result.money_delta["platform"] == Decimal("-20.00")


def test_an_unchanged_table_replays_nothing(decided, draft):
    draft.items.all().delete()
    result = backtest(draft, days=90)
    assert (result.decisions, result.replayed, result.changed) == (4, 0, 0)


def test_unreadable_stored_facts_are_counted_not_fatal(decided, draft, make_ticket):
    Resolution.objects.create(ticket=make_ticket(), kind="refund_only",
                              created_at=timezone.now(), facts={"reason": "quality_defect"})
    result = backtest(draft, days=90)
    assert result.skipped == 1
    assert result.changed == 2


def test_the_live_table_is_untouched(decided, draft, table):
    backtest(draft, days=90)
    table["r1"].refresh_from_db()
    assert table["r1"].max_item_amount == Decimal("100")
    assert table["r1"].payer == "merchant"


def test_the_command_prints_the_backtest(decided, draft):
    out = StringIO()
    call_command("backtest_policy_changes", str(draft.pk), "--days", "90", stdout=out)
    text = out.getvalue()

    assert "decisions 4, replayed 3, changed 2" in text
    assert "refund_only: allow -> needs_approval: 1" in text
    assert "merchant: -40.00" in text
    assert "platform: +40.00" in text
    assert f"ticket {decided['middle'].ticket.number}" in text


def test_the_command_refuses_an_unknown_change_set_and_a_bad_window(draft):
    with pytest.raises(CommandError):
        call_command("backtest_policy_changes", "999999")
    with pytest.raises(CommandError):
        call_command("backtest_policy_changes", str(draft.pk), "--days", "0")


def test_stored_rest_days_are_read_back_as_dates():
    """A decision's rest days (Civil Code art. 203 moves a window's end past them) replay as
    the dates the engine compares, not as the text they are stored as."""
    from datetime import date

    from resolutions.services.backtest import _facts_reader

    at = timezone.now()
    facts = engine.Facts(
        at=at, order_paid_amount=Decimal("300.00"), paid_at=at - timedelta(days=9),
        shipped_at=at - timedelta(days=8), signed_at=at - timedelta(days=7),
        promised_delivery_at=None, customer_tier="normal", item_category="apparel",
        item_flags=frozenset(), item_paid_amount=Decimal("300.00"), item_quantity=1,
        already_refunded=Decimal("0"), warranty_days=None, reason="no_reason",
        item_condition="intact", evidence=frozenset(), refunds_90d=0, disputes_90d=0,
        merchant_silent_hours=Decimal("0"),
        rest_days=frozenset({date(2026, 10, 1), date(2026, 10, 4)}))

    read = _facts_reader()(_facts_as_json(facts))

    assert read.rest_days == facts.rest_days
    assert read == facts
