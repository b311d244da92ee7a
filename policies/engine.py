"""The after-sales decision engine: facts and rules in, options and a trace out.

Pure Python on purpose: it imports nothing from Django or the project, so it can be tested
without a database, replayed from stored facts and rules, and run many thousand times a
second. `policies/services/rulebook.py` turns the admin's rule rows into `Rule`s and a ticket's order
into `Facts`; those are the only places that touch the database.

Every sentence the engine produces is a `Message`: an English %-format msgid plus plain
parameters, translated only when shown (as Django's admin log does). A message names its
audience: the rule's number, version and source are for those who review decisions
(supervisors, QA, risk/legal); agents read the rule's own plain explanation instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache, cached_property, lru_cache
from operator import attrgetter
from typing import Any, NamedTuple
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
    ASSESSED_DAMAGE = "assessed_damage"


class CompensationBase(StrEnum):
    ORDER = "order"
    ITEM = "item"


class Warranty(StrEnum):
    ANY = "any"
    WITHIN = "within"
    BEYOND = "beyond"


# The approval role statutory rows always need, whatever the row says.
STATUTORY_APPROVAL_ROLE = "risk_legal"

# Who approves what, lowest first: an option above a role's limit goes up the ladder to the
# first role whose limit covers it (policies.models.ApprovalLimit holds the amounts).
APPROVAL_LADDER = ("agent", "senior_agent", "complaint_specialist", "supervisor", "risk_legal")

# A period counted in days whose last day is a rest day ends at the end of the next working
# day (Civil Code art. 203). No run of rest days in China is longer than this.
LONGEST_REST_RUN = 31


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
    # Local dates that are rest days (weekends and public holidays, make-up working days
    # excluded) in the last LONGEST_REST_RUN days before `at`: enough to move a period's
    # last day past them. Empty means "every day is a working day".
    rest_days: frozenset[date] = frozenset()
    # The customer asks for the compensation the law grants (CRPL art. 55, Food Safety Law
    # art. 148), rather than the platform's.
    claims_statutory: bool = False
    carrier_silent_hours: Decimal = Decimal("0")
    # The damage valued by repair cost or depreciation (an inspection or repair quote).
    assessed_damage: Decimal | None = None

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

    def days_window_end(self, days: int) -> date | None:
        """Return the local date on which a period of `days` after sign-off ends, or None.

        The period ends at 24:00 of day `days`; if that day is a rest day it ends at 24:00 of
        the next working day (Civil Code art. 203).
        """
        signed_at = self.signed_at
        if signed_at is None or signed_at > self.at:
            return None
        last = signed_at.astimezone(_zone(self.time_zone)).date() + timedelta(days=days)
        while last in self.rest_days:
            last += timedelta(days=1)
        return last

    def within_days_of_sign_off(self, days: int) -> bool:
        """Return True if `at` falls in the period of `days` after sign-off (see above)."""
        elapsed = self.days_since_sign_off
        if elapsed is None:
            return False
        if elapsed <= days:
            return True
        end = self.days_window_end(days)
        return end is not None and self.at.astimezone(_zone(self.time_zone)).date() <= end

    @property
    def remaining_refundable(self) -> Decimal:
        """Return what is left of the item to refund: paid minus already refunded, not below 0."""
        return max(money(self.item_paid_amount - self.already_refunded), ZERO)

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
    min_carrier_silent_hours: Decimal | None = None
    # None: any; True/False: the sign-off time must be known / unknown.
    sign_off_known: bool | None = None
    # None: any; True/False: the customer must / must not claim statutory compensation.
    claims_statutory: bool | None = None
    verdict: str = Verdict.ALLOW.value
    approval_role: str = ""
    freight_payer: str = ""
    payer: str = "merchant"
    refund_rule: str = RefundRule.NONE.value
    refund_percent: Decimal | None = None
    refund_cap: Decimal | None = None
    compensation_percent: Decimal | None = None
    compensation_base: str = CompensationBase.ORDER.value
    compensation_min: Decimal | None = None
    compensation_cap: Decimal | None = None
    coupon_amount: Decimal | None = None
    points: int | None = None
    warranty_extension_months: int | None = None
    auto_execute: bool = False
    statutory: bool = False
    source: str = ""
    # What agents read: the Chinese name, and the rule in the words an agent says it.
    name_zh: str = ""
    explanation_zh: str = ""
    explanation_en: str = ""


# Who a message is for: everyone who sees the decision, or only those who review decisions
# (the rule's number, version and source).
EVERYONE = "everyone"
REVIEWERS = "reviewers"

# The key of the rule's plain explanation. Its parameters carry both languages ("rule" and
# "rule_zh", "explanation" and "explanation_zh"); the reader's language picks one.
PLAIN_KEY = "%(explanation)s"


@dataclass(frozen=True)
class Message:
    """A translatable sentence: an English %-format msgid and the values that fill it."""

    key: str
    params: dict[str, str | int] = field(default_factory=dict)
    audience: str = EVERYONE

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
    # Per reason: what fact or evidence would meet the condition, in plain words, or None
    # where nothing the customer or agent can bring would (the reason, the category, ...).
    hints: tuple[Message | None, ...] = ()
    verdict: str = ""
    rule_name_zh: str = ""


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

    def __getattr__(self, name: str) -> Any:
        """Build the trace on its first read; Python asks only for attributes not found."""
        # decide() leaves the trace out because most callers want only the options; once
        # built it is stored as an ordinary attribute, so this runs once per decision.
        untraced = self.__dict__.get("_untraced")
        if name != "trace" or untraced is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.__dict__.setdefault("trace", _trace(*untraced))

    def __getstate__(self) -> dict[str, Any]:
        """Return the fields, for pickle and copy: plain data, not the rules behind the trace."""
        return {"options": self.options, "trace": self.trace}


# --- conditions ------------------------------------------------------------------------------
#
# Each condition a rule sets becomes a _Check: a fast test, used to find the deciding rules,
# and an explanation, used only when the trace is read, to say why a rule did not match.
# Both are closures over the rule's constants, which are formatted once, when compiling.

Test = Callable[[Facts], bool]
Explain = Callable[[Facts], Message]

# The facts computed from the others; their first read costs a time-zone conversion or a
# Decimal division, so the tests that read them run after the ones on plain facts.
DERIVED_FACTS = frozenset({"order_stage", "days_since_sign_off", "hours_since_sign_off"})


class _Check(NamedTuple):
    """One condition of a rule: whether the facts meet it, and why not if they do not.

    `hint` says what would meet it, where that is a fact or evidence that may yet come
    (a photo, a report, the merchant's 48 hours passing), for the "what would change it"
    of a request no rule allows.
    """

    test: Test
    explain: Explain
    reads_derived_fact: bool
    hint: Message | None = None


def _hinted(check: _Check, key: str, **params: str | int) -> _Check:
    """Return the check with its hint: `key` filled with `params`."""
    return check._replace(hint=Message(key, dict(params)))


def _listed(values: frozenset[str]) -> str:
    """Return the values sorted and comma-separated, or "-" if there are none."""
    return ", ".join(sorted(values)) if values else "-"


def _amount(value: Decimal) -> str:
    """Return an amount of money as messages show it: rounded to the cent."""
    return str(money(value))


def _hours(value: Decimal) -> str:
    """Return a number of hours as messages show it: to two decimals."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _plain_number(value: Decimal) -> str:
    """Return a number as people write it: 48, not 48.00; 1.5 stays 1.5."""
    return str(int(value)) if value == value.to_integral_value() else str(value.normalize())


def _one_of(key: str, attribute: str, expected: frozenset[str]) -> _Check:
    """Check that a single-valued fact is one of the expected values."""
    read = attrgetter(attribute)
    shown = _listed(expected)

    def test(facts: Facts) -> bool:
        return read(facts) in expected

    def explain(facts: Facts) -> Message:
        return Message(key, {"actual": str(read(facts) or "unknown"), "expected": shown})

    return _Check(test, explain, attribute in DERIVED_FACTS)


def _flagged(required: frozenset[str]) -> _Check:
    """Check that the item carries every one of the flags."""

    def test(facts: Facts) -> bool:
        return required <= facts.item_flags

    def explain(facts: Facts) -> Message:
        return Message(
            gettext_noop("The item is not flagged %(missing)s"),
            {"missing": _listed(required - facts.item_flags)},
        )

    return _Check(test, explain, False)


def _not_flagged(excluded: frozenset[str]) -> _Check:
    """Check that the item carries none of the flags."""

    def test(facts: Facts) -> bool:
        return excluded.isdisjoint(facts.item_flags)

    def explain(facts: Facts) -> Message:
        return Message(
            gettext_noop("The item is flagged %(present)s, which this rule excludes"),
            {"present": _listed(excluded & facts.item_flags)},
        )

    return _Check(test, explain, False)


def _evidence_any(wanted: frozenset[str]) -> _Check:
    """Check that the customer gave at least one of the kinds of evidence."""
    shown = _listed(wanted)

    def test(facts: Facts) -> bool:
        return not wanted.isdisjoint(facts.evidence)

    def explain(facts: Facts) -> Message:
        return Message(
            gettext_noop("Evidence has none of %(expected)s (it has %(actual)s)"),
            {"expected": shown, "actual": _listed(facts.evidence)},
        )

    return _Check(test, explain, False)


def _evidence_absent(unwanted: frozenset[str]) -> _Check:
    """Check that the customer gave none of the kinds of evidence."""

    def test(facts: Facts) -> bool:
        return unwanted.isdisjoint(facts.evidence)

    def explain(facts: Facts) -> Message:
        return Message(
            gettext_noop("Evidence includes %(present)s, which this rule excludes"),
            {"present": _listed(unwanted & facts.evidence)},
        )

    return _Check(test, explain, False)


def _bound(
    key: str,
    attribute: str,
    bound: Decimal | int,
    *,
    is_minimum: bool,
    shown: Callable[[Any], str | int],
) -> _Check:
    """Check that a numeric fact is at least (or at most) the bound, both inclusive."""
    read: Callable[[Facts], Decimal | int] = attrgetter(attribute)
    expected = shown(bound)

    if is_minimum:
        def test(facts: Facts) -> bool:
            return read(facts) >= bound
    else:
        def test(facts: Facts) -> bool:
            return read(facts) <= bound

    def explain(facts: Facts) -> Message:
        return Message(key, {"actual": shown(read(facts)), "expected": expected})

    return _Check(test, explain, False)


def _window(
    *, attribute: str, limit: int, is_upper: bool, key: str, not_signed_key: str,
    shown: Callable[[Any], str | int],
) -> _Check:
    """Check the days or hours since sign-off; an order not signed for is in no window."""
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

    return _Check(test, explain, True)


def _days_window(limit: int, *, is_upper: bool) -> _Check:
    """Check the period of `limit` days after sign-off, moved past rest days (Civil Code 203)."""
    if is_upper:
        key = gettext_noop("%(actual)s days since sign-off, more than %(expected)s")
        not_signed_key = gettext_noop(
            "Not signed for yet (order stage %(stage)s), so "
            "'within %(expected)s days after sign-off' cannot apply"
        )

        def test(facts: Facts) -> bool:
            return facts.within_days_of_sign_off(limit)
    else:
        key = gettext_noop("%(actual)s days since sign-off, not more than %(expected)s")
        not_signed_key = gettext_noop(
            "Not signed for yet (order stage %(stage)s), so "
            "'more than %(expected)s days after sign-off' cannot apply"
        )

        def test(facts: Facts) -> bool:
            return facts.days_since_sign_off is not None and not facts.within_days_of_sign_off(
                limit)

    def explain(facts: Facts) -> Message:
        elapsed = facts.days_since_sign_off
        if elapsed is None:
            return Message(not_signed_key, {"expected": limit, "stage": str(facts.order_stage)})
        if elapsed > limit and not is_upper:
            # Past day `limit` and still inside: the last day was a rest day.
            return Message(
                gettext_noop(
                    "Day %(expected)s after sign-off was a rest day, so the period runs to the "
                    "end of the next working day, %(end)s (Civil Code art. 203)"
                ),
                {"expected": limit, "end": str(facts.days_window_end(limit))},
            )
        return Message(key, {"actual": elapsed, "expected": limit})

    return _Check(test, explain, True)


def _flag_check(test: Test, key: str) -> _Check:
    """Check a yes/no condition; `key` says why it failed (no parameters)."""

    def explain(facts: Facts) -> Message:
        return Message(key, {})

    return _Check(test, explain, False)


def _sign_off_known(facts: Facts) -> bool:
    return facts.signed_at is not None


def _sign_off_unknown(facts: Facts) -> bool:
    return facts.signed_at is None


def _claims_statutory(facts: Facts) -> bool:
    return facts.claims_statutory


def _no_statutory_claim(facts: Facts) -> bool:
    return not facts.claims_statutory


def _something_to_refund(facts: Facts) -> bool:
    return facts.remaining_refundable > ZERO


def _nothing_refunded_explain(facts: Facts) -> Message:
    return Message(
        gettext_noop(
            "Nothing is left to refund: the item's %(paid)s has been refunded (%(refunded)s)"
        ),
        {"paid": _amount(facts.item_paid_amount), "refunded": _amount(facts.already_refunded)},
    )


NOTHING_TO_REFUND = _Check(_something_to_refund, _nothing_refunded_explain, False)


def _damage_assessed(facts: Facts) -> bool:
    return facts.assessed_damage is not None


def _warranty_not_signed(facts: Facts) -> Message:
    """Return why the warranty cannot be checked on an order not signed for."""
    return Message(
        gettext_noop(
            "Not signed for yet (order stage %(stage)s), so the warranty period cannot be checked"
        ),
        {"stage": str(facts.order_stage)},
    )


def _within_warranty_test(facts: Facts) -> bool:
    """Return True if the item has a warranty and sign-off is no longer ago than it covers."""
    days = facts.days_since_sign_off
    covered = facts.warranty_days or 0
    return days is not None and covered > 0 and days <= covered


def _within_warranty_explain(facts: Facts) -> Message:
    """Return why the item is not within its warranty."""
    days = facts.days_since_sign_off
    if days is None:
        return _warranty_not_signed(facts)
    if not facts.warranty_days:
        return Message(gettext_noop("The item has no warranty"), {})
    return Message(
        gettext_noop("%(actual)s days since sign-off, beyond the warranty of %(warranty)s days"),
        {"actual": days, "warranty": facts.warranty_days},
    )


def _beyond_warranty_test(facts: Facts) -> bool:
    """Return True if sign-off is longer ago than the warranty (none counts as 0 days)."""
    days = facts.days_since_sign_off
    return days is not None and days > (facts.warranty_days or 0)


def _beyond_warranty_explain(facts: Facts) -> Message:
    """Return why the item is still within its warranty, or cannot be checked."""
    days = facts.days_since_sign_off
    if days is None:
        return _warranty_not_signed(facts)
    return Message(
        gettext_noop(
            "%(actual)s days since sign-off, still within the warranty of %(warranty)s days"
        ),
        {"actual": days, "warranty": facts.warranty_days or 0},
    )


WITHIN_WARRANTY = _Check(_within_warranty_test, _within_warranty_explain, True)
BEYOND_WARRANTY = _Check(_beyond_warranty_test, _beyond_warranty_explain, True)


def _checks_for(rule: Rule) -> list[_Check]:
    """Return one check per condition the rule sets (unset means "any"), in trace order.

    The trace lists what the request is (category, flags, reason, condition, stage, days,
    warranty, tier, evidence, history) before the hours and amounts it is measured by.
    """
    checks: list[_Check] = []
    if rule.categories:
        checks.append(_one_of(
            gettext_noop("Category %(actual)s is not one of %(expected)s"),
            "item_category", rule.categories,
        ))
    if rule.required_flags:
        checks.append(_flagged(rule.required_flags))
    if rule.excluded_flags:
        checks.append(_not_flagged(rule.excluded_flags))
    if rule.reasons:
        checks.append(_one_of(
            gettext_noop("Reason %(actual)s is not one of %(expected)s"),
            "reason", rule.reasons,
        ))
    if rule.item_conditions:
        checks.append(_one_of(
            gettext_noop("Item condition %(actual)s is not one of %(expected)s"),
            "item_condition", rule.item_conditions,
        ))
    if rule.order_stages:
        checks.append(_one_of(
            gettext_noop("Order stage %(actual)s is not one of %(expected)s"),
            "order_stage", rule.order_stages,
        ))
    if rule.within_days is not None:
        checks.append(_hinted(
            _days_window(rule.within_days, is_upper=True),
            gettext_noop("the request is made within %(expected)s days of sign-off"),
            expected=rule.within_days))
    if rule.after_days is not None:
        # No hint for the "later than" windows: waiting is no advice to give a customer.
        checks.append(_days_window(rule.after_days, is_upper=False))
    if rule.sign_off_known is True:
        checks.append(_hinted(
            _flag_check(_sign_off_known, gettext_noop("The sign-off time is unknown")),
            gettext_noop("the sign-off time is known (from the carrier's tracking)")))
    elif rule.sign_off_known is False:
        checks.append(_flag_check(_sign_off_unknown, gettext_noop("The sign-off time is known")))
    if rule.warranty == Warranty.WITHIN:
        checks.append(WITHIN_WARRANTY)
    elif rule.warranty == Warranty.BEYOND:
        checks.append(BEYOND_WARRANTY)
    if rule.customer_tiers:
        checks.append(_one_of(
            gettext_noop("Customer tier %(actual)s is not one of %(expected)s"),
            "customer_tier", rule.customer_tiers,
        ))
    if rule.evidence_any:
        checks.append(_hinted(
            _evidence_any(rule.evidence_any),
            gettext_noop("the customer provides one of: %(expected)s"),
            expected=_listed(rule.evidence_any)))
    if rule.evidence_absent:
        checks.append(_evidence_absent(rule.evidence_absent))
    if rule.claims_statutory is True:
        checks.append(_hinted(
            _flag_check(_claims_statutory, gettext_noop(
                "The customer does not claim statutory compensation")),
            gettext_noop("the customer claims the compensation the law grants")))
    elif rule.claims_statutory is False:
        checks.append(_flag_check(_no_statutory_claim, gettext_noop(
            "The customer claims statutory compensation")))
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
            checks.append(_bound(key, attribute, bound, is_minimum=is_minimum, shown=int))
    if rule.within_hours is not None:
        checks.append(_hinted(_window(
            attribute="hours_since_sign_off", limit=rule.within_hours, is_upper=True,
            shown=_hours,
            key=gettext_noop("%(actual)s hours since sign-off, more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'within %(expected)s hours after sign-off' cannot apply"
            ),
        ), gettext_noop("the request is made within %(expected)s hours of sign-off"),
            expected=rule.within_hours))
    if rule.after_hours is not None:
        checks.append(_window(
            attribute="hours_since_sign_off", limit=rule.after_hours, is_upper=False,
            shown=_hours,
            key=gettext_noop("%(actual)s hours since sign-off, not more than %(expected)s"),
            not_signed_key=gettext_noop(
                "Not signed for yet (order stage %(stage)s), so "
                "'more than %(expected)s hours after sign-off' cannot apply"
            ),
        ))
    if rule.min_order_amount is not None:
        checks.append(_bound(
            gettext_noop("Order amount %(actual)s is below %(expected)s"),
            "order_paid_amount", rule.min_order_amount, is_minimum=True, shown=_amount,
        ))
    if rule.max_order_amount is not None:
        checks.append(_bound(
            gettext_noop("Order amount %(actual)s is above %(expected)s"),
            "order_paid_amount", rule.max_order_amount, is_minimum=False, shown=_amount,
        ))
    if rule.max_item_amount is not None:
        checks.append(_bound(
            gettext_noop("Item amount %(actual)s is above %(expected)s"),
            "item_paid_amount", rule.max_item_amount, is_minimum=False, shown=_amount,
        ))
    if rule.min_merchant_silent_hours is not None:
        checks.append(_hinted(_bound(
            gettext_noop("The merchant has been silent %(actual)s hours, less than %(expected)s"),
            "merchant_silent_hours", rule.min_merchant_silent_hours, is_minimum=True,
            shown=_hours,
        ), gettext_noop("the merchant has not answered for %(expected)s hours"),
            expected=_plain_number(rule.min_merchant_silent_hours)))
    if rule.min_carrier_silent_hours is not None:
        checks.append(_hinted(_bound(
            gettext_noop("The carrier has been silent %(actual)s hours, less than %(expected)s"),
            "carrier_silent_hours", rule.min_carrier_silent_hours, is_minimum=True,
            shown=_hours,
        ), gettext_noop("the carrier has not offered a solution for %(expected)s hours"),
            expected=_plain_number(rule.min_carrier_silent_hours)))
    # A rule that refunds needs something left to refund (a fully refunded item is offered
    # no return with a refund of 0.00), and a refund of the assessed damage needs the amount.
    if rule.refund_rule != RefundRule.NONE and rule.verdict != Verdict.DENY:
        checks.append(NOTHING_TO_REFUND)
    if rule.refund_rule == RefundRule.ASSESSED_DAMAGE:
        checks.append(_hinted(
            _flag_check(_damage_assessed, gettext_noop(
                "The damage has not been assessed (no repair cost or depreciation given)")),
            gettext_noop("the damage is assessed (repair cost or depreciation)")))
    if not _gives_in_kind(rule):
        # Last: it computes the amounts, so it runs only where every other condition holds.
        checks.append(_gives_money_check(rule))
    return checks


# The kinds that give the customer goods or a service (a new item, a repair, a recall, more
# warranty), so an option of them is worth offering even with no money in it.
IN_KIND = frozenset({"exchange", "repair", "reissue", "recall", "extended_warranty"})


def _gives_in_kind(rule: Rule) -> bool:
    """Return True if the rule gives something besides money, or refuses (a deny is shown)."""
    return (rule.verdict == Verdict.DENY or rule.kind in IN_KIND
            or (rule.coupon_amount or ZERO) > ZERO or (rule.points or 0) > 0
            or (rule.warranty_extension_months or 0) > 0)


def gives_something(option: Option) -> bool:
    """Return True if the option gives the customer money, goods, a service, a coupon or points.

    A deny gives nothing but is shown (it says which rule refused); anything else that gives
    nothing is not worth proposing.
    """
    return (option.kind in IN_KIND or option.refund_amount > ZERO
            or option.compensation_amount > ZERO or option.coupon_amount > ZERO
            or option.points > 0)


def _gives_money_check(rule: Rule) -> _Check:
    """Check that a rule that gives only money gives some: no option worth 0.00 is offered.

    The platform cap is left out (it is a parameter of decide(), not a fact); it lowers an
    amount to zero only for an order paid nothing, which the refund check already refuses.
    """

    def test(facts: Facts) -> bool:
        if rule.refund_rule != RefundRule.NONE and facts.remaining_refundable <= ZERO:
            return True  # the "nothing is left to refund" check says why, once
        notes: list[Message] = []
        return (_refund(rule, facts, notes) > ZERO
                or _compensation(rule, facts, HUNDRED, notes) > ZERO)

    def explain(facts: Facts) -> Message:
        return Message(gettext_noop(
            "The rule would give nothing here (no money, goods, repair, coupon or points), so "
            "it is not offered"), {})

    return _Check(test, explain, True)


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
    if rule.compensation_base not in {b.value for b in CompensationBase}:
        problems.append(f"unknown compensation base {rule.compensation_base!r}")
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
    """A rule with its checks built and the trace entries that never change made once."""

    __slots__ = (
        "checks", "matched_entry", "may_be_inactive", "not_reached_entry", "rule", "tests",
    )

    def __init__(self, rule: Rule) -> None:
        _validate(rule)
        self.rule = rule
        self.checks = tuple(_checks_for(rule))
        # Tests on plain facts first: most rules fail one of them before a derived fact is read.
        self.tests = tuple(
            check.test for check in sorted(self.checks, key=attrgetter("reads_derived_fact"))
        )
        self.may_be_inactive = (
            not rule.active or rule.effective_from is not None or rule.effective_to is not None
        )
        self.matched_entry = self.entry(MATCHED, ())
        self.not_reached_entry = self.entry(NOT_REACHED, ())

    def entry(self, outcome: str, reasons: tuple[Message, ...],
              hints: tuple[Message | None, ...] = ()) -> TraceEntry:
        """Return a trace entry for this rule."""
        rule = self.rule
        return TraceEntry(rule.id, rule.name, rule.kind, rule.priority, outcome, reasons, hints,
                          rule.verdict, rule.name_zh)

    def inactive_reason(self, at: datetime) -> Message | None:
        """Return why the rule does not apply at `at`, or None if it does."""
        rule = self.rule
        if not rule.active:
            return Message(gettext_noop("The rule is switched off"), {})
        if rule.effective_from is not None and at < rule.effective_from:
            return Message(
                gettext_noop("The rule takes effect at %(effective_from)s"),
                {"effective_from": rule.effective_from.isoformat()},
            )
        if rule.effective_to is not None and at >= rule.effective_to:
            return Message(
                gettext_noop("The rule stopped applying at %(effective_to)s"),
                {"effective_to": rule.effective_to.isoformat()},
            )
        return None

    def matches(self, facts: Facts) -> bool:
        """Return True if the rule applies at the facts' moment and they meet every condition."""
        if self.may_be_inactive and self.inactive_reason(facts.at) is not None:
            return False
        # A plain loop: all() over a generator doubles the cost of deciding.
        for test in self.tests:  # noqa: SIM110
            if not test(facts):
                return False
        return True

    def checked_entry(self, facts: Facts) -> TraceEntry:
        """Return the entry of this rule checked: inactive, not matched (why) or matched."""
        inactive = self.inactive_reason(facts.at) if self.may_be_inactive else None
        if inactive is not None:
            return self.entry(INACTIVE, (inactive,))
        failed = [check for check in self.checks if not check.test(facts)]
        if not failed:
            return self.matched_entry
        return self.entry(NOT_MATCHED, tuple([check.explain(facts) for check in failed]),
                          tuple([check.hint for check in failed]))


class CompiledRules:
    """The rules validated, their checks built, and grouped by kind in checking order.

    Build once per version of the rule table (compile_rules) and decide many times; deciding
    changes nothing in it, so threads may share it.
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
        # One tuple per kind, kinds by their first rule, rules by priority then id.
        self.groups = tuple(tuple(_CompiledRule(rule) for rule in group) for group in ordered)


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
    remaining = facts.remaining_refundable
    if rule.refund_rule == RefundRule.ASSESSED_DAMAGE:
        amount = max(money(facts.assessed_damage or ZERO), ZERO)
        notes.append(Message(
            gettext_noop("Refund the assessed damage (repair cost or depreciation) of %(amount)s"),
            {"amount": str(amount)},
        ))
    elif rule.refund_rule == RefundRule.ITEM_REMAINING:
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
        if rule.compensation_base == CompensationBase.ITEM:
            # The law's multiple is of the price of the goods concerned, not the whole order.
            base = facts.item_paid_amount
            amount = max(money(rule.compensation_percent * base / HUNDRED), ZERO)
            notes.append(Message(
                gettext_noop(
                    "Compensation %(percent)s %% of the item's price %(paid)s = %(amount)s"
                ),
                {"percent": str(rule.compensation_percent), "paid": _amount(base),
                 "amount": str(amount)},
            ))
        else:
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


def _approver(role: str, amount: Decimal, limits: Mapping[str, Decimal | None] | None,
              notes: list[Message]) -> str:
    """Return the lowest role, from `role` up the ladder, whose limit covers `amount`.

    A role without a limit row may approve nothing (as resolutions.services reads it);
    risk/legal, the top of the ladder, takes what no one below may.
    """
    if limits is None or role not in APPROVAL_LADDER:
        return role
    for candidate in APPROVAL_LADDER[APPROVAL_LADDER.index(role):]:
        limit = limits.get(candidate, ZERO)
        if limit is None or amount <= limit:
            break
    if candidate != role:
        notes.append(Message(
            gettext_noop(
                "%(amount)s is above the approval limit of %(role)s (%(limit)s), so "
                "%(approver)s approves"
            ),
            {"amount": str(amount), "role": role, "limit": str(limits.get(role, ZERO)),
             "approver": candidate},
        ))
    return candidate


def plain_message(rule: Rule) -> Message:
    """Return the rule's name and plain explanation in both languages, for every reader."""
    return Message(PLAIN_KEY, {"rule": rule.name, "rule_zh": rule.name_zh,
                               "explanation": rule.explanation_en,
                               "explanation_zh": rule.explanation_zh})


def _option(rule: Rule, facts: Facts, platform_cap_percent: Decimal,
            approval_limits: Mapping[str, Decimal | None] | None = None) -> Option:
    """Return the option the deciding rule gives for these facts, with its explanation."""
    notes: list[Message] = [
        plain_message(rule),
        Message(
            gettext_noop("Decided by rule %(rule_id)s \"%(rule)s\" (version %(version)s)"),
            {"rule_id": rule.id, "rule": rule.name, "rule_zh": rule.name_zh,
             "version": rule.version},
            REVIEWERS,
        ),
    ]
    if rule.source:
        notes.append(Message(gettext_noop("Source: %(source)s"), {"source": rule.source},
                             REVIEWERS))

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

    if rule.warranty_extension_months:
        notes.append(Message(
            gettext_noop("The warranty is extended by %(months)s months"),
            {"months": rule.warranty_extension_months},
        ))

    verdict, approval_role, auto_execute = rule.verdict, rule.approval_role, rule.auto_execute
    if rule.statutory:
        verdict, approval_role = Verdict.NEEDS_APPROVAL, STATUTORY_APPROVAL_ROLE
    if verdict == Verdict.NEEDS_APPROVAL:
        # Nothing that waits for a person may run by itself.
        auto_execute = False
        approval_role = _approver(approval_role, refund + compensation + coupon,
                                  approval_limits, notes)
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
    approval_limits: Mapping[str, Decimal | None] | None = None,
) -> Decision:
    """Return the first matching rule's outcome per kind, with a trace of every rule checked.

    Pass a CompiledRules (compile_rules) to decide many times with one table; a plain
    sequence of rules is compiled and cached by value. The trace is built when first read.
    `approval_limits` (role -> largest amount, None for no limit) moves an option that needs
    approval up APPROVAL_LADDER to the first role whose limit covers its amount.
    """
    if facts.at.tzinfo is None:
        raise ValueError("Facts.at must be time-zone aware")
    table = rules if isinstance(rules, CompiledRules) else _compiled(rules)
    options: list[Option] = []
    for group in table.groups:
        for rule in group:
            if rule.matches(facts):
                options.append(_option(rule.rule, facts, platform_cap_percent, approval_limits))
                break
    decision = object.__new__(Decision)
    # Most callers want only the options, so the trace waits for Decision.__getattr__.
    decision.__dict__.update(options=tuple(options), _untraced=(table, facts))
    return decision


