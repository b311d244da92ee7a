"""Decisions in plain language (issue 17, point 2): what agents read and what reviewers read.

Every rule has a display name and an explanation in Chinese and English, written as an agent
says it to the customer; the rule's number, version and source are for supervisors, QA and
risk/legal. The engine's messages stay structured, so each reader gets their rendering, and
explanations stored on resolutions before the messages named their audience still render.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.utils import translation

from core.models.roles import Role
from policies import engine
from policies.models import PolicyRule
from policies.services import changesets, seeding
from policies.services.defaults import DEFAULT_RULES, default_rules
from policies.views.presentation import (
    explanation_parts,
    option_as_dict,
    render_messages,
    sees_rule_details,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# What an agent must not read to a customer: sources, rule numbers, codes.
DEVELOPER_WORDS = re.compile(
    r"DOMAIN\.md|\[0\d\d\]|research|§|规则 ?\d|rule \d|[a-z]+_[a-z]+|version|版本")


# --- the default table ---------------------------------------------------------------------

@pytest.mark.parametrize("row", DEFAULT_RULES, ids=[row["name"] for row in DEFAULT_RULES])
def test_every_default_rule_explains_itself_to_agents_in_both_languages(row):
    chinese, english = row["explanation_zh"], row["explanation_en"]

    assert row["name_zh"]
    assert row["name"]
    assert CHINESE.search(chinese)
    assert not CHINESE.search(english)
    assert chinese.endswith("。")
    assert english.endswith(".")
    for text in (chinese, english):
        assert not DEVELOPER_WORDS.search(text), text


def test_the_seeded_table_carries_the_explanations(db):
    rows = {(row.name, row.kind): row for row in PolicyRule.objects.all()}

    for shipped in DEFAULT_RULES:
        row = rows[(shipped["name"], shipped["kind"])]
        assert (row.explanation_zh, row.explanation_en) == (
            shipped["explanation_zh"], shipped["explanation_en"])


def test_filling_explanations_keeps_what_someone_wrote_and_records_a_version(db):
    shipped = DEFAULT_RULES[0]
    emptied = PolicyRule.objects.get(name=shipped["name"], kind=shipped["kind"])
    written = PolicyRule.objects.exclude(pk=emptied.pk).first()
    PolicyRule.objects.filter(pk=emptied.pk).update(explanation_zh="", explanation_en="")
    PolicyRule.objects.filter(pk=written.pk).update(explanation_zh="我们自己写的。")

    assert seeding.fill_explanations(apps, reason="test") == 1
    assert seeding.fill_explanations(apps, reason="test") == 0

    emptied.refresh_from_db()
    written.refresh_from_db()
    assert emptied.explanation_zh == shipped["explanation_zh"]
    assert emptied.history.latest().history_change_reason == "test"
    assert written.explanation_zh == "我们自己写的。"


def test_the_explanations_are_edited_through_change_sets(supervisor, other_supervisor):
    rule = PolicyRule.objects.order_by("priority", "id").first()
    values = {**changesets.values_of(rule), "explanation_zh": "新的说法。",
              "explanation_en": "New words."}

    item = changesets.propose_rule(actor=supervisor, rule=rule, values=values)

    assert [name for name, *_rest in changesets.diff(item)] == ["explanation_zh",
                                                               "explanation_en"]
    rule.refresh_from_db()
    assert rule.explanation_zh != "新的说法。"  # a draft changes nothing
    change_set = changesets.submit(actor=supervisor, change_set=item.change_set)
    changesets.approve(actor=other_supervisor, change_set=change_set)
    rule.refresh_from_db()
    assert (rule.explanation_zh, rule.explanation_en) == ("新的说法。", "New words.")


# --- who reads what --------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "sees"), [
    (Role.AGENT, False),
    (Role.SENIOR_AGENT, False),
    (Role.COMPLAINT_SPECIALIST, False),
    (Role.SUPERVISOR, True),
    (Role.QA, True),
    (Role.RISK_LEGAL, True),
])
def test_only_reviewers_see_rule_numbers_and_sources(personas, role, sees):
    assert sees_rule_details(personas[role]) is sees


def _late_quality_option() -> engine.Option:
    """The default table's option for a quality claim 100 hours after sign-off, no report."""
    signed = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
    facts = engine.Facts(
        at=signed + timedelta(hours=100), order_paid_amount=Decimal("4599.00"),
        paid_at=signed - timedelta(days=3), shipped_at=signed - timedelta(days=2),
        signed_at=signed, item_category="large_appliance",
        item_paid_amount=Decimal("4599.00"), reason="quality_defect", item_condition="intact",
        promised_delivery_at=None, customer_tier="normal", item_flags=frozenset(),
        item_quantity=1, already_refunded=Decimal("0.00"), warranty_days=365,
        evidence=frozenset(), refunds_90d=0, disputes_90d=0, merchant_silent_hours=Decimal("0"),
    )
    decision = engine.decide(facts, default_rules())
    option = decision.option("return_refund")
    assert option is not None
    return option


