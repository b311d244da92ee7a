"""Measure how many after-sales decisions per second the policy engine makes on new facts.

Run from the project root:

    .venv/bin/python bench/bench_policy_engine.py [--facts 15000] [--rounds 5] [--seed 7]

It builds `Rule`s straight from policies/services/defaults.py (ids 1..n, version 1). Each round draws
--facts varied `Facts` kwargs with a fixed seed and decides each once ("first sight"), twice
over, each time against a freshly compiled table and building the `Facts` inside the timed
loop, as the console does for every request:

- first sight: the options only, as most callers use a decision (the headline figure);
- with trace: also reading each decision's trace, which the engine builds on first read.

Each figure is the median of the rounds.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.engine import Facts, Rule, compile_rules, decide
from policies.services.defaults import DEFAULT_RULES

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=SHANGHAI)

# Rough shares of real traffic: most requests are plain returns and quality complaints.
REASONS = {
    "no_reason": 35, "quality_defect": 25, "not_as_described": 8, "logistics_damage": 8,
    "wrong_item": 5, "missing_item": 5, "late_shipment": 5, "delivery_timeout": 5,
    "counterfeit": 2, "other": 2,
}
CATEGORIES = [
    "electronics", "home_appliance", "apparel", "beauty", "food_fresh", "food_packaged",
    "home", "mother_baby", "books", "digital_goods", "jewelry", "other",
]
FLAGS = [
    "custom_made", "perishable", "digital", "periodical", "hygiene_sealed",
    "no_return_confirmed", "sanbao", "freight_insured",
]
EVIDENCE = ["photo", "video", "screenshot", "inspection_report", "logistics_proof", "chat_record"]
CONDITIONS = {"intact": 50, "opened": 30, "used": 10, "damaged": 5, "": 5}


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    """Return one key of weights, drawn in proportion to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def default_table() -> list[Rule]:
    """Return the default rows as engine rules, numbered 1..n, version 1."""
    return [
        Rule(id=number, version=1, **{k: v for k, v in row.items() if k != "name_zh"})
        for number, row in enumerate(DEFAULT_RULES, start=1)
    ]


def random_facts(rng: random.Random) -> dict[str, Any]:
    """Return the keyword arguments of one plausible, randomly drawn Facts."""
    paid_at = NOW - timedelta(minutes=rng.randint(60, 60 * 24 * 60))
    stage = rng.choices(["unshipped", "in_transit", "signed"], weights=[5, 10, 85])[0]
    shipped_at = signed_at = None
    if stage != "unshipped":
        shipped_at = min(paid_at + timedelta(hours=rng.randint(2, 96)), NOW)
    if stage == "signed" and shipped_at is not None:
        signed_at = min(shipped_at + timedelta(minutes=rng.randint(600, 60 * 24 * 5)), NOW)
    item_paid = Decimal(rng.randint(100, 500_000)) / 100
    flags = frozenset(flag for flag in FLAGS if rng.random() < 0.08)
    return {
        "at": NOW,
        "order_paid_amount": item_paid + Decimal(rng.choice([0, 0, 0, 1500, 9900])) / 100,
        "paid_at": paid_at,
        "shipped_at": shipped_at,
        "signed_at": signed_at,
        "promised_delivery_at": None,
        "customer_tier": rng.choices(["normal", "vip", "svip"], weights=[80, 15, 5])[0],
        "item_category": rng.choice(CATEGORIES),
        "item_flags": flags,
        "item_paid_amount": item_paid,
        "item_quantity": rng.randint(1, 3),
        "already_refunded": rng.choice([Decimal(0)] * 9 + [item_paid / 4]),
        "warranty_days": rng.choice([None, 0, 90, 365, 365, 730]),
        "reason": pick(rng, REASONS),
        "item_condition": pick(rng, CONDITIONS),
        "evidence": frozenset(kind for kind in EVIDENCE if rng.random() < 0.3),
        "refunds_90d": rng.choices([0, 1, 2, 3, 6], weights=[60, 20, 10, 6, 4])[0],
        "disputes_90d": rng.choices([0, 1, 2], weights=[85, 12, 3])[0],
        "merchant_silent_hours": rng.choice([Decimal(0)] * 8 + [Decimal(rng.randint(1, 96))]),
    }


def first_sight(
    rules: list[Rule], samples: list[dict[str, Any]], *, read_trace: bool
) -> tuple[float, float]:
    """Return decisions per wall and per CPU second, deciding each sample once, fresh table."""
    compiled = compile_rules(rules)
    started, started_cpu = time.perf_counter(), time.process_time()
    for kwargs in samples:
        decision = decide(Facts(**kwargs), compiled)
        if read_trace and len(decision.trace) != len(rules):
            raise RuntimeError("the trace must list every rule")
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return len(samples) / wall, len(samples) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=15_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    rules = default_table()
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(args.rounds):
        samples = [random_facts(rng) for _ in range(args.facts)]
        for read_trace in results:
            results[read_trace].append(first_sight(rules, samples, read_trace=read_trace))

    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {len(rules)} rules, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    for read_trace, label in ((False, "first sight:"), (True, "with trace: ")):
        wall = statistics.median(rate for rate, _ in results[read_trace])
        cpu = statistics.median(rate for _, rate in results[read_trace])
        print(
            f"{label} {wall:>9,.0f} decisions/s  ({cpu:,.0f} per CPU second; median of "
            f"{args.rounds} rounds of {args.facts:,} new facts)"
        )


if __name__ == "__main__":
    main()
