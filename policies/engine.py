"""The after-sales decision engine: facts and rules in, options and a trace out.

Pure Python on purpose: it imports nothing from Django or the project, so it can be tested
without a database, replayed from stored facts and rules, and run many thousand times a
second. `policies/rulebook.py` turns the admin's rule rows into `Rule`s and a ticket's order
into `Facts`; those are the only places that touch the database.

Every sentence the engine produces is a `Message`: an English %-format msgid plus plain
parameters, translated only when shown (as Django's admin log does).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from operator import attrgetter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

PLATFORM_CAP_PERCENT = Decimal("30")

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
SECONDS_PER_HOUR = Decimal("3600")


def gettext_noop(s: str) -> str:
    """Mark s for translation without translating it (so makemessages extracts it)."""
    return s


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


class OrderStage(StrEnum):
    UNPAID = "unpaid"
    UNSHIPPED = "unshipped"
    IN_TRANSIT = "in_transit"
    SIGNED = "signed"


class RefundRule(StrEnum):
    NONE = "none"
    ITEM_REMAINING = "item_remaining"
    PERCENT_OF_ITEM = "percent_of_item"


class Warranty(StrEnum):
    ANY = "any"
    WITHIN = "within"
    BEYOND = "beyond"


# The approval role statutory rows always need, whatever the row says.
STATUTORY_APPROVAL_ROLE = "risk_legal"


@cache
def _zone(name: str) -> ZoneInfo:
    """Return the time zone called name, loading it once per process."""
    return ZoneInfo(name)


def money(value: Decimal) -> Decimal:
    """Return value rounded to the cent, half up, as money is everywhere in the console."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Facts:
    """Everything the rules may look at, frozen at the moment of the decision."""

    at: datetime
    order_paid_amount: Decimal
    paid_at: datetime | None
    shipped_at: datetime | None
    signed_at: datetime | None
    promised_delivery_at: datetime | None
    customer_tier: str
    item_category: str
    item_flags: frozenset[str]
    item_paid_amount: Decimal
    item_quantity: int
    already_refunded: Decimal
    warranty_days: int | None
    reason: str
    item_condition: str
    evidence: frozenset[str]
    refunds_90d: int
    disputes_90d: int
    merchant_silent_hours: Decimal
    time_zone: str = "Asia/Shanghai"

    def _happened(self, moment: datetime | None) -> bool:
        # A timestamp after `at` has not happened yet, so replaying an old decision sees
        # the order as it was then.
        return moment is not None and moment <= self.at

    # The derived facts below are read by many conditions of one decision, so each is
    # computed once per Facts (cached_property writes to __dict__, which frozen allows).

    @cached_property
    def order_stage(self) -> OrderStage:
        """Return how far the order has got: unpaid, unshipped, in transit or signed."""
        if self._happened(self.signed_at):
            return OrderStage.SIGNED
        if self._happened(self.shipped_at):
            return OrderStage.IN_TRANSIT
        if self._happened(self.paid_at):
            return OrderStage.UNSHIPPED
        return OrderStage.UNPAID

    @cached_property
    def days_since_sign_off(self) -> int | None:
        """Return calendar days from sign-off to `at`, counted on the local calendar.

        The law counts the 7 days from the day after sign-off and ends them at 24:00 of the
        last day, so this is the local date of `at` minus the local date of sign-off: a
        parcel signed 06-01 22:30 is on day 7 until 06-08 24:00.
        """
        signed_at = self.signed_at
        if signed_at is None or signed_at > self.at:
            return None
        zone = _zone(self.time_zone)
        return (self.at.astimezone(zone).date() - signed_at.astimezone(zone).date()).days

    @cached_property
    def hours_since_sign_off(self) -> Decimal | None:
        """Return the exact hours elapsed since sign-off, or None if not signed for."""
        signed_at = self.signed_at
        if signed_at is None or signed_at > self.at:
            return None
        elapsed = self.at - signed_at
        seconds = elapsed.days * 86400 + elapsed.seconds
        return (Decimal(seconds) + Decimal(elapsed.microseconds) / 1_000_000) / SECONDS_PER_HOUR


