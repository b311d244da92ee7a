"""Benchmark: the triage context at 1,000,000 tickets: queue tab counts, queue rows, home page.

Run it alone, from the project root:

    .venv/bin/python bench/bench_triage.py                   # 1,000,000 tickets, fresh PostgreSQL DB
    .venv/bin/python bench/bench_triage.py 100000            # fewer tickets
    .venv/bin/python bench/bench_triage.py --keep            # keep the database afterwards
    .venv/bin/python bench/bench_triage.py --reuse cs_bench_123   # measure a kept one again
    .venv/bin/python bench/bench_triage.py --explain         # print the count query's plan

The database is made and loaded as by bench_console_pages.py (`seed_demo --tickets N
--seed 1`). Timed: the query that counts every queue tab (tickets.selectors.queue_counts,
at most 100 per tab, one statement) on its own, as the demo agent and as the supervisor;
then whole requests through Django's test client, DEBUG off, as bench_console_pages.py
measures them: the queue pages (with the customer's last message and waiting time; the tab
counts come in a request of their own) and the home page with the agent's day.
"""

import argparse
import os
import statistics
import time

from bench_console_pages import measure
from benchdb import bench_database, ready_console


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--explain", action="store_true",
                        help="print the PostgreSQL plan of the tab counts")
    return parser.parse_args()


def time_counts(user, repeat: int) -> tuple[float, float, dict]:
    from tickets.selectors import queue_counts

    for _ in range(3):
        counts = queue_counts(user=user)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        queue_counts(user=user)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.9) - 1], counts


def explain_counts(user) -> None:
    """Print the plan of the counts statement, captured as queue_counts runs it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets.selectors import queue_counts

    with CaptureQueriesContext(connection) as captured:
        queue_counts(user=user)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {captured[-1]['sql']}")
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    args = parse_args()
    with bench_database(args.keep, args.reuse) as url:
        ready_console(url, tickets=args.tickets, reuse=args.reuse)
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from tickets.models import Ticket

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        users = get_user_model().objects
        agent, supervisor = users.get(username="agent"), users.get(username="supervisor")
        print(f"{Ticket.objects.count():,} tickets; PostgreSQL {connection.pg_version}; "
              f"{args.repeat} timed runs per case, after 3 to warm up.\n")
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print("| tab counts (one query) | median ms | p90 ms | counts |\n|---|---:|---:|---|")
        for name, user in (("agent", agent), ("supervisor", supervisor)):
            median, p90, counts = time_counts(user, args.repeat)
            print(f"| {name} | {median:.1f} | {p90:.1f} | "
                  f"{', '.join(f'{k} {v}' for k, v in counts.items())} |", flush=True)

        def queue(key):
            return reverse("console-queue", args=[key])

        cases = [
            ("agent", "queue: mine", queue("mine"), {}),
            ("agent", "queue: my teams", queue("team"), {}),
            ("agent", "queue: unassigned", queue("unassigned"), {}),
            ("agent", "queue: breached", queue("breached"), {}),
            ("agent", "queue: my teams, category", queue("team"),
             {"category": "return_exchange"}),
            ("supervisor", "queue: all teams (supervisor)", queue("team"), {}),
            ("agent", "home: the agent's day", reverse("home"), {}),
            ("supervisor", "home: supervisor", reverse("home"), {}),
        ]
        clients = {}
        for name, user in (("agent", agent), ("supervisor", supervisor)):
            clients[name] = Client()
            clients[name].force_login(user)
        print("\n| case | median ms | p90 ms | median CPU ms (Django) | queries |\n"
              "|---|---:|---:|---:|---:|")
        for who, label, url, params in cases:
            median, p90, cpu, queries = measure(clients[who], url, params, args.repeat)
            print(f"| {label} | {median:.1f} | {p90:.1f} | {cpu:.1f} | {queries} |", flush=True)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if args.explain:
            for name, user in (("agent", agent), ("supervisor", supervisor)):
                print(f"\n-- tab counts as the {name}")
                explain_counts(user)


if __name__ == "__main__":
    main()