@pytest.mark.parametrize(("language", "label", "plain"), [
    ("zh-hans", "超72小时质量问题·无检测报告", "签收已超过72小时且没有检测报告"),
    ("en", "Late quality claim without inspection report", "More than 72 hours after delivery"),
])
def test_agents_read_the_name_and_plain_words_in_their_language(language, label, plain):
    option = _late_quality_option()

    with translation.override(language):
        shown = option_as_dict(option, reviewer=False)
        whole = render_messages(option.explanation, reviewer=False)

    assert shown["label"] == label
    assert shown["plain"].startswith(plain)
    assert shown["review"] == ""
    for text in (shown["plain"], shown["details"], shown["explanation"], whole):
        assert "DOMAIN.md" not in text
        assert "Decided by rule" not in text
        assert str(option.rule_id) not in re.findall(r"\d+", text.replace("4599.00", ""))


def test_reviewers_read_the_rule_number_version_and_source_as_well():
    option = _late_quality_option()

    with translation.override("en"):
        shown = option_as_dict(option)

    assert shown["plain"].startswith("More than 72 hours after delivery")
    assert f"Decided by rule {option.rule_id}" in shown["review"]
    assert "Source: DOMAIN.md" in shown["review"]
    assert "Source: DOMAIN.md" in shown["explanation"]


def test_an_explanation_stored_before_audiences_still_renders_for_each_reader():
    stored = [
        {"key": 'Decided by rule %(rule_id)s "%(rule)s" (version %(version)s)',
         "params": {"rule_id": 25, "rule": "Late quality claim without inspection report",
                    "version": 25}},
        {"key": "Source: %(source)s", "params": {"source": "DOMAIN.md [000]"}},
        {"key": "Needs approval by %(role)s", "params": {"role": "senior_agent"}},
    ]

    with translation.override("en"):
        agent = explanation_parts(stored, reviewer=False)
        reviewer = explanation_parts(stored, reviewer=True)

    assert agent == {"label": "", "plain": "", "details": "Needs approval by Senior agent",
                     "review": ""}
    assert "Decided by rule 25" in reviewer["review"]
    assert "DOMAIN.md" in reviewer["review"]


def test_a_rule_without_explanations_falls_back_to_what_it_has():
    rule = engine.Rule(id=1, name="Goodwill", version=1, kind="compensation_points",
                       priority=1, points=10, explanation_zh="送您10积分。")
    message = engine.plain_message(rule)

    with translation.override("en"):
        english = explanation_parts([message], reviewer=False)
    with translation.override("zh-hans"):
        chinese = explanation_parts([message], reviewer=False)

    # No English written: the Chinese rather than nothing; no Chinese name: the English one.
    assert english == {"label": "Goodwill", "plain": "送您10积分。", "details": "",
                       "review": ""}
    assert chinese["label"] == "Goodwill"
    assert chinese["plain"] == "送您10积分。"