@dataclass(frozen=True)
class Rule:
    """One row of the policy table: conditions that must all hold, and the outcome."""

    id: int
    name: str
    version: int
    kind: str
    priority: int
    active: bool = True
    effective_from: datetime | None = None
    effective_to: datetime | None = None
    categories: frozenset[str] = frozenset()
    required_flags: frozenset[str] = frozenset()
    excluded_flags: frozenset[str] = frozenset()
    reasons: frozenset[str] = frozenset()
    item_conditions: frozenset[str] = frozenset()
    order_stages: frozenset[str] = frozenset()
    within_days: int | None = None
    after_days: int | None = None
    within_hours: int | None = None
    after_hours: int | None = None
    warranty: str = Warranty.ANY.value
    min_order_amount: Decimal | None = None
    max_order_amount: Decimal | None = None
    max_item_amount: Decimal | None = None
    customer_tiers: frozenset[str] = frozenset()
    evidence_any: frozenset[str] = frozenset()
    evidence_absent: frozenset[str] = frozenset()
    min_refunds_90d: int | None = None
    max_refunds_90d: int | None = None
    min_disputes_90d: int | None = None
    max_disputes_90d: int | None = None
    min_merchant_silent_hours: Decimal | None = None
    verdict: str = Verdict.ALLOW.value
    approval_role: str = ""
    freight_payer: str = ""
    payer: str = "merchant"
    refund_rule: str = RefundRule.NONE.value
    refund_percent: Decimal | None = None
    refund_cap: Decimal | None = None
    compensation_percent: Decimal | None = None
    compensation_min: Decimal | None = None
    compensation_cap: Decimal | None = None
    coupon_amount: Decimal | None = None
    points: int | None = None
    auto_execute: bool = False
    statutory: bool = False
    source: str = ""


@dataclass(frozen=True)
class Message:
    """A translatable sentence: an English %-format msgid and the values that fill it.

    Rules that fail the same condition share one message, so treat `params` as read-only.
    """

    key: str
    params: dict[str, str | int] = field(default_factory=dict)

    def render(self) -> str:
        """Return the English sentence (templates translate `key` before filling it)."""
        return self.key % self.params if self.params else self.key


@dataclass(frozen=True)
class Option:
    """One resolution the agent may offer, as the deciding rule of its kind shaped it."""

    kind: str
    verdict: str
    approval_role: str
    refund_amount: Decimal
    compensation_amount: Decimal
    coupon_amount: Decimal
    points: int
    freight_payer: str
    payer: str
    auto_execute: bool
    rule_id: int
    rule_name: str
    rule_version: int
    explanation: tuple[Message, ...]


