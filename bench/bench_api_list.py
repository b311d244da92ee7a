"""Benchmark: the REST ticket list, page 1 and page 50, for an agent and a supervisor.

Run it alone, from the project root:

    .venv/bin/python bench/bench_api_list.py                    # 1,000,000 tickets, fresh PostgreSQL DB
    .venv/bin/python bench/bench_api_list.py --reuse cs_bench_123   # a database a benchmark kept
    .venv/bin/python bench/bench_api_list.py --database-url postgres://.../cs_copy   # any loaded one
    .venv/bin/python bench/bench_api_list.py --explain          # also print the page queries' plans

The database is made and loaded as in bench_console_pages.py (see benchdb.py). With
--database-url the benchmark only reads: the callers are authenticated in process
(force_authenticate), so no session or last-login row is written.

Each case is `GET /api/v1/tickets/` through DRF's test client (middleware, authentication,
permissions, the view, its queries, serialisation; DEBUG off), as the demo agent (teams
after-sales and logistics) and the demo supervisor (every ticket), unfiltered, with each
filter and in each ordering. Page 50 is reached by following `next` 49 times (25 rows a
page); then the page's own request is timed: 2 warm-up requests and --repeat timed ones, the
median and the slowest printed with the number of queries. On a commit before cursor pages
(no `count_is_exact` in the answer) page 50 is `?page=50`, so the same script measures both.
"""

import argparse
import os
import statistics
import time

from benchdb import bench_database, environment, load, setup_django

PAGES = (1, 50)
FILTERS = [
    ({}, "unfiltered"),
    ({"state": "closed"}, "state=closed"),
    ({"state": "in_progress"}, "state=in_progress"),
    ({"team": "after_sales"}, "team=after_sales"),
    ({"team": "vip_desk"}, "team=vip_desk"),
    ({"assignee": "agent"}, "assignee=agent"),
    ({"priority": "P0"}, "priority=P0"),
    ({"category": "return_exchange"}, "category=return_exchange"),
    ({"category": "safety_hazard"}, "category=safety_hazard"),
    ({"customer": None}, "customer=<busiest>"),
    ({"channel": "email"}, "channel=email"),
    ({"complaint_level": "l2"}, "complaint_level=l2"),
    ({"complaint_level": "special"}, "complaint_level=special"),
    ({"complaint_level": "none"}, "complaint_level=none"),
    ({"ordering": "created"}, "ordering=created"),
    ({"ordering": "-created"}, "ordering=-created"),
    ({"ordering": "-created", "team": "after_sales"}, "ordering=-created, team=after_sales"),
    ({"ordering": "created", "complaint_level": "l3"}, "ordering=created, complaint_level=l3"),
    ({"ordering": "created", "state": "new"}, "ordering=created, state=new"),
    ({"team": "payment"}, "team=payment"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--database-url", metavar="URL",
                        help="measure a loaded database of any name; nothing is written")
    parser.add_argument("--only", metavar="TEXT", help="run the cases whose label has TEXT")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of page 1 and 50, unfiltered")
    return parser.parse_args()


def page_request(client, params: dict, page: int) -> tuple[str, dict]:
    """Return the URL and parameters that ask for the given page."""
    url = "/api/v1/tickets/"
    first = client.get(url, params)
    assert first.status_code == 200, first.content[:300]
    if page == 1:
        return url, params
    if "count_is_exact" not in first.data:  # the page-number contract of older commits
        numbered = {**params, "page": str(page)}
        return (url, numbered) if client.get(url, numbered).status_code == 200 else ("", {})
    response, link = first, None
    for _ in range(page - 1):
        link = response.data["next"]
        if link is None:
            return "", {}
        response = client.get(link)
    return link, {}


def measure(client, url: str, params: dict, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection, reset_queries

    for _ in range(2):
        client.get(url, params)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    connection.force_debug_cursor = True
    reset_queries()
    rows = len(client.get(url, params).data["results"])
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    return statistics.median(timings), max(timings), queries, rows


def explain(client, user, url: str, params: dict) -> None:
    """Print the plan of the page query the request runs (the one that reads ticket rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    sql = next(q["sql"] for q in queries.captured_queries
               if q["sql"].startswith('SELECT "tickets_ticket"."id", "tickets_ticket"."number"'))
    count = next((q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT")),
                 None)
    with connection.cursor() as cursor:
        for label, query in (("page", sql), ("count", count)):
            if query is None:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
            print(f"-- {user.username}, {label} query:")
            print("\n".join(row[0] for row in cursor.fetchall()))


def run(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from rest_framework.test import APIClient

    from tickets.models import Ticket

    users = get_user_model().objects
    personas = {name: users.get(username=name) for name in ("agent", "supervisor")}
    busiest = (Ticket.objects.values("customer__external_id").annotate(n=Count("id"))
               .order_by("-n").values_list("customer__external_id", flat=True).first())
    print(f"{Ticket.objects.count():,} tickets; PostgreSQL {connection.pg_version}; "
          f"{args.repeat} timed requests per case, after 2 to warm up.")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print("| who | case | page | median ms | max ms | queries | rows |\n"
          "|---|---|---:|---:|---:|---:|---:|")
    for name, user in personas.items():
        client = APIClient()
        client.force_authenticate(user)
        for params, label in FILTERS:
            if args.only and args.only not in label:
                continue
            params = {k: (busiest if v is None else v) for k, v in params.items()}
            for page in PAGES:
                url, page_params = page_request(client, params, page)
                if not url:
                    print(f"| {name} | {label} | {page} | – | – | – | fewer pages |")
                    continue
                median, slowest, queries, rows = measure(client, url, page_params, args.repeat)
                print(f"| {name} | {label} | {page} | {median:.1f} | {slowest:.1f} | {queries} "
                      f"| {rows} |", flush=True)
                if args.explain and not params:
                    explain(client, user, url, page_params)
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    args = parse_args()
    if args.database_url:
        setup_django(environment(args.database_url))
        run(args)
        return
    with bench_database(args.keep, args.reuse) as url:
        env = environment(url)
        if not args.reuse:
            load(env, args.tickets)
        setup_django(env)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        run(args)


if __name__ == "__main__":
    main()