def _trace(table: CompiledRules, facts: Facts) -> tuple[TraceEntry, ...]:
    """Return each rule's entry: checked up to the first match of its kind, then not reached."""
    trace: list[TraceEntry] = []
    for group in table.groups:
        decided = False
        for rule in group:
            if decided:
                trace.append(rule.not_reached_entry)
            else:
                entry = rule.checked_entry(facts)
                trace.append(entry)
                decided = entry.outcome == MATCHED
    return tuple(trace)


def option_for(
    rule: Rule, facts: Facts, *, platform_cap_percent: Decimal = PLATFORM_CAP_PERCENT
) -> Option:
    """Return the option `rule` gives for the facts, as decide() does when the rule decides.

    For replays that have already found the deciding rule (the backtest of a change set).
    """
    return _option(rule, facts, platform_cap_percent)


def near_misses(trace: Sequence[TraceEntry], *, most_failed: int = 2) -> list[TraceEntry]:
    """Return the rules that would offer something if one or two facts were different.

    A rule qualifies when it was checked and failed, does not deny, and every condition it
    failed (at most `most_failed`) has a hint: evidence the customer may still provide or a
    time that may still pass, not the request's reason or the item's category. Fewest failed
    conditions first, then in checking order.
    """
    found = [
        entry for entry in trace
        if entry.outcome == NOT_MATCHED and entry.verdict != Verdict.DENY
        and 0 < len(entry.hints) <= most_failed and all(entry.hints)
    ]
    return sorted(found, key=lambda entry: len(entry.hints))