class Outcome(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    NOT_REACHED = "not_reached"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class TraceEntry:
    """What happened to one rule while deciding: matched, failed (and why), or skipped."""

    rule_id: int
    rule_name: str
    kind: str
    priority: int
    outcome: str
    reasons: tuple[Message, ...]


@dataclass(frozen=True)
class Decision:
    """The options offered, one per kind, and the trace of every rule considered."""

    options: tuple[Option, ...]
    trace: tuple[TraceEntry, ...]

    def option(self, kind: str) -> Option | None:
        """Return the option of this kind, or None if no rule decided it."""
        for option in self.options:
            if option.kind == kind:
                return option
        return None


T = TypeVar("T")


def _frozen(cls: type[T], values: dict[str, Any]) -> T:
    """Return an instance of the frozen dataclass cls holding values, one per field.

    The same object cls(**values) builds, without the generated __init__, which sets each
    field through object.__setattr__ and so costs three times as much; a decision builds
    dozens of messages and trace entries.
    """
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


# --- conditions ------------------------------------------------------------------------------
#
# A condition is a function of the facts that returns None if they meet it, else a Message
# saying why not. Each builder below closes over a rule's constants, formatted once. Rules
# share many conditions (the same reasons, the same 7-day window), so the compiled table
# builds each distinct condition once, checks it once per decision and gives its message to
# every rule that sets it.

Condition = Callable[[Facts], Message | None]


def _listed(values: frozenset[str]) -> str:
    """Return the values sorted and comma-separated, or "-" if there are none."""
    return ", ".join(sorted(values)) if values else "-"


def _amount(value: Decimal) -> str:
    """Return an amount of money as the trace shows it: rounded to the cent."""
    return str(money(value))


def _hours(value: Decimal) -> str:
    """Return a number of hours as the trace shows it: to two decimals."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _failed(key: str, params: dict[str, str | int]) -> Message:
    """Return the message of a failed condition."""
    return _frozen(Message, {"key": key, "params": params})


def _one_of(key: str, attribute: str, expected: frozenset[str]) -> Condition:
    """Require a single-valued fact to be one of the expected values."""
    read = attrgetter(attribute)
    shown = _listed(expected)

    def condition(facts: Facts) -> Message | None:
        actual = read(facts)
        if actual in expected:
            return None
        return _failed(key, {"actual": str(actual or "unknown"), "expected": shown})

    return condition


def _flagged(required: frozenset[str]) -> Condition:
    """Require the item to carry every one of the flags."""

    def condition(facts: Facts) -> Message | None:
        if required <= facts.item_flags:
            return None
        return _failed(
            gettext_noop("The item is not flagged %(missing)s"),
            {"missing": _listed(required - facts.item_flags)},
        )

    return condition


def _not_flagged(excluded: frozenset[str]) -> Condition:
    """Require the item to carry none of the flags."""

    def condition(facts: Facts) -> Message | None:
        if excluded.isdisjoint(facts.item_flags):
            return None
        return _failed(
            gettext_noop("The item is flagged %(present)s, which this rule excludes"),
            {"present": _listed(excluded & facts.item_flags)},
        )

    return condition


def _evidence_any(wanted: frozenset[str]) -> Condition:
    """Require at least one of the kinds of evidence."""
    shown = _listed(wanted)

    def condition(facts: Facts) -> Message | None:
        if not wanted.isdisjoint(facts.evidence):
            return None
        return _failed(
            gettext_noop("Evidence has none of %(expected)s (it has %(actual)s)"),
            {"expected": shown, "actual": _listed(facts.evidence)},
        )

    return condition


def _evidence_absent(unwanted: frozenset[str]) -> Condition:
    """Require none of the kinds of evidence."""

    def condition(facts: Facts) -> Message | None:
        if unwanted.isdisjoint(facts.evidence):
            return None
        return _failed(
            gettext_noop("Evidence includes %(present)s, which this rule excludes"),
            {"present": _listed(unwanted & facts.evidence)},
        )

    return condition


def _at_least(
    key: str, attribute: str, bound: Decimal | int, shown: Callable[[Any], str | int]
) -> Condition:
    """Require a numeric fact to be at least the bound."""
    read = attrgetter(attribute)
    expected = shown(bound)

    def condition(facts: Facts) -> Message | None:
        actual = read(facts)
        if actual >= bound:
            return None
        return _failed(key, {"actual": shown(actual), "expected": expected})

    return condition


def _at_most(
    key: str, attribute: str, bound: Decimal | int, shown: Callable[[Any], str | int]
) -> Condition:
    """Require a numeric fact to be at most the bound."""
    read = attrgetter(attribute)
    expected = shown(bound)

    def condition(facts: Facts) -> Message | None:
        actual = read(facts)
        if actual <= bound:
            return None
        return _failed(key, {"actual": shown(actual), "expected": expected})

    return condition


def _not_signed(key: str, limit: int, facts: Facts) -> Message:
    """Return why a window after sign-off cannot apply to an order not signed for."""
    return _failed(key, {"expected": limit, "stage": str(facts.order_stage)})


def _within(
    key: str, not_signed_key: str, attribute: str, limit: int,
    shown: Callable[[Any], str | int],
) -> Condition:
    """Require at most `limit` days or hours since sign-off."""
    read = attrgetter(attribute)

    def condition(facts: Facts) -> Message | None:
        elapsed = read(facts)
        if elapsed is None:
            return _not_signed(not_signed_key, limit, facts)
        if elapsed <= limit:
            return None
        return _failed(key, {"actual": shown(elapsed), "expected": limit})

    return condition


def _beyond(
    key: str, not_signed_key: str, attribute: str, limit: int,
    shown: Callable[[Any], str | int],
) -> Condition:
    """Require more than `limit` days or hours since sign-off."""
    read = attrgetter(attribute)

    def condition(facts: Facts) -> Message | None:
        elapsed = read(facts)
        if elapsed is None:
            return _not_signed(not_signed_key, limit, facts)
        if elapsed > limit:
            return None
        return _failed(key, {"actual": shown(elapsed), "expected": limit})

    return condition


WARRANTY_NOT_SIGNED = gettext_noop(
    "Not signed for yet (order stage %(stage)s), so the warranty period cannot be checked"
)


def _within_warranty(facts: Facts) -> Message | None:
    """Require sign-off to be no longer ago than the item's warranty, which it must have."""
    days = facts.days_since_sign_off
    if days is None:
        return _failed(WARRANTY_NOT_SIGNED, {"stage": str(facts.order_stage)})
    if not facts.warranty_days:
        return _failed(gettext_noop("The item has no warranty"), {})
    if days <= facts.warranty_days:
        return None
    return _failed(
        gettext_noop("%(actual)s days since sign-off, beyond the warranty of %(warranty)s days"),
        {"actual": days, "warranty": facts.warranty_days},
    )


def _beyond_warranty(facts: Facts) -> Message | None:
    """Require sign-off to be longer ago than the item's warranty (none counts as 0 days)."""
    days = facts.days_since_sign_off
    if days is None:
        return _failed(WARRANTY_NOT_SIGNED, {"stage": str(facts.order_stage)})
    warranty_days = facts.warranty_days or 0
    if days > warranty_days:
        return None
    return _failed(
        gettext_noop(
            "%(actual)s days since sign-off, still within the warranty of %(warranty)s days"
        ),
        {"actual": days, "warranty": warranty_days},
    )


# A condition as the rule describes it: the builder and its arguments. Equal descriptions
# build equal conditions, so the table builds one per distinct description.
ConditionSpec = tuple[Callable[..., Condition], tuple[Hashable, ...]]


def _always(condition: Condition) -> Condition:
    """Return the condition, which has no constants to close over."""
    return condition


def _conditions_of(rule: Rule) -> list[ConditionSpec]:
    """Describe each condition the rule sets (unset means "any"), in the trace's order.

    The trace lists what the request is (category, flags, reason, condition, stage, days,
    warranty, tier, evidence, history) before the hours and amounts it is measured by.
    """
    specs: list[ConditionSpec] = []
    if rule.categories:
        specs.append((_one_of, (
            gettext_noop("Category %(actual)s is not one of %(expected)s"),
            "item_category", rule.categories,
        )))
    if rule.required_flags:
        specs.append((_flagged, (rule.required_flags,)))
    if rule.excluded_flags:
        specs.append((_not_flagged, (rule.excluded_flags,)))
    if rule.reasons:
        specs.append((_one_of, (
            gettext_noop("Reason %(actual)s is not one of %(expected)s"),
            "reason", rule.reasons,
        )))
    if rule.item_conditions:
        specs.append((_one_of, (
            gettext_noop("Item condition %(actual)s is not one of %(expected)s"),
            "item_condition", rule.item_conditions,
        )))
    if rule.order_stages:
        specs.append((_one_of, (
            gettext_noop("Order stage %(actual)s is not one of %(expected)s"),
            "order_stage", rule.order_stages,
        )))
    if rule.within_days is not None:
        specs.append((_within, (
            gettext_noop("%(actual)s days since sign-off, more than %(expected)s"),
            gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'within %(expected)s days after sign-off' cannot apply"
            ),
            "days_since_sign_off", rule.within_days, int,
        )))
    if rule.after_days is not None:
        specs.append((_beyond, (
            gettext_noop("%(actual)s days since sign-off, not more than %(expected)s"),
            gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'more than %(expected)s days after sign-off' cannot apply"
            ),
            "days_since_sign_off", rule.after_days, int,
        )))
    if rule.warranty == Warranty.WITHIN:
        specs.append((_always, (_within_warranty,)))
    elif rule.warranty == Warranty.BEYOND:
        specs.append((_always, (_beyond_warranty,)))
    if rule.customer_tiers:
        specs.append((_one_of, (
            gettext_noop("Customer tier %(actual)s is not one of %(expected)s"),
            "customer_tier", rule.customer_tiers,
        )))
    if rule.evidence_any:
        specs.append((_evidence_any, (rule.evidence_any,)))
    if rule.evidence_absent:
        specs.append((_evidence_absent, (rule.evidence_absent,)))
    for bound, builder, key, attribute in (
        (rule.min_refunds_90d, _at_least,
         gettext_noop("%(actual)s refunds in 90 days, fewer than %(expected)s"), "refunds_90d"),
        (rule.max_refunds_90d, _at_most,
         gettext_noop("%(actual)s refunds in 90 days, more than %(expected)s"), "refunds_90d"),
        (rule.min_disputes_90d, _at_least,
         gettext_noop("%(actual)s disputes in 90 days, fewer than %(expected)s"),
         "disputes_90d"),
        (rule.max_disputes_90d, _at_most,
         gettext_noop("%(actual)s disputes in 90 days, more than %(expected)s"),
         "disputes_90d"),
    ):
        if bound is not None:
            specs.append((builder, (key, attribute, bound, int)))
    if rule.within_hours is not None:
        specs.append((_within, (
            gettext_noop("%(actual)s hours since sign-off, more than %(expected)s"),
            gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'within %(expected)s hours after sign-off' cannot apply"
            ),
            "hours_since_sign_off", rule.within_hours, _hours,
        )))
    if rule.after_hours is not None:
        specs.append((_beyond, (
            gettext_noop("%(actual)s hours since sign-off, not more than %(expected)s"),
            gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'more than %(expected)s hours after sign-off' cannot apply"
            ),
            "hours_since_sign_off", rule.after_hours, _hours,
        )))
    if rule.min_order_amount is not None:
        specs.append((_at_least, (
            gettext_noop("Order amount %(actual)s is below %(expected)s"),
            "order_paid_amount", rule.min_order_amount, _amount,
        )))
    if rule.max_order_amount is not None:
        specs.append((_at_most, (
            gettext_noop("Order amount %(actual)s is above %(expected)s"),
            "order_paid_amount", rule.max_order_amount, _amount,
        )))
    if rule.max_item_amount is not None:
        specs.append((_at_most, (
            gettext_noop("Item amount %(actual)s is above %(expected)s"),
            "item_paid_amount", rule.max_item_amount, _amount,
        )))
    if rule.min_merchant_silent_hours is not None:
        specs.append((_at_least, (
            gettext_noop("The merchant has been silent %(actual)s hours, less than %(expected)s"),
            "merchant_silent_hours", rule.min_merchant_silent_hours, _hours,
        )))
    return specs


