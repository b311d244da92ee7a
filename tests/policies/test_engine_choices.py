"""The engine's own vocabularies say the same as the choices of the rule table and the shop.

The engine imports nothing from Django, so it spells its enums out again; these tests keep
the two spellings equal, so a rule row can never hold a value the engine does not know.
"""

from enum import StrEnum

import pytest

from core.models.roles import Role
from policies import engine, models
from policies.services import facts
from shop.models import ItemFlag


@pytest.mark.parametrize(
    ("engine_enum", "model_choices"),
    [
        (engine.Verdict, models.Verdict),
        (engine.OrderStage, models.OrderStage),
        (engine.RefundRule, models.RefundRule),
        (engine.Warranty, models.Warranty),
    ],
    ids=lambda enum: enum.__name__,
)
def test_each_engine_enum_has_the_values_of_its_model_choices(engine_enum: type[StrEnum],
                                                               model_choices):
    assert [member.value for member in engine_enum] == list(model_choices.values)


def test_the_role_statutory_rows_need_is_a_role():
    assert engine.STATUTORY_APPROVAL_ROLE in Role.values


def test_a_rule_s_defaults_are_values_of_the_rule_table():
    rule = engine.Rule(id=1, name="x", version=1, kind="exchange", priority=1)

    assert rule.verdict in models.Verdict.values
    assert rule.refund_rule in models.RefundRule.values
    assert rule.warranty in models.Warranty.values
    assert rule.payer in models.Payer.values


def test_every_flag_the_facts_can_carry_is_one_a_rule_can_ask_for():
    from_the_shop = set(ItemFlag.values)
    added_by_the_builder = {facts.NO_RETURN_CONFIRMED, facts.FREIGHT_INSURED, facts.SANBAO}

    assert from_the_shop | added_by_the_builder <= set(models.PolicyItemFlag.values)
