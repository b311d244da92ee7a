"""The after-sales decision engine: facts and rules in, options and a trace out.

Pure Python on purpose: it imports nothing from Django or the project, so it can be tested
without a database, replayed from stored facts and rules, and run many thousand times a
second. `policies/rulebook.py` turns the admin's rule rows into `Rule`s and a ticket's order
into `Facts`; those are the only places that touch the database.

Every sentence the engine produces is a `Message`: an English %-format msgid plus plain
parameters, translated only when shown (as Django's admin log does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache, lru_cache
from operator import attrgetter
from typing import Any, Generic, NamedTuple, TypeVar, overload
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
    return ZoneInfo(name)


def money(value: Decimal) -> Decimal:
    """Return value rounded to the cent, half up, as money is everywhere in the console."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


T = TypeVar("T")
_new_object = object.__new__


class _derived(Generic[T]):
    """Compute a property once per instance; unlike functools.cached_property, take no lock."""

    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    @overload
    def __get__(self, instance: None, owner: type) -> _derived[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> T | _derived[T]:
        if instance is None:
            return self
        value = self.function(instance)
        # Frozen dataclasses forbid setattr, not their __dict__; a non-data descriptor lets
        # the stored value win on every later lookup.
        instance.__dict__[self.name] = value
        return value


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

    @_derived
    def order_stage(self) -> OrderStage:
        """Return how far the order has got: unpaid, unshipped, in transit or signed."""
        if self._happened(self.signed_at):
            return OrderStage.SIGNED
        if self._happened(self.shipped_at):
            return OrderStage.IN_TRANSIT
        if self._happened(self.paid_at):
            return OrderStage.UNSHIPPED
        return OrderStage.UNPAID

    @_derived
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

    @_derived
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

    The engine reuses equal messages between decisions, so treat `params` as read-only.
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


# --- compiling rules -------------------------------------------------------------------------
#
# Deciding is two steps. The facts with few distinct values (reason, flags, condition, days
# since sign-off, ...) together with the outcome of each comparison on the others (hours,
# amounts: passed or not) fix which rules match and which conditions fail. That plan is worked
# out once per combination and remembered; each decision then only fills in the messages that
# quote exact hours or amounts, and the money, which depends on the amounts alone.

Test = Callable[[Facts], bool]
Explain = Callable[[Facts], Message]

# Facts with few distinct values: checks on them are part of the plan.
DISCRETE_ATTRIBUTES = frozenset({
    "item_category", "item_flags", "reason", "item_condition", "order_stage",
    "days_since_sign_off", "warranty_days", "customer_tier", "evidence", "refunds_90d",
    "disputes_90d",
})
# Facts that differ on almost every request: explanations quoting them are not remembered.
VOLATILE_ATTRIBUTES = frozenset({"hours_since_sign_off"})
# Memo sizes: enough for a busy day's combinations; a full memo is cleared, not evicted.
MEMO_LIMIT = 4096
PLAN_LIMIT = 16384

MATCHED = Outcome.MATCHED.value
NOT_MATCHED = Outcome.NOT_MATCHED.value
NOT_REACHED = Outcome.NOT_REACHED.value
INACTIVE = Outcome.INACTIVE.value

# Whether a rule applies at the moment of the decision.
ACTIVE, SWITCHED_OFF, NOT_YET, EXPIRED = range(4)


class _Check(NamedTuple):
    """One condition of a rule: the facts it reads, a fast test, and why it failed."""

    attributes: tuple[str, ...]
    test: Test
    explain: Explain
    # Equal signatures mean the same test and message, so rules can share one evaluation.
    signature: tuple[Any, ...] = ()

    @property
    def is_discrete(self) -> bool:
        """Return True if the facts it reads take few distinct values."""
        return DISCRETE_ATTRIBUTES.issuperset(self.attributes)

    @property
    def is_volatile(self) -> bool:
        """Return True if the facts it reads differ on almost every request."""
        return not VOLATILE_ATTRIBUTES.isdisjoint(self.attributes)


def _listed(values: frozenset[str]) -> str:
    return ", ".join(sorted(values)) if values else "-"


def _amount(value: Decimal) -> str:
    return str(money(value))


def _hours(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _member_check(key: str, attribute: str, expected: frozenset[str]) -> _Check:
    """Check that a single-valued fact is one of the expected values."""
    shown = _listed(expected)
    read = attrgetter(attribute)

    def test(facts: Facts) -> bool:
        return read(facts) in expected

    def explain(facts: Facts) -> Message:
        return Message(key, {"actual": str(read(facts) or "unknown"), "expected": shown})

    return _Check((attribute,), test, explain)


def _flags_check(*, required: frozenset[str], excluded: frozenset[str]) -> list[_Check]:
    checks = []
    if required:
        def required_test(facts: Facts) -> bool:
            return required <= facts.item_flags

        def required_explain(facts: Facts) -> Message:
            return Message(
                gettext_noop("The item is not flagged %(missing)s"),
                {"missing": _listed(required - facts.item_flags)},
            )

        checks.append(_Check(("item_flags",), required_test, required_explain))
    if excluded:
        def excluded_test(facts: Facts) -> bool:
            return excluded.isdisjoint(facts.item_flags)

        def excluded_explain(facts: Facts) -> Message:
            return Message(
                gettext_noop("The item is flagged %(present)s, which this rule excludes"),
                {"present": _listed(excluded & facts.item_flags)},
            )

        checks.append(_Check(("item_flags",), excluded_test, excluded_explain))
    return checks


def _evidence_checks(*, wanted: frozenset[str], unwanted: frozenset[str]) -> list[_Check]:
    checks = []
    if wanted:
        wanted_shown = _listed(wanted)

        def wanted_test(facts: Facts) -> bool:
            return not wanted.isdisjoint(facts.evidence)

        def wanted_explain(facts: Facts) -> Message:
            return Message(
                gettext_noop("Evidence has none of %(expected)s (it has %(actual)s)"),
                {"expected": wanted_shown, "actual": _listed(facts.evidence)},
            )

        checks.append(_Check(("evidence",), wanted_test, wanted_explain))
    if unwanted:
        def unwanted_test(facts: Facts) -> bool:
            return unwanted.isdisjoint(facts.evidence)

        def unwanted_explain(facts: Facts) -> Message:
            return Message(
                gettext_noop("Evidence includes %(present)s, which this rule excludes"),
                {"present": _listed(unwanted & facts.evidence)},
            )

        checks.append(_Check(("evidence",), unwanted_test, unwanted_explain))
    return checks


def _bound_check(
    key: str,
    attribute: str,
    bound: Decimal | int,
    *,
    is_minimum: bool,
    shown: Callable[[Any], str | int],
) -> _Check:
    """Check that a numeric fact is at least (or at most) the bound, both inclusive."""
    expected = shown(bound)
    read = attrgetter(attribute)

    if is_minimum:
        def test(facts: Facts) -> bool:
            return bool(read(facts) >= bound)
    else:
        def test(facts: Facts) -> bool:
            return bool(read(facts) <= bound)

    def explain(facts: Facts) -> Message:
        return Message(key, {"actual": shown(read(facts)), "expected": expected})

    return _Check((attribute,), test, explain, ("bound", attribute, is_minimum, bound))


def _window_check(
    *, attribute: str, limit: int, is_upper: bool, key: str, not_signed_key: str,
    shown: Callable[[Any], str | int],
) -> _Check:
    """Check a window after sign-off; an order not signed for never falls inside one."""
    read = attrgetter(attribute)

    if is_upper:
        def test(facts: Facts) -> bool:
            elapsed = read(facts)
            return elapsed is not None and elapsed <= limit
    else:
        def test(facts: Facts) -> bool:
            elapsed = read(facts)
            return elapsed is not None and elapsed > limit

    def explain(facts: Facts) -> Message:
        elapsed = read(facts)
        if elapsed is None:
            return Message(not_signed_key, {"expected": limit, "stage": str(facts.order_stage)})
        return Message(key, {"actual": shown(elapsed), "expected": limit})

    return _Check(
        (attribute, "order_stage"), test, explain, ("window", attribute, is_upper, limit)
    )


def _warranty_not_signed(facts: Facts) -> Message:
    return Message(
        gettext_noop(
            "Not signed for yet (order stage %(stage)s), so the warranty period cannot be checked"
        ),
        {"stage": str(facts.order_stage)},
    )


def _warranty_check(warranty: str) -> _Check:
    """Check sign-off age against the item's warranty days (no warranty = zero days)."""
    if warranty == Warranty.WITHIN:
        def test(facts: Facts) -> bool:
            days = facts.days_since_sign_off
            covered = facts.warranty_days or 0
            return days is not None and covered > 0 and days <= covered

        def explain(facts: Facts) -> Message:
            days = facts.days_since_sign_off
            if days is None:
                return _warranty_not_signed(facts)
            if not facts.warranty_days:
                return Message(gettext_noop("The item has no warranty"), {})
            return Message(
                gettext_noop(
                    "%(actual)s days since sign-off, beyond the warranty of %(warranty)s days"
                ),
                {"actual": days, "warranty": facts.warranty_days},
            )
    else:
        def test(facts: Facts) -> bool:
            days = facts.days_since_sign_off
            return days is not None and days > (facts.warranty_days or 0)

        def explain(facts: Facts) -> Message:
            days = facts.days_since_sign_off
            if days is None:
                return _warranty_not_signed(facts)
            return Message(
                gettext_noop(
                    "%(actual)s days since sign-off, still within the warranty of "
                    "%(warranty)s days"
                ),
                {"actual": days, "warranty": facts.warranty_days or 0},
            )

    return _Check(("days_since_sign_off", "warranty_days", "order_stage"), test, explain)


def _checks_for(rule: Rule) -> list[_Check]:
    """Return one check per condition the rule sets; unset conditions mean "any"."""
    checks: list[_Check] = []
    if rule.categories:
        checks.append(_member_check(
            gettext_noop("Category %(actual)s is not one of %(expected)s"),
            "item_category", rule.categories,
        ))
    checks += _flags_check(required=rule.required_flags, excluded=rule.excluded_flags)
    if rule.reasons:
        checks.append(_member_check(
            gettext_noop("Reason %(actual)s is not one of %(expected)s"),
            "reason", rule.reasons,
        ))
    if rule.item_conditions:
        checks.append(_member_check(
            gettext_noop("Item condition %(actual)s is not one of %(expected)s"),
            "item_condition", rule.item_conditions,
        ))
    if rule.order_stages:
        checks.append(_member_check(
            gettext_noop("Order stage %(actual)s is not one of %(expected)s"),
            "order_stage", rule.order_stages,
        ))
    if rule.within_days is not None:
        checks.append(_window_check(
            attribute="days_since_sign_off", limit=rule.within_days, is_upper=True, shown=int,
            key=gettext_noop("%(actual)s days since sign-off, more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'within %(expected)s days after sign-off' cannot apply"
            ),
        ))
    if rule.after_days is not None:
        checks.append(_window_check(
            attribute="days_since_sign_off", limit=rule.after_days, is_upper=False, shown=int,
            key=gettext_noop("%(actual)s days since sign-off, not more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'more than %(expected)s days after sign-off' cannot apply"
            ),
        ))
    if rule.within_hours is not None:
        checks.append(_window_check(
            attribute="hours_since_sign_off", limit=rule.within_hours, is_upper=True,
            shown=_hours,
            key=gettext_noop("%(actual)s hours since sign-off, more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'within %(expected)s hours after sign-off' cannot apply"
            ),
        ))
    if rule.after_hours is not None:
        checks.append(_window_check(
            attribute="hours_since_sign_off", limit=rule.after_hours, is_upper=False,
            shown=_hours,
            key=gettext_noop("%(actual)s hours since sign-off, not more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'more than %(expected)s hours after sign-off' cannot apply"
            ),
        ))
    if rule.warranty != Warranty.ANY:
        checks.append(_warranty_check(rule.warranty))
    if rule.min_order_amount is not None:
        checks.append(_bound_check(
            gettext_noop("Order amount %(actual)s is below %(expected)s"),
            "order_paid_amount", rule.min_order_amount, is_minimum=True, shown=_amount,
        ))
    if rule.max_order_amount is not None:
        checks.append(_bound_check(
            gettext_noop("Order amount %(actual)s is above %(expected)s"),
            "order_paid_amount", rule.max_order_amount, is_minimum=False, shown=_amount,
        ))
    if rule.max_item_amount is not None:
        checks.append(_bound_check(
            gettext_noop("Item amount %(actual)s is above %(expected)s"),
            "item_paid_amount", rule.max_item_amount, is_minimum=False, shown=_amount,
        ))
    if rule.customer_tiers:
        checks.append(_member_check(
            gettext_noop("Customer tier %(actual)s is not one of %(expected)s"),
            "customer_tier", rule.customer_tiers,
        ))
    checks += _evidence_checks(wanted=rule.evidence_any, unwanted=rule.evidence_absent)
    for attribute, bound, is_minimum, key in (
        ("refunds_90d", rule.min_refunds_90d, True,
         gettext_noop("%(actual)s refunds in 90 days, fewer than %(expected)s")),
        ("refunds_90d", rule.max_refunds_90d, False,
         gettext_noop("%(actual)s refunds in 90 days, more than %(expected)s")),
        ("disputes_90d", rule.min_disputes_90d, True,
         gettext_noop("%(actual)s disputes in 90 days, fewer than %(expected)s")),
        ("disputes_90d", rule.max_disputes_90d, False,
         gettext_noop("%(actual)s disputes in 90 days, more than %(expected)s")),
    ):
        if bound is not None:
            checks.append(_bound_check(key, attribute, bound, is_minimum=is_minimum, shown=int))
    if rule.min_merchant_silent_hours is not None:
        checks.append(_bound_check(
            gettext_noop("The merchant has been silent %(actual)s hours, less than %(expected)s"),
            "merchant_silent_hours", rule.min_merchant_silent_hours, is_minimum=True,
            shown=_hours,
        ))
    return checks


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


class _SecondSightMemo(Generic[T]):
    """A bounded memo that keeps a value from the second time its key is asked for.

    Values that are only ever needed once (a one-off combination of facts) would crowd the
    memo and make the garbage collector walk it; remembering the key costs less.
    """

    __slots__ = ("limit", "seen", "values")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.values: dict[Any, T] = {}
        self.seen: dict[Any, None] = {}

    def get(self, key: Any) -> T | None:
        """Return the value remembered under key, or None."""
        return self.values.get(key)

    def offer(self, key: Any, value: T) -> None:
        """Remember value if key was asked for before."""
        if key in self.seen:
            if len(self.values) >= self.limit:
                self.values.clear()
            self.values[key] = value
        else:
            if len(self.seen) >= self.limit:
                self.seen.clear()
            self.seen[key] = None


def _memoized(explain: Explain, attributes: tuple[str, ...]) -> Explain:
    """Return explain remembering its message per value of the facts it reads."""
    read = attrgetter(*attributes)
    memo: dict[Any, Message] = {}

    def remembered(facts: Facts) -> Message:
        key = read(facts)
        message = memo.get(key)
        if message is None:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            message = memo[key] = explain(facts)
        return message

    return remembered


class _CompiledRule:
    """A rule with its checks built, its constant trace entries made, and its memos."""

    __slots__ = (
        "comparisons", "discrete", "discrete_attributes", "inactive_entries", "key",
        "matched_entry", "memo", "not_matched_fields", "not_reached_entry", "options", "rule",
    )

    def __init__(self, rule: Rule, comparison_index: Callable[[_Check], int]) -> None:
        _validate(rule)
        self.rule = rule
        checks = _checks_for(rule)
        self.discrete = tuple(
            (check.test, _memoized(check.explain, check.attributes))
            for check in checks if check.is_discrete
        )
        # Indexes into the table's comparisons, which are evaluated once per decision.
        self.comparisons = tuple(
            comparison_index(check) for check in checks if not check.is_discrete
        )
        self.discrete_attributes = frozenset(
            name for check in checks if check.is_discrete for name in check.attributes
        )
        attributes = sorted(self.discrete_attributes)
        self.key: Callable[[Facts], Any] = (
            attrgetter(*attributes) if attributes else (lambda facts: None)
        )
        # discrete facts -> (why the discrete conditions fail, their not_matched entry or None)
        self.memo: dict[Any, tuple[tuple[Message, ...], TraceEntry | None]] = {}
        # (item paid, already refunded, order paid, platform cap) -> the option they give
        self.options: _SecondSightMemo[Option] = _SecondSightMemo(MEMO_LIMIT)
        self.not_matched_fields = {
            "rule_id": rule.id, "rule_name": rule.name, "kind": rule.kind,
            "priority": rule.priority, "outcome": NOT_MATCHED,
        }
        self.matched_entry = self.entry(MATCHED, ())
        self.not_reached_entry = self.entry(NOT_REACHED, ())
        # Keyed by the codes inactivity() returns.
        self.inactive_entries: dict[int, TraceEntry] = {
            SWITCHED_OFF: self.entry(
                INACTIVE, (Message(gettext_noop("The rule is switched off"), {}),)
            ),
        }
        if rule.effective_from is not None:
            self.inactive_entries[NOT_YET] = self.entry(INACTIVE, (Message(
                gettext_noop("The rule takes effect at %(effective_from)s"),
                {"effective_from": rule.effective_from.isoformat()},
            ),))
        if rule.effective_to is not None:
            self.inactive_entries[EXPIRED] = self.entry(INACTIVE, (Message(
                gettext_noop("The rule stopped applying at %(effective_to)s"),
                {"effective_to": rule.effective_to.isoformat()},
            ),))

    @property
    def may_be_inactive(self) -> bool:
        """Return True if the rule is switched off or limited to a period."""
        rule = self.rule
        return not rule.active or rule.effective_from is not None or rule.effective_to is not None

    def entry(self, outcome: str, reasons: tuple[Message, ...]) -> TraceEntry:
        """Return a trace entry for this rule."""
        rule = self.rule
        return TraceEntry(rule.id, rule.name, rule.kind, rule.priority, outcome, reasons)

    def not_matched(self, reasons: tuple[Message, ...]) -> TraceEntry:
        """Return a not_matched entry for this rule quoting these reasons."""
        # The same object entry() builds, without the frozen dataclass's __init__, which costs
        # three times as much; several rules need a fresh entry in every decision.
        entry = _new_object(TraceEntry)
        values = entry.__dict__
        values.update(self.not_matched_fields)
        values["reasons"] = reasons
        return entry

    def inactivity(self, at: datetime) -> int:
        """Return ACTIVE if the rule applies at `at`, else why not."""
        rule = self.rule
        if not rule.active:
            return SWITCHED_OFF
        if rule.effective_from is not None and at < rule.effective_from:
            return NOT_YET
        if rule.effective_to is not None and at >= rule.effective_to:
            return EXPIRED
        return ACTIVE

    def discrete_outcome(self, facts: Facts) -> tuple[tuple[Message, ...], TraceEntry | None]:
        """Return why the conditions on discrete facts fail, and the entry saying so, if any."""
        key = self.key(facts)
        found = self.memo.get(key)
        if found is None:
            reasons = tuple([explain(facts) for test, explain in self.discrete if not test(facts)])
            found = (reasons, self.entry(NOT_MATCHED, reasons) if reasons else None)
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = found
        return found

    def option(self, facts: Facts, platform_cap_percent: Decimal) -> Option:
        """Return this rule's option; it depends only on the amounts, so it is remembered."""
        key = (
            facts.item_paid_amount, facts.already_refunded, facts.order_paid_amount,
            platform_cap_percent,
        )
        found = self.options.get(key)
        if found is None:
            found = _option(self.rule, facts, platform_cap_percent)
            self.options.offer(key, found)
        return found


class _Pending:
    """A plan step for a rule that failed a comparison: its entry quotes this request's values."""

    __slots__ = ("failing", "reasons", "rule")

    def __init__(
        self, rule: _CompiledRule, reasons: tuple[Message, ...], failing: tuple[int, ...]
    ) -> None:
        self.rule = rule
        self.reasons = reasons
        self.failing = failing


class _Plan(NamedTuple):
    """Runs of finished trace entries (tuples) and pending steps, and the matching rules."""

    steps: tuple[tuple[TraceEntry, ...] | _Pending, ...]
    matched: tuple[_CompiledRule, ...]


class CompiledRules:
    """Rules grouped by kind and sorted for checking, with the memos that make deciding fast.

    Build once per version of the rule table (compile_rules) and decide many times; the
    memos fill as decisions are made and are safe to share between threads.
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
        signatures: dict[tuple[Any, ...], int] = {}
        comparisons: list[tuple[Test, Explain]] = []

        def comparison_index(check: _Check) -> int:
            index = signatures.get(check.signature)
            if index is None:
                explain = (
                    check.explain if check.is_volatile
                    else _memoized(check.explain, check.attributes)
                )
                comparisons.append((check.test, explain))
                index = signatures[check.signature] = len(comparisons) - 1
            return index

        self.rules = tuple(rules)
        self.groups = tuple(
            tuple(_CompiledRule(rule, comparison_index) for rule in group) for group in ordered
        )
        self.comparisons = tuple(comparisons)
        self.tests = tuple(test for test, _ in comparisons)
        self.timed = tuple(
            rule for group in self.groups for rule in group if rule.may_be_inactive
        )
        attributes = sorted({
            name for group in self.groups for rule in group for name in rule.discrete_attributes
        })
        self.key: Callable[[Facts], Any] = (
            attrgetter(*attributes) if attributes else (lambda facts: None)
        )
        self.plans: _SecondSightMemo[_Plan] = _SecondSightMemo(PLAN_LIMIT)

    def plan(self, facts: Facts) -> _Plan:
        """Return the plan for these facts, from the memo when the combination was seen."""
        passed = tuple([test(facts) for test in self.tests])
        activity = tuple([rule.inactivity(facts.at) for rule in self.timed])
        key = (self.key(facts), passed, activity)
        found = self.plans.get(key)
        if found is None:
            found = self._make_plan(facts, passed, dict(zip(self.timed, activity, strict=True)))
            self.plans.offer(key, found)
        return found

    def _make_plan(
        self, facts: Facts, passed: tuple[bool, ...], activity: dict[_CompiledRule, int]
    ) -> _Plan:
        """Check every rule in order: the first match per kind decides, the rest are skipped."""
        steps: list[tuple[TraceEntry, ...] | _Pending] = []
        finished: list[TraceEntry] = []
        matched: list[_CompiledRule] = []
        for group in self.groups:
            decided = False
            for rule in group:
                if decided:
                    finished.append(rule.not_reached_entry)
                    continue
                code = activity.get(rule, ACTIVE) if activity else ACTIVE
                if code != ACTIVE:
                    finished.append(rule.inactive_entries[code])
                    continue
                reasons, failed_entry = rule.discrete_outcome(facts)
                failing = (
                    tuple([index for index in rule.comparisons if not passed[index]])
                    if rule.comparisons else ()
                )
                if failing:
                    if finished:
                        steps.append(tuple(finished))
                        finished = []
                    steps.append(_Pending(rule, reasons, failing))
                elif failed_entry is not None:
                    finished.append(failed_entry)
                else:
                    finished.append(rule.matched_entry)
                    matched.append(rule)
                    decided = True
        if finished:
            steps.append(tuple(finished))
        return _Plan(tuple(steps), tuple(matched))


def compile_rules(rules: Sequence[Rule]) -> CompiledRules:
    """Validate the rules and sort them per kind: kinds by their first rule, rules by priority."""
    return CompiledRules(rules)


@lru_cache(maxsize=16)
def _compile_cached(rules: tuple[Rule, ...]) -> CompiledRules:
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
    plan = table.plan(facts)
    trace: list[TraceEntry] = []
    explained: dict[int, Message] = {}  # each failed comparison is explained once per request
    for step in plan.steps:
        if isinstance(step, tuple):
            trace.extend(step)
            continue
        more = []
        for index in step.failing:
            message = explained.get(index)
            if message is None:
                message = explained[index] = table.comparisons[index][1](facts)
            more.append(message)
        trace.append(step.rule.not_matched((*step.reasons, *more)))
    options = tuple([rule.option(facts, platform_cap_percent) for rule in plan.matched])
    return Decision(options=options, trace=tuple(trace))