# --- compiling rules -------------------------------------------------------------------------

MATCHED = Outcome.MATCHED.value
NOT_MATCHED = Outcome.NOT_MATCHED.value
NOT_REACHED = Outcome.NOT_REACHED.value
INACTIVE = Outcome.INACTIVE.value


def _validate(rule: Rule) -> None:
    """Raise ValueError if the rule cannot be decided with, naming the rule."""
    problems: list[str] = []
    if rule.verdict not in {v.value for v in Verdict}:
        problems.append(f"unknown verdict {rule.verdict!r}")
    if rule.refund_rule not in {r.value for r in RefundRule}:
        problems.append(f"unknown refund rule {rule.refund_rule!r}")
    if rule.warranty not in {w.value for w in Warranty}:
        problems.append(f"unknown warranty condition {rule.warranty!r}")
    unknown_stages = rule.order_stages - {s.value for s in OrderStage}
    if unknown_stages:
        problems.append(f"unknown order stages {sorted(unknown_stages)}")
    if rule.refund_rule == RefundRule.PERCENT_OF_ITEM and rule.refund_percent is None:
        problems.append("percent_of_item needs refund_percent")
    if rule.verdict == Verdict.NEEDS_APPROVAL and not rule.approval_role and not rule.statutory:
        problems.append("needs_approval needs an approval_role")
    for name in ("effective_from", "effective_to"):
        moment = getattr(rule, name)
        if moment is not None and moment.tzinfo is None:
            problems.append(f"{name} must be time-zone aware")
    if problems:
        raise ValueError(f"rule {rule.id} ({rule.name}): " + "; ".join(problems))


