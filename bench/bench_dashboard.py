"""Benchmark: the supervisor dashboard at 1,000,000 tickets on PostgreSQL.

Run it alone, from the project root:

    .venv/bin/python bench/bench_dashboard.py                  # 1,000,000 tickets, fresh DB
    .venv/bin/python bench/bench_dashboard.py 100000           # fewer tickets
    .venv/bin/python bench/bench_dashboard.py --repeat 20      # more timed page loads
    .venv/bin/python bench/bench_dashboard.py --keep           # keep the database afterwards
    .venv/bin/python bench/bench_dashboard.py --reuse cs_bench_123   # measure a kept one again

It creates a throwaway database `cs_bench_<pid>` on BENCH_PG_SERVER (default
postgres://postgres@127.0.0.1:5432/postgres), migrates it and loads N tickets with
`manage.py seed_demo --tickets N --seed 1` (as bench_bulk_seed.py does: 74 % of them closed,
spread over half a year). The load has no survey answers and no resolutions, so SQL adds
them, derived from each ticket's id (the same every run):

* a survey answer for 30 % of the closed tickets, 0–46 hours after closing (CSAT mostly 4–5,
  one in ten 1–2; NPS 0–10);
* a completed resolution for 20 % of the closed tickets with an order item: a refund, a cash
  compensation or a coupon, under one of six rule names.

Then it times, in this process with DEBUG off:

1. the full roll-up (`manage.py rollup_metrics`, every day since the oldest ticket), once;
2. the hourly roll-up job (`metrics_rollup_task`: today and yesterday);
3. the same month's figures computed live from the tickets table, for comparison (this is
   what the dashboard would cost without roll-ups);
4. the dashboard page, the scorecard page and the CSV and XLSX exports through Django's test
   client as a signed-in supervisor (templates, middleware and all), --repeat times each,
   after one warm-up request; with the SQL of one dashboard request and its time per query.
"""

import argparse
import statistics
import time

from benchdb import bench_database, environment, load, print_versions, setup_django, sql

RULES = ("七天无理由退货", "质量问题退款", "物流延误补偿", "破损补发", "价保补差", "客诉安抚券")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def _insert_select(model, provided: dict[str, str], source: str) -> int:
    """INSERT INTO model's table SELECT provided expressions (other columns: field defaults)."""
    from django.db import connection

    columns, expressions, params = [], [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        if model_field.column in provided:
            columns.append(model_field.column)
            expressions.append(provided[model_field.column].replace("%", "%%"))
            continue
        default = model_field.get_default()
        if default is None and model_field.null:
            continue
        columns.append(model_field.column)
        expressions.append("%s")
        params.append(model_field.get_db_prep_save(default, connection))
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
                       f'SELECT {", ".join(expressions)} {source.replace("%", "%%")}', params)
        return cursor.rowcount


def add_answers_and_payouts() -> None:
    from resolutions.models import Resolution
    from supervision.models.survey import Survey

    started = time.perf_counter()
    # With --reuse they were added before (the demo data has a handful of its own).
    answers = payouts = 0
    add_answers = sql("SELECT count(*) FROM tickets_survey")[0][0] < 1000
    add_payouts = sql("SELECT count(*) FROM tickets_resolution")[0][0] < 1000
    csat = ("(CASE WHEN t.id % 10 < 5 THEN 5 WHEN t.id % 10 < 8 THEN 4 WHEN t.id % 10 < 9 "
            "THEN 3 ELSE 1 + t.id % 2 END)")
    answers = add_answers and _insert_select(Survey, {
        "ticket_id": "t.id",
        "token": "md5(t.id::text || 'bench-survey')",
        "sent_at": "t.closed_at",
        "expires_at": "t.closed_at + interval '7 days'",
        "answered_at": "t.closed_at + make_interval(hours => (t.id % 47)::int)",
        "csat": csat,
        "speed": f"GREATEST(1, LEAST(5, {csat} + (t.id / 7) % 3 - 1))",
        "attitude": f"GREATEST(1, LEAST(5, {csat} + (t.id / 11) % 3 - 1))",
        "expertise": f"GREATEST(1, LEAST(5, {csat} + (t.id / 13) % 3 - 1))",
        "nps": "(t.id * 7) % 11",
    }, "FROM tickets_ticket t WHERE t.state = 'closed' AND t.id % 10 < 3")
    rules = "(ARRAY[" + ", ".join(f"'{name}'" for name in RULES) + "])[1 + t.id % 6]"
    kind = ("(ARRAY['refund_only', 'compensation_cash', 'compensation_coupon'])"
            "[1 + (t.id / 10) % 3]")
    payouts = add_payouts and _insert_select(Resolution, {
        "ticket_id": "t.id",
        "idempotency_key": "gen_random_uuid()",
        "order_item_id": "t.order_item_id",
        "kind": kind,
        "state": "'completed'",
        "rule_name": rules,
        "refund_amount": "CASE WHEN (t.id / 10) % 3 = 0 THEN (t.id % 300 + 0.5)::numeric(12, 2)"
                         " ELSE 0 END",
        "compensation_amount": "CASE WHEN (t.id / 10) % 3 = 1 THEN (t.id % 30 + 5)::numeric"
                               "(12, 2) ELSE 0 END",
        "coupon_amount": "CASE WHEN (t.id / 10) % 3 = 2 THEN 10.00 ELSE 0 END",
        "created_at": "t.resolved_at - interval '1 hour'",
        "completed_at": "t.resolved_at",
    }, "FROM tickets_ticket t WHERE t.state = 'closed' AND t.order_item_id IS NOT NULL "
       "AND t.id % 10 IN (3, 4)")
    sql("VACUUM (ANALYZE) tickets_survey")
    sql("VACUUM (ANALYZE) tickets_resolution")
    print(f"Added {answers:,} survey answers and {payouts:,} completed resolutions in "
          f"{time.perf_counter() - started:.0f} s.", flush=True)


