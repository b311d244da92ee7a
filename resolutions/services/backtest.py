"""Backtest of a policy change set: past decisions replayed under the live and the draft table.

Every resolution keeps the facts it was decided on (`Resolution.facts`). For the resolutions of
the last N days, the option of the resolution's kind is decided again from those facts, once
with the live rules and once with the rules as the change set would leave them
(`policies.services.changesets.draft_table`), and the two are compared: verdict, amounts, payer,
approving role, freight, the deciding rule.

The engine decides each kind from that kind's rules alone, so a kind whose rules the set leaves
as they are cannot change: its resolutions are counted, not replayed. The others are streamed
as plain values (no model instances) in chunks, so 100,000 decisions fit in memory and time
(bench/bench_backtest.py). Reads only; writes nothing: the read replica replays them when it is
fit (core.db), so a long backtest does not load the primary.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_type_hints

from django.conf import settings
from django.db.models import Count, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from core.db.scope import reads_from_replica
from policies import engine
from policies.models import Payer, PolicyChangeSet
from policies.services import changesets, rulebook
from resolutions.models import Resolution

DEFAULT_DAYS = 90
CHUNK = 2000
ZERO = Decimal("0.00")
NO_OPTION = "none"  # the "verdict" of a kind no rule offers any more (or offered before)


# --- stored facts back into the engine's Facts ----------------------------------------------------

def _kind_of(hint: Any) -> str:
    text = str(hint)
    if text.startswith("frozenset[datetime.date]"):
        return "dates"  # rest days, stored as ISO dates
    if text.startswith("frozenset"):
        return "frozenset"
    for kind in ("datetime.datetime", "Decimal"):
        if kind in text:
            return kind.rsplit(".", 1)[-1]
    return ""  # stored as it is read: str, int, bool


def _facts_reader() -> Callable[[Mapping[str, Any]], engine.Facts]:
    """Return a function from stored facts to Facts, built from the Facts fields' types.

    Built from the dataclass, so a fact added to the engine later is read without changes
    here; a stored snapshot without a fact that has no default raises KeyError (the case is
    counted as unreadable). The Facts is filled without its __init__, which would set each
    field through object.__setattr__ (it is frozen), unless Facts checks or derives something
    on creation (a __post_init__): reading is a large part of a replay's cost.
    """
    hints = get_type_hints(engine.Facts)
    names = frozenset(item.name for item in fields(engine.Facts))
    defaults = {item.name: item.default for item in fields(engine.Facts)
                if item.default is not MISSING}
    required = names - defaults.keys()
    times = [name for name in names if _kind_of(hints[name]) == "datetime"]
    amounts = [name for name in names if _kind_of(hints[name]) == "Decimal"]
    sets = [name for name in names if _kind_of(hints[name]) == "frozenset"]
    date_sets = [name for name in names if _kind_of(hints[name]) == "dates"]
    parse_time, new = datetime.fromisoformat, object.__new__
    checked = hasattr(engine.Facts, "__post_init__")

    def read(stored: Mapping[str, Any]) -> engine.Facts:
        if stored.keys() == names:
            values = dict(stored)
        else:  # an older or newer snapshot: what the engine knows, its defaults, or unreadable
            missing = required - stored.keys()
            if missing:
                raise KeyError(", ".join(sorted(missing)))
            values = {**defaults, **{key: value for key, value in stored.items()
                                     if key in names}}
        for name in times:
            value = values[name]
            if value is not None:
                values[name] = parse_time(value)
        for name in amounts:
            value = values[name]
            if value is not None:
                values[name] = Decimal(value)
        for name in sets:
            values[name] = frozenset(values[name] or ())
        for name in date_sets:
            values[name] = frozenset(map(date.fromisoformat, values[name] or ()))
        if checked:
            return engine.Facts(**values)
        facts = new(engine.Facts)
        facts.__dict__.update(values)
        return facts

    return read


# --- the result -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChangedCase:
    """One resolution whose option the change set would change."""

    resolution_id: int
    ticket_id: int
    ticket_number: str
    kind: str
    before: engine.Option | None
    after: engine.Option | None


@dataclass
class Backtest:
    days: int
    since: datetime
    decisions: int = 0          # resolutions in the window
    replayed: int = 0           # of those, decided again (their kind's rules change)
    changed: int = 0
    skipped: int = 0            # stored facts the engine can no longer read
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    # (kind, verdict before, verdict after) -> changed decisions
    by_verdict: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # who bears the money -> draft minus live (refund + compensation + coupon)
    money_delta: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(Payer.values, ZERO))
    cases: list[ChangedCase] = field(default_factory=list)
    changed_kinds: tuple[str, ...] = ()


def _key(rule: engine.Rule) -> engine.Rule:
    """Return the rule as far as it decides: a draft's version is 0, and the name and source
    only word the explanation (which the comparison of options leaves out)."""
    return replace(rule, version=0, name="", source="")


def _by_kind(rules: Iterable[engine.Rule]) -> dict[str, list[engine.Rule]]:
    groups: dict[str, list[engine.Rule]] = defaultdict(list)
    for rule in rules:
        groups[rule.kind].append(rule)
    return groups


def _money(option: engine.Option | None) -> Decimal:
    if option is None:
        return ZERO
    return option.refund_amount + option.compensation_amount + option.coupon_amount


def _same(before: engine.Option | None, after: engine.Option | None) -> bool:
    if before is None or after is None:
        return before is after
    return (before.verdict, before.approval_role, before.refund_amount,
            before.compensation_amount, before.coupon_amount, before.points,
            before.freight_payer, before.payer, before.auto_execute, before.rule_id) == (
        after.verdict, after.approval_role, after.refund_amount, after.compensation_amount,
        after.coupon_amount, after.points, after.freight_payer, after.payer,
        after.auto_execute, after.rule_id)


def _deciding_rule(table: engine.CompiledRules, facts: engine.Facts) -> engine.Rule | None:
    """Return the rule that decides under a table of one kind (as engine.decide finds it)."""
    for group in table.groups:
        for compiled in group:
            if compiled.matches(facts):
                return compiled.rule
    return None


def _rows(since: datetime, kinds: Iterable[str]) -> Iterator[tuple[int, int, str, Any]]:
    """Yield (id, ticket id, kind, stored facts) of the window's resolutions, newest first.

    Through a server-side cursor in chunks (on PostgreSQL), with the facts parsed here: the
    ORM's per-value converters cost as much as the parsing itself.
    """
    query = (Resolution.objects.filter(created_at__gte=since, kind__in=list(kinds))
             .order_by("-created_at", "-id")
             .annotate(stored=Cast("facts", TextField()))
             .values_list("id", "ticket_id", "kind", "stored"))
    loads = json.loads
    for resolution_id, ticket_id, kind, stored in query.iterator(chunk_size=CHUNK):
        yield resolution_id, ticket_id, kind, loads(stored) if stored else {}


@reads_from_replica
def backtest(change_set: PolicyChangeSet, *, days: int = DEFAULT_DAYS,
             at: datetime | None = None, case_limit: int = 200) -> Backtest:
    """Replay the last `days` days of decisions under the live and the draft table.

    `case_limit`: how many changed cases to keep (newest first) for the list; the counts
    and sums cover them all.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    since = (at or timezone.now()) - timedelta(days=days)
    result = Backtest(days=days, since=since)
    live = _by_kind(rulebook.load_rules())
    draft = _by_kind(changesets.draft_table(change_set))
    changed_kinds = sorted(kind for kind in set(live) | set(draft)
                           if [_key(r) for r in live.get(kind, [])]
                           != [_key(r) for r in draft.get(kind, [])])
    result.changed_kinds = tuple(changed_kinds)

    for row in (Resolution.objects.filter(created_at__gte=since).values("kind")
                .annotate(total=Count("id")).order_by("kind")):
        result.by_kind[row["kind"]] = {"decisions": row["total"], "replayed": 0, "changed": 0}
        result.decisions += row["total"]
    if not changed_kinds:
        return result

    cap = Decimal(settings.POLICY_PLATFORM_CAP_PERCENT)
    tables = {kind: (engine.compile_rules(live.get(kind, [])),
                     engine.compile_rules(draft.get(kind, []))) for kind in changed_kinds}
    # Live rules the draft keeps as they are: where one decides under both tables, the
    # option is the same and is not built (building options is most of a decision's cost).
    draft_keys = {rule.id: _key(rule) for rules in draft.values() for rule in rules}
    unchanged = {rule.id for rules in live.values() for rule in rules
                 if draft_keys.get(rule.id) == _key(rule)}
    read_facts = _facts_reader()
    delta: dict[str, Decimal] = defaultdict(lambda: ZERO)
    kept: list[tuple[int, int, str, engine.Option | None, engine.Option | None]] = []

    for resolution_id, ticket_id, kind, stored in _rows(since, changed_kinds):
        try:
            facts = read_facts(stored)
        except (TypeError, KeyError, ValueError, ArithmeticError):
            result.skipped += 1
            continue
        live_table, draft_table = tables[kind]
        counts = result.by_kind[kind]
        counts["replayed"] += 1
        result.replayed += 1
        live_rule = _deciding_rule(live_table, facts)
        draft_rule = _deciding_rule(draft_table, facts)
        if live_rule is None and draft_rule is None:
            continue
        if live_rule is not None and draft_rule is not None and \
                live_rule.id == draft_rule.id and live_rule.id in unchanged:
            continue  # the same rule, with the same values, decides: the same option
        before = None if live_rule is None else engine.option_for(live_rule, facts,
                                                            platform_cap_percent=cap)
        after = None if draft_rule is None else engine.option_for(draft_rule, facts,
                                                            platform_cap_percent=cap)
        if _same(before, after):
            continue
        counts["changed"] += 1
        result.changed += 1
        result.by_verdict[(kind, before.verdict if before else NO_OPTION,
                           after.verdict if after else NO_OPTION)] += 1
        if before is not None and before.payer:
            delta[before.payer] -= _money(before)
        if after is not None and after.payer:
            delta[after.payer] += _money(after)
        if len(kept) < case_limit:
            kept.append((resolution_id, ticket_id, kind, before, after))

    result.money_delta.update(delta)
    numbers = dict(Resolution.objects.filter(pk__in=[case[0] for case in kept])
                   .values_list("id", "ticket__number"))
    result.cases = [ChangedCase(resolution_id, ticket_id, numbers.get(resolution_id, ""), kind,
                                before, after)
                    for resolution_id, ticket_id, kind, before, after in kept]
    return result