class _CompiledRule:
    """A rule ready to decide with: its conditions' places in the table and its fixed entries."""

    __slots__ = (
        "conditions", "matched_entry", "may_be_inactive", "not_matched_fields",
        "not_reached_entry", "rule",
    )

    def __init__(self, rule: Rule, conditions: tuple[int, ...]) -> None:
        self.rule = rule
        # Indexes into CompiledRules.conditions, in the order the trace lists failures.
        self.conditions = conditions
        self.may_be_inactive = (
            not rule.active or rule.effective_from is not None or rule.effective_to is not None
        )
        self.not_matched_fields = {
            "rule_id": rule.id, "rule_name": rule.name, "kind": rule.kind,
            "priority": rule.priority, "outcome": NOT_MATCHED,
        }
        self.matched_entry = self.entry(MATCHED, ())
        self.not_reached_entry = self.entry(NOT_REACHED, ())

    def entry(self, outcome: str, reasons: tuple[Message, ...]) -> TraceEntry:
        """Return a trace entry for this rule."""
        rule = self.rule
        return TraceEntry(rule.id, rule.name, rule.kind, rule.priority, outcome, reasons)

    def not_matched(self, reasons: tuple[Message, ...]) -> TraceEntry:
        """Return this rule's not_matched entry quoting reasons."""
        return _frozen(TraceEntry, {**self.not_matched_fields, "reasons": reasons})

    def inactive_entry(self, at: datetime) -> TraceEntry | None:
        """Return the entry saying why the rule does not apply at `at`, or None if it does."""
        rule = self.rule
        if not rule.active:
            reason = Message(gettext_noop("The rule is switched off"), {})
        elif rule.effective_from is not None and at < rule.effective_from:
            reason = Message(
                gettext_noop("The rule takes effect at %(effective_from)s"),
                {"effective_from": rule.effective_from.isoformat()},
            )
        elif rule.effective_to is not None and at >= rule.effective_to:
            reason = Message(
                gettext_noop("The rule stopped applying at %(effective_to)s"),
                {"effective_to": rule.effective_to.isoformat()},
            )
        else:
            return None
        return self.entry(INACTIVE, (reason,))