def timed(label: str, func, repeat: int = 1) -> list[float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        runs.append(time.perf_counter() - started)
    if repeat == 1:
        print(f"  {label}: {runs[0]:.2f} s", flush=True)
    else:
        print(f"  {label}: median {statistics.median(runs) * 1000:.0f} ms, "
              f"min {min(runs) * 1000:.0f} ms, max {max(runs) * 1000:.0f} ms "
              f"({repeat} runs)", flush=True)
    return runs


def measure(args: argparse.Namespace) -> None:
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Max
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from core.models.roles import sync_roles
    from reporting import tasks
    from reporting.models import DailyAgentMetrics
    from reporting.services import metrics
    from supervision.models.survey import Survey
    from tickets.models import Ticket

    # The role groups as the code defines them now (a kept database may predate a change).
    sync_roles(apps, strict=True)
    add_answers_and_payouts()
    states = dict(Ticket.objects.values_list("state").annotate(n=Count("id")).order_by())
    print(f"{sum(states.values()):,} tickets ({states.get('closed', 0):,} closed, "
          f"{sum(n for s, n in states.items() if s not in ('closed', 'cancelled', 'resolved')):,}"
          f" open), {Survey.objects.count():,} survey answers", flush=True)

    print("\nRoll-ups", flush=True)
    timed("full roll-up (rollup_metrics, every day since the oldest ticket)",
          lambda: call_command("rollup_metrics", verbosity=0))
    sql("VACUUM (ANALYZE) tickets_dailyagentmetrics")
    timed("hourly job (metrics_rollup_task: today and yesterday)", tasks.metrics_rollup_task,
          repeat=3)
    print(f"  {DailyAgentMetrics.objects.count():,} roll-up rows", flush=True)

    latest = Ticket.objects.aggregate(latest=Max("closed_at"))["latest"]
    month = timezone.localtime(latest).date() if latest else timezone.localdate()
    start, end = metrics.month_bounds(month)

    def live_month():
        # The roll-up's own queries over one month of tickets, without storing anything.
        from django.db import transaction

        with transaction.atomic():
            metrics.metrics_rollup(start=start, end=end)
            transaction.set_rollback(True)

    timed(f"live aggregate of one month ({start:%Y-%m}) from the tickets table", live_month,
          repeat=3)

    # Production serves collected static files through a manifest (`collectstatic`); the
    # throwaway checkout has none, so the plain storage builds the same URLs here.
    from django.conf import settings

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    user, _created = get_user_model().objects.get_or_create(username="bench_supervisor",
                                                             defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="supervisor"))
    client = Client()
    client.force_login(user)
    query = f"?month={month:%Y-%m}"
    pages = [
        ("dashboard", reverse("dashboard") + query),
        ("scorecard", reverse("dashboard-scorecard") + query),
        ("CSV export", reverse("dashboard-export") + query + "&format=csv"),
        ("XLSX export", reverse("dashboard-export") + query + "&format=xlsx"),
    ]
    print(f"\nPages (month {month:%Y-%m}, signed in as a supervisor)", flush=True)
    for label, url in pages:
        response = client.get(url)
        assert response.status_code == 200, (label, response.status_code)
        timed(f"{label} {url}", lambda url=url: client.get(url), repeat=args.repeat)

    print("\nQueries of one dashboard request", flush=True)
    with CaptureQueriesContext(connection) as captured:
        client.get(pages[0][1])
    for entry in captured.captured_queries:
        print(f"  {float(entry['time']) * 1000:7.1f} ms  {entry['sql'][:150]}")
    print(f"  {len(captured.captured_queries)} queries", flush=True)


def main() -> None:
    args = parse_args()
    with bench_database(args.keep, args.reuse) as url:
        env = environment(url)
        if not args.reuse:
            load(env, args.tickets, seed=args.seed)
        setup_django(env)
        print_versions()
        measure(args)


if __name__ == "__main__":
    main()
