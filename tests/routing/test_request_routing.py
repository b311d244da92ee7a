"""Routing by what the request says it is: its request reason and category decide before the
words of its text, in one pass over the rules."""

import pytest
from django.core.exceptions import ValidationError

from routing.models import RoutingRule
from routing.services import assignment as routing
from routing.services.config import routing_config
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staffed_teams")]


def create(agent, subject, **fields):
    return services.ticket_create(actor=agent, channel="phone", customer=CustomerFactory(),
                                  subject=subject, **fields)


def test_the_request_reason_wins_over_keywords_and_keywords_still_raise_the_priority(agent):
    # "退款" alone sends a call to the payment team (rule 30), at P1.
    assert create(agent, "客户要求退款").team.code == "payment"

    ticket = create(agent, "耳机坏了，客户要求退款", request_reason="quality_defect")

    assert ticket.team.code == "quality"
    assert ticket.category == "quality_malfunction"
    assert ticket.priority == 1  # the refund keyword rule still raises it


def test_a_seven_day_return_stays_with_after_sales_whatever_the_words(agent):
    ticket = create(agent, "质量有点问题，不想要了，要退款", request_reason="no_reason")

    assert (ticket.team.code, ticket.category) == ("after_sales", "return_exchange")


def test_an_explicit_category_wins_over_keywords(agent):
    ticket = create(agent, "耳机坏了，钱一直没到账", category="refund_not_arrived")

    assert (ticket.team.code, ticket.category) == ("payment", "refund_not_arrived")


def test_a_rule_added_for_a_reason_wins_even_placed_after_the_keyword_rules(agent):
    RoutingRule.objects.filter(name="售后原因：退换货 → 售后组").update(is_active=False)
    RoutingRule.objects.create(name="缺货 → 物流组", order=999,
                               request_reasons=["out_of_stock"],
                               team=Team.objects.get(code="logistics"))

    ticket = create(agent, "商品缺货，要求退款", request_reason="out_of_stock")

    assert ticket.team.code == "logistics"


def test_without_reason_or_category_the_first_keyword_rule_decides(agent):
    ticket = create(agent, "物流显示签收了但是要退款")  # logistics (20) before payment (30)

    assert (ticket.team.code, ticket.category) == ("logistics", "logistics_exception")


def test_every_matching_rule_is_named_in_the_creation_history(agent):
    ticket = create(agent, "耳机坏了，客户要求退款", request_reason="quality_defect")

    reason = ticket.history.earliest().history_change_reason
    assert "售后原因：质量问题 → 质量组" in reason
    assert "支付退款 → 支付退款组 P1" in reason


def test_classify_reads_nothing_and_takes_one_pass(django_assert_num_queries):
    config = routing_config()
    seen = []

    class CountingRules(tuple):
        def __iter__(self):
            seen.append(1)
            return super().__iter__()

    counting = type(config)(rules=CountingRules(config.rules),
                            sla_policies=config.sla_policies, default_team=config.default_team)
    with django_assert_num_queries(0):
        routed = routing.classify(subject="耳机坏了要退款", description="", category="",
                                  channel="phone", tier="normal", priority=2,
                                  request_reason="quality_defect", config=counting)

    assert routed.team.code == "quality"
    assert seen == [1]


def test_unknown_request_reasons_are_refused():
    rule = RoutingRule(name="x", order=1, request_reasons=["because"], raise_priority_to=1)

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert "request_reasons" in refused.value.message_dict