class CompiledRules:
    """The rules validated, grouped by kind in checking order, with their conditions built.

    Build once per version of the rule table (compile_rules) and decide many times; it holds
    no state that deciding changes, so threads may share it.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        seen: set[int] = set()
        groups: dict[str, list[Rule]] = {}
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id} appears twice")
            seen.add(rule.id)
            groups.setdefault(rule.kind, []).append(rule)
        ordered = sorted(
            (sorted(group, key=lambda r: (r.priority, r.id)) for group in groups.values()),
            key=lambda group: (group[0].priority, group[0].id),
        )
        conditions: list[Condition] = []
        places: dict[ConditionSpec, int] = {}

        def place(spec: ConditionSpec) -> int:
            if spec not in places:
                build, arguments = spec
                places[spec] = len(conditions)
                conditions.append(build(*arguments))
            return places[spec]

        compiled_groups = []
        for group in ordered:
            compiled = []
            for rule in group:
                _validate(rule)
                places_of_rule = tuple(place(spec) for spec in _conditions_of(rule))
                compiled.append(_CompiledRule(rule, places_of_rule))
            compiled_groups.append(tuple(compiled))
        # Kinds in checking order, each a tuple of its rules by priority, then id.
        self.groups: tuple[tuple[_CompiledRule, ...], ...] = tuple(compiled_groups)
        # Every distinct condition of the table, each checked once per decision.
        self.conditions: tuple[Condition, ...] = tuple(conditions)


def compile_rules(rules: Sequence[Rule]) -> CompiledRules:
    """Validate the rules and sort them per kind: kinds by their first rule, rules by priority."""
    return CompiledRules(rules)


@lru_cache(maxsize=16)
def _compile_cached(rules: tuple[Rule, ...]) -> CompiledRules:
    """Return the rules compiled, compiling each distinct table once."""
    return compile_rules(rules)


def _compiled(rules: Sequence[Rule]) -> CompiledRules:
    """Return the rules compiled, reusing an earlier compilation of equal rules."""
    as_tuple = tuple(rules)
    try:
        return _compile_cached(as_tuple)
    except TypeError:  # a rule holding a set or dict cannot be a cache key
        return compile_rules(as_tuple)


# --- outcomes --------------------------------------------------------------------------------

def _refund(rule: Rule, facts: Facts, notes: list[Message]) -> Decimal:
    """Return the refund the rule gives, noting how it was computed and which limit applied."""
    if rule.refund_rule == RefundRule.NONE:
        return ZERO
    remaining = max(money(facts.item_paid_amount - facts.already_refunded), ZERO)
    if rule.refund_rule == RefundRule.ITEM_REMAINING:
        amount = remaining
        notes.append(Message(
            gettext_noop(
                "Refund %(amount)s: the item's %(paid)s minus %(refunded)s already refunded"
            ),
            {"amount": str(amount), "paid": _amount(facts.item_paid_amount),
             "refunded": _amount(facts.already_refunded)},
        ))
    else:
        percent = rule.refund_percent or ZERO
        amount = max(money(percent * facts.item_paid_amount / HUNDRED), ZERO)
        notes.append(Message(
            gettext_noop("Refund %(percent)s %% of the item's %(paid)s = %(amount)s"),
            {"percent": str(percent), "paid": _amount(facts.item_paid_amount),
             "amount": str(amount)},
        ))
    if rule.refund_cap is not None:
        cap = max(money(rule.refund_cap), ZERO)
        if amount > cap:
            notes.append(Message(
                gettext_noop(
                    "The refund cap of %(cap)s lowered the refund from %(before)s to %(after)s"
                ),
                {"cap": str(cap), "before": str(amount), "after": str(cap)},
            ))
            amount = cap
    if amount > remaining:
        notes.append(Message(
            gettext_noop(
                "Only %(remaining)s of the item is left to refund, which lowered the refund "
                "from %(before)s to %(after)s"
            ),
            {"remaining": str(remaining), "before": str(amount), "after": str(remaining)},
        ))
        amount = remaining
    return amount


def _compensation(
    rule: Rule, facts: Facts, platform_cap_percent: Decimal, notes: list[Message]
) -> Decimal:
    """Return the compensation: percent of the order, within [min, cap], then the platform cap."""
    if rule.compensation_percent is None and rule.compensation_min is None:
        return ZERO
    order = facts.order_paid_amount
    amount = ZERO
    if rule.compensation_percent is not None:
        amount = max(money(rule.compensation_percent * order / HUNDRED), ZERO)
        notes.append(Message(
            gettext_noop("Compensation %(percent)s %% of the order's %(order)s = %(amount)s"),
            {"percent": str(rule.compensation_percent), "order": _amount(order),
             "amount": str(amount)},
        ))
    if rule.compensation_min is not None:
        minimum = money(rule.compensation_min)
        if amount < minimum:
            notes.append(Message(
                gettext_noop(
                    "The minimum of %(minimum)s raised the compensation "
                    "from %(before)s to %(after)s"
                ),
                {"minimum": str(minimum), "before": str(amount), "after": str(minimum)},
            ))
            amount = minimum
    if rule.compensation_cap is not None:
        cap = max(money(rule.compensation_cap), ZERO)
        if amount > cap:
            notes.append(Message(
                gettext_noop(
                    "The rule's cap of %(cap)s lowered the compensation "
                    "from %(before)s to %(after)s"
                ),
                {"cap": str(cap), "before": str(amount), "after": str(cap)},
            ))
            amount = cap
    if rule.statutory:
        notes.append(Message(
            gettext_noop(
                "Statutory compensation is exempt from the platform cap of %(percent)s %% "
                "of the order"
            ),
            {"percent": str(platform_cap_percent)},
        ))
        return amount
    platform_cap = max(money(platform_cap_percent * order / HUNDRED), ZERO)
    if amount > platform_cap:
        # The platform cap is the last word: it beats even the rule's own minimum.
        notes.append(Message(
            gettext_noop(
                "The platform cap of %(percent)s %% of the order (%(cap)s) lowered the "
                "compensation from %(before)s to %(after)s"
            ),
            {"percent": str(platform_cap_percent), "cap": str(platform_cap),
             "before": str(amount), "after": str(platform_cap)},
        ))
        amount = platform_cap
    return amount


def _option(rule: Rule, facts: Facts, platform_cap_percent: Decimal) -> Option:
    """Return the option the deciding rule gives for these facts, with its explanation."""
    notes: list[Message] = [
        Message(
            gettext_noop("Decided by rule %(rule_id)s \"%(rule)s\" (version %(version)s)"),
            {"rule_id": rule.id, "rule": rule.name, "version": rule.version},
        )
    ]
    if rule.source:
        notes.append(Message(gettext_noop("Source: %(source)s"), {"source": rule.source}))

    if rule.verdict == Verdict.DENY:
        notes.append(Message(gettext_noop("Not allowed: this rule denies the request"), {}))
        return Option(
            kind=rule.kind, verdict=Verdict.DENY.value, approval_role="",
            refund_amount=ZERO, compensation_amount=ZERO, coupon_amount=ZERO, points=0,
            freight_payer="", payer="", auto_execute=False,
            rule_id=rule.id, rule_name=rule.name, rule_version=rule.version,
            explanation=tuple(notes),
        )

    refund = _refund(rule, facts, notes)
    compensation = _compensation(rule, facts, platform_cap_percent, notes)
    coupon = max(money(rule.coupon_amount), ZERO) if rule.coupon_amount is not None else ZERO
    if coupon:
        notes.append(Message(gettext_noop("A coupon worth %(amount)s"), {"amount": str(coupon)}))
    points = max(rule.points or 0, 0)
    if points:
        notes.append(Message(gettext_noop("%(points)s points"), {"points": points}))

    verdict, approval_role, auto_execute = rule.verdict, rule.approval_role, rule.auto_execute
    if rule.statutory:
        verdict, approval_role = Verdict.NEEDS_APPROVAL, STATUTORY_APPROVAL_ROLE
    if verdict == Verdict.NEEDS_APPROVAL:
        # Nothing that waits for a person may run by itself.
        auto_execute = False
        notes.append(Message(
            gettext_noop("Needs approval by %(role)s"), {"role": approval_role}
        ))
    else:
        approval_role = ""
        if auto_execute:
            notes.append(Message(gettext_noop("Executed automatically"), {}))
    if rule.freight_payer:
        notes.append(Message(
            gettext_noop("Return freight is paid by %(freight_payer)s"),
            {"freight_payer": rule.freight_payer},
        ))
    if rule.payer and (refund or compensation or coupon or points):
        notes.append(Message(
            gettext_noop("The money is finally borne by %(payer)s"), {"payer": rule.payer}
        ))
    return Option(
        kind=rule.kind, verdict=str(verdict), approval_role=approval_role,
        refund_amount=refund, compensation_amount=compensation, coupon_amount=coupon,
        points=points, freight_payer=rule.freight_payer, payer=rule.payer,
        auto_execute=auto_execute,
        rule_id=rule.id, rule_name=rule.name, rule_version=rule.version,
        explanation=tuple(notes),
    )


# --- deciding --------------------------------------------------------------------------------

def decide(
    facts: Facts,
    rules: Sequence[Rule] | CompiledRules,
    *,
    platform_cap_percent: Decimal = PLATFORM_CAP_PERCENT,
) -> Decision:
    """Return the first matching rule's outcome per kind, with a trace of every rule checked.

    Pass a CompiledRules (compile_rules) to decide many times with one table; a plain
    sequence of rules is compiled and cached by value.
    """
    if facts.at.tzinfo is None:
        raise ValueError("Facts.at must be time-zone aware")
    table = rules if isinstance(rules, CompiledRules) else _compiled(rules)
    failures = [condition(facts) for condition in table.conditions]
    options: list[Option] = []
    trace: list[TraceEntry] = []
    for group in table.groups:
        decided = False
        for rule in group:
            if decided:
                trace.append(rule.not_reached_entry)
                continue
            if rule.may_be_inactive:
                inactive = rule.inactive_entry(facts.at)
                if inactive is not None:
                    trace.append(inactive)
                    continue
            reasons = tuple([
                failure for index in rule.conditions
                if (failure := failures[index]) is not None
            ])
            if reasons:
                trace.append(rule.not_matched(reasons))
            else:
                trace.append(rule.matched_entry)
                options.append(_option(rule.rule, facts, platform_cap_percent))
                decided = True
    return Decision(options=tuple(options), trace=tuple(trace))
