"""Measure the backtest of a policy change set over 100,000 stored decisions on PostgreSQL.

Run from the project root:

    .venv/bin/python bench/bench_backtest.py [--decisions 100000] [--rounds 3] [--keep]

It creates its own database (bench/benchdb.py), migrates it, loads 200 demo tickets
(`seed_demo --tickets 200`) and bulk-inserts --decisions resolutions spread over them and over
the last 89 days (beside the demo's own few), each with the facts it was decided on: facts drawn as in
bench_policy_engine.py, the kind one of the options the default table offered for them, the
facts stored as the console stores them (`resolutions.services.resolutions._facts_as_json`).

The change set edits the first rule of every kind found in the resolutions (so every decision
is replayed, none is only counted): each moves its money to another payer (so every case it
decides changes, and both options are built), and the 秒退 threshold is lowered from 100 to 50.
Each round times `backtest(change_set, days=90)`; the figure is the median of the rounds.
`--keep` keeps the database, `--reuse cs_bench_<pid>` measures a kept one again (a new change
set, nothing inserted).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchdb import bench_database, environment, manage, print_versions, setup_django


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip() if os.path.exists("/proc/loadavg") else "?"


def insert_resolutions(count: int, seed: int) -> dict[str, int]:
    """Bulk-insert `count` resolutions with stored facts; return how many of each kind."""
    # The engine bench's facts; imported once Django is set up (it reads the default table).
    from bench_policy_engine import NOW, random_facts
    from django.utils import timezone

    from policies import engine
    from policies.services import rulebook
    from resolutions.models import Resolution
    from resolutions.services.resolutions import _facts_as_json
    from tickets.models import Ticket

    rng = random.Random(seed)
    tickets = list(Ticket.objects.values_list("id", flat=True))
    _version, compiled = rulebook.current_rules()
    now = timezone.now()
    kinds: dict[str, int] = {}
    batch: list[Resolution] = []
    made = 0
    while made < count:
        kwargs = random_facts(rng)
        created = now - timedelta(seconds=rng.randint(60, 89 * 86400))
        shift = created - NOW
        for name in ("at", "paid_at", "shipped_at", "signed_at"):
            if kwargs[name] is not None:
                kwargs[name] = kwargs[name] + shift
        facts = engine.Facts(**kwargs)
        offered = [option for option in engine.decide(facts, compiled).options
                   if option.verdict != "deny"]
        if not offered:
            continue
        option = rng.choice(offered)
        kinds[option.kind] = kinds.get(option.kind, 0) + 1
        batch.append(Resolution(
            ticket_id=rng.choice(tickets), kind=option.kind, verdict=option.verdict,
            refund_amount=option.refund_amount, compensation_amount=option.compensation_amount,
            payer=option.payer or "merchant", rule_id=option.rule_id, rule_name=option.rule_name,
            rule_version=option.rule_version, created_at=created, facts=_facts_as_json(facts),
            state="completed", completed_at=created))
        made += 1
        if len(batch) == 5000:
            Resolution.objects.bulk_create(batch)
            batch = []
    Resolution.objects.bulk_create(batch)
    return kinds


def draft_change_set(kinds) -> int:
    """Draft (as a supervisor) one edit of the first rule of every kind; return the set's id."""
    from decimal import Decimal

    from django.contrib.auth.models import Group

    from core.models.roles import Role
    from core.models.user import User
    from policies.models import PolicyRule
    from policies.services import changesets

    author, _created = User.objects.get_or_create(username=f"bench_supervisor_{os.getpid()}")
    author.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    author = User.objects.get(pk=author.pk)  # fresh permission caches
    instant = PolicyRule.objects.filter(kind="refund_only", auto_execute=True,
                                        max_item_amount__isnull=False).order_by("priority").first()
    item = None
    for kind in sorted(kinds):
        rule = instant if kind == "refund_only" and instant else (
            PolicyRule.objects.filter(kind=kind, is_active=True).order_by("priority").first())
        if rule is None:
            continue
        # Another payer changes the option of every case the rule decides: the replay
        # builds both options for each of them (the expensive path).
        values = {**changesets.values_of(rule),
                  "payer": "platform" if rule.payer != "platform" else "merchant"}
        if rule is instant:
            values["max_item_amount"] = Decimal("50")
        item = changesets.propose_rule(actor=author, rule=rule, values=values)
    assert item is not None
    return item.change_set_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", help="a kept database (cs_bench_<pid>) to measure again")
    args = parser.parse_args()

    with bench_database(args.keep, args.reuse) as url:
        env = environment(url)
        if not args.reuse:
            manage(env, "migrate", "--no-input", "--verbosity", "0")
            manage(env, "seed_demo", "--tickets", "200", "--seed", "1")
        setup_django(env)
        print_versions()
        if args.reuse:
            from resolutions.models import Resolution

            kinds = dict.fromkeys(Resolution.objects.values_list("kind", flat=True).distinct(), 0)
        else:
            started = time.perf_counter()
            kinds = insert_resolutions(args.decisions, args.seed)
            print(f"Inserted {sum(kinds.values()):,} resolutions in "
                  f"{time.perf_counter() - started:.0f} s: {dict(sorted(kinds.items()))}")
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE resolutions_resolution")
        change_set_id = draft_change_set(kinds)

        from policies.models import PolicyChangeSet
        from resolutions.services.backtest import backtest

        change_set = PolicyChangeSet.objects.get(pk=change_set_id)
        print(f"load average before: {loadavg()}")
        times, cpu, result = [], [], None
        for _round in range(args.rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = backtest(change_set, days=90)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(f"load average after: {loadavg()}")
        assert result is not None
        print(f"decisions {result.decisions:,}, replayed {result.replayed:,}, "
              f"changed {result.changed:,}, unreadable {result.skipped}")
        print(f"changed by kind and verdict: {dict(sorted(result.by_verdict.items()))}")
        print(f"money delta: { {payer: str(amount) for payer, amount in result.money_delta.items()} }")
        print("backtest seconds per round: " + ", ".join(f"{t:.2f}" for t in times)
              + " (CPU of this process: " + ", ".join(f"{t:.2f}" for t in cpu) + ")")
        print(f"median: {statistics.median(times):.2f} s "
              f"({result.replayed / statistics.median(times):,.0f} decisions replayed per second)")


if __name__ == "__main__":
    main()
