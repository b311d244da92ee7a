"""Benchmark: one SLA sweep (`sla.services.sweeps.run_all`) over 1,000,000 open tickets.

Run it alone, from the project root:

    .venv/bin/python bench/bench_sla_sweep.py                 # 1,000,000 tickets, fresh PostgreSQL DB
    .venv/bin/python bench/bench_sla_sweep.py 100000          # fewer tickets
    .venv/bin/python bench/bench_sla_sweep.py --repeat 7      # more repetitions (default 5)
    .venv/bin/python bench/bench_sla_sweep.py --profile       # and cProfile one more sweep
    .venv/bin/python bench/bench_sla_sweep.py --keep          # keep the database afterwards
    .venv/bin/python bench/bench_sla_sweep.py --reuse cs_bench_123   # measure a kept one again

It takes about 30 minutes for 1,000,000 tickets on 2 cores: 7 to load them, 8 to open them,
the rest for the sweeps and for putting the state back after each one.

It creates a throwaway database, `cs_bench_<pid>`, on the server of BENCH_PG_SERVER (default
postgres://postgres@127.0.0.1:5432/postgres), runs `manage.py migrate` and loads N tickets with
`manage.py seed_demo --tickets N --seed 1` (as bench_bulk_seed.py does), and drops it at the
end. It never uses the database of DATABASE_URL: it rewrites every ticket.

Then, with SQL, every ticket is made open and its SLA clocks are laid out as if the sweep had
run every 5 minutes until `now - 5 min` (`now` is the start of the current minute):

* states: 40 % in progress, 25 % assigned, 10 % new, 13 % pending internal, 12 % pending
  customer; resolved, closed and paused times cleared; new tickets unassigned, all others
  assigned; only new and assigned tickets are still waiting for their first response;
* created_at spread evenly over the 4 days before `now`; the first-response and resolution
  due times are created_at plus the ticket's SLA policy times, its priority is raised at
  created_at plus the policy's limit, customer updates fall due every update interval since
  creation;
* what fell due up to `now - 5 min` is marked done (reminded and breached, resolution
  breached, priority raised, next update moved on), so only what ran out in the last
  5 minutes is due: about 1.3 % of the tickets. Most of it is customer updates: every open
  ticket gets one every 2 to 8 hours, so about 1/96 of the P2/P3 tickets are due in any
  5 minutes; the other clocks fire once per ticket, about 0.1 % each.

It EXPLAIN ANALYZEs each sweep's selecting query (written out again below, as in
sla/services/sweeps.py) and times it alone; then times `sweeps.run_all(now=now)` end to end (wall
clock, in this process, DEBUG off, log level WARNING), each repetition on the same fresh
state: afterwards the touched tickets are put back and the rows the sweep added (history,
outbox, task queue) deleted, then VACUUM ANALYZE and CHECKPOINT. Autovacuum is off for the
tables involved, so it cannot start in the middle of a timed sweep. One more sweep times
every SQL statement (where the time goes). Last, the worst case: the scheduler was down for
an hour, everything due in the last 60 minutes (12 times as much).
"""

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from datetime import timedelta

from benchdb import bench_database, environment, load, print_versions, setup_django, sql

TICK = timedelta(minutes=5)  # the schedule "SLA sweep" runs every 5 minutes
DOWN = timedelta(hours=1)  # worst case: the scheduler was down this long
SPREAD = timedelta(days=4)  # open tickets were created over this many days before `now`
STATE_MIX = (  # state, share; mostly being worked on
    ("in_progress", 0.40), ("assigned", 0.25), ("new", 0.10), ("pending_internal", 0.13),
    ("pending_customer", 0.12),
)
# Tables the sweeps write to; autovacuum is off for them during the measurement.
TOUCHED_TABLES = ("tickets_ticket", "tickets_customerupdateclock", "tickets_historicalticket",
                  "tickets_outboxmessage", "django_q_ormq")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed sweeps (default 5)")
    parser.add_argument("--worst-repeat", type=int, default=1,
                        help="timed sweeps after an hour's outage (default 1)")
    parser.add_argument("--profile", action="store_true", help="cProfile one more sweep")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


# --- Laying out the clocks -------------------------------------------------------------------
def escalation_limits() -> dict[tuple[int, str], timedelta]:
    """The limit after which raise_priority_of_unresolved acts, per priority and level."""
    from sla.models import SlaPolicy
    from sla.services import calendar as sla
    from tickets.models import ComplaintLevel, Priority

    limits = {(p.priority, p.complaint_level): timedelta(minutes=p.escalate_after_minutes)
              for p in SlaPolicy.objects.all()}
    return {(priority, level): limits.get((priority, level))
            or limits.get((priority, ComplaintLevel.NONE)) or sla.ESCALATE_AFTER
            for priority in Priority.values for level in ComplaintLevel.values}

# The columns the sweeps change, as they stand when everything due up to `since` was done.
CLOCKS = """
            priority = c.priority,
            resolution_due_at = c.resolution_due_at,
            first_response_reminded_at = CASE WHEN c.first_response_at IS NULL
                AND c.first_response_due_at <= %(since)s THEN c.first_response_due_at END,
            first_response_breached_at = CASE WHEN c.first_response_at IS NULL
                AND c.first_response_due_at <= %(since)s THEN c.first_response_due_at END,
            resolution_breached_at = CASE WHEN c.resolution_due_at <= %(since)s
                THEN c.resolution_due_at END,
            priority_raised_at = CASE WHEN c.created_at + c.escalate_after <= %(since)s
                THEN c.created_at + c.escalate_after END"""
# The next customer update (in tickets_customerupdateclock), as it stands at `since`.
NEXT_UPDATE = """c.created_at + c.update_interval * greatest(1, floor(
                extract(epoch FROM %(since)s - c.created_at)
                / extract(epoch FROM c.update_interval)) + 1)"""


def open_every_ticket(now, since) -> None:
    """Make every ticket open, its clocks done up to `since`; keep them in bench_sla_clock."""
    from django.contrib.auth import get_user_model

    from core.models.roles import WORKING_ROLES
    from sla.services import calendar as sla

    limits = escalation_limits()
    terms = []
    for (priority, level), limit in limits.items():
        t = sla.terms_for(priority=priority, complaint_level=level)
        terms.append((priority, level, t.first_response, t.resolution, t.update_interval, limit))
    agents = sorted(get_user_model().objects.filter(
        is_active=True, groups__name__in=WORKING_ROLES).values_list("id", flat=True).distinct())

    sql("DROP TABLE IF EXISTS bench_sla_now, bench_sla_clock, bench_sla_terms")
    sql("CREATE TABLE bench_sla_now AS SELECT %s::timestamptz AS now", [now])
    sql("CREATE TABLE bench_sla_terms (priority smallint, complaint_level varchar(8), "
        "first_response interval, resolution interval, update_interval interval, "
        "escalate_after interval, PRIMARY KEY (priority, complaint_level))")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_sla_terms VALUES (%s, %s, %s, %s, %s, %s)", terms)

    # Pseudo-random numbers from the id: the same layout on every run, whatever the row order.
    def draw(salt: str) -> str:
        return f"(('x' || substr(md5(id::text || '{salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)"

    bounds, total = [], 0.0
    for state, share in STATE_MIX:
        total += share
        bounds.append(f"WHEN {draw('state')} < {total:.4f} THEN '{state}'")
    state_case = f"CASE {' '.join(bounds[:-1])} ELSE '{STATE_MIX[-1][0]}' END"
    sql(f"""
        CREATE TABLE bench_sla_clock AS
        SELECT x.id, x.priority, x.state, x.created_at,
               x.created_at + s.first_response AS first_response_due_at,
               CASE WHEN x.state IN ('new', 'assigned') THEN NULL
                    ELSE least(x.created_at + s.first_response * x.answered, %(now)s)
               END AS first_response_at,
               x.created_at + s.resolution AS resolution_due_at,
               s.update_interval, s.escalate_after
        FROM (SELECT id, priority, complaint_level, {state_case} AS state,
                     %(now)s - %(spread)s * {draw('created')} AS created_at,
                     {draw('answered')} AS answered
              FROM tickets_ticket) x
        JOIN bench_sla_terms s USING (priority, complaint_level)
    """, {"now": now, "spread": SPREAD})  # noqa: S608 (no user input)
    sql("ALTER TABLE bench_sla_clock ADD PRIMARY KEY (id)")
    sql(f"""
        UPDATE tickets_ticket t SET
            state = c.state, created_at = c.created_at,
            first_response_at = c.first_response_at,
            first_response_due_at = c.first_response_due_at,
            resolved_at = NULL, closed_at = NULL, paused_seconds = 0,
            paused_at = CASE WHEN c.state = 'pending_customer'
                             THEN c.created_at + (%(now)s - c.created_at) / 2 END,
            assignee_id = CASE WHEN c.state = 'new' THEN NULL
                               ELSE coalesce(t.assignee_id,
                                             (%(agents)s::int[])[1 + t.id %% %(n)s]) END,
            waiting_on = CASE WHEN c.state = 'pending_internal'
                              THEN coalesce(nullif(t.waiting_on, ''), 'logistics') ELSE '' END,
            cancel_reason = '', resolution_summary = '',
            {CLOCKS}
        FROM bench_sla_clock c WHERE t.id = c.id
    """, {"now": now, "agents": agents, "n": len(agents), "since": since})  # noqa: S608
    sql(f"""
        INSERT INTO tickets_customerupdateclock (ticket_id, due_at)
        SELECT c.id, {NEXT_UPDATE} FROM bench_sla_clock c
        ON CONFLICT (ticket_id) DO UPDATE SET due_at = EXCLUDED.due_at
    """, {"since": since})  # noqa: S608 (no user input)


def arm(since, ids: list[int] | None = None) -> None:
    """Mark done what fell due up to `since`; put back what a sweep changed (all, or `ids`)."""
    only = "AND c.id = ANY(%(ids)s)" if ids is not None else ""
    sql(f"""
        UPDATE tickets_ticket t SET {CLOCKS}
        FROM bench_sla_clock c WHERE t.id = c.id {only}
    """, {"since": since, "ids": ids})  # noqa: S608 (no user input)
    sql(f"""
        UPDATE tickets_customerupdateclock u SET due_at = {NEXT_UPDATE}
        FROM bench_sla_clock c WHERE u.ticket_id = c.id {only}
    """, {"since": since, "ids": ids})  # noqa: S608 (no user input)



def settle(tables=TOUCHED_TABLES) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
        cursor.execute("CHECKPOINT")


# --- Measuring ----------------------------------------------------------------------------
def selecting_queries(now):
    """(sweep, label, queryset): the first batch each sweep reads, as sla/services/sweeps.py does.

    The sweeps read batches of BATCH along their due-time column (ORDER BY ... LIMIT); the
    row lock (FOR UPDATE SKIP LOCKED) is left out here, so EXPLAIN ANALYZE changes nothing.
    """
    from django.conf import settings

    from sla.models import CustomerUpdateClock
    from sla.services.sweeps import BATCH
    from tickets.models import OPEN_STATES, Ticket, TicketState

    def first_batch(queryset, order_by):
        return queryset.order_by(order_by, "pk").values_list("pk", flat=True)[:BATCH]

    yield "remind_first_response", "", first_batch(Ticket.objects.filter(
        state__in=OPEN_STATES, first_response_at__isnull=True,
        first_response_reminded_at__isnull=True, first_response_due_at__lte=now,
    ), "first_response_due_at")
    yield "flag_resolution_breaches", "", first_batch(Ticket.objects.filter(
        state__in=OPEN_STATES, resolution_breached_at__isnull=True, resolution_due_at__lte=now,
    ), "resolution_due_at")
    for (priority, level), limit in escalation_limits().items():
        yield "raise_priority_of_unresolved", f"P{priority}/{level}", first_batch(
            Ticket.objects.filter(
                state__in=OPEN_STATES, priority_raised_at__isnull=True, priority=priority,
                complaint_level=level, created_at__lte=now - limit,
            ), "created_at")
    yield "send_customer_updates", "", first_batch(CustomerUpdateClock.objects.filter(
        due_at__lte=now,
        ticket__state__in=[state for state in OPEN_STATES
                           if state != TicketState.PENDING_CUSTOMER],
    ), "due_at")
    cutoff = now - timedelta(days=settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS)
    yield "close_resolved", "", Ticket.objects.filter(
        state=TicketState.RESOLVED, resolved_at__lte=cutoff).values_list("id", flat=True)


SCAN = re.compile(r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)"
                  r"(?: Backward)?(?: using| on) (\w+)")
ROWS = re.compile(r"actual time=[\d.]+\.\.([\d.]+) rows=(\d+)")


def explain_selections(now) -> None:
    """EXPLAIN ANALYZE every selecting query and time it alone (wall clock, best of 3).

    Where the planner picks a sequential scan, the query is explained again with
    enable_seqscan off, to show what the partial index would have cost.
    """
    from django.db import transaction

    print("\nSelecting queries: rows, EXPLAIN ANALYZE execution time, wall clock of the query "
          "alone (best of 3), scans:")
    per_sweep: dict[str, list] = {}
    for sweep, label, queryset in selecting_queries(now):
        plan = queryset.explain(analyze=True, buffers=True)
        forced = None
        if "Seq Scan" in plan:
            with transaction.atomic():
                sql("SET LOCAL enable_seqscan = off")
                forced = queryset.explain(analyze=True, buffers=True)
        per_sweep.setdefault(sweep, []).append({
            "label": label, "plan": plan, "forced": forced,
            "rows": int(ROWS.search(plan).group(2)),
            "wall": min(_wall(lambda qs=queryset: list(qs.all())) for _ in range(3)),
        })
    for sweep, entries in per_sweep.items():
        scans = sorted({" ".join(scan) for e in entries for scan in SCAN.findall(e["plan"])})
        jit = " (JIT)" if any("JIT:" in e["plan"] for e in entries) else ""
        print(f"  {sweep:<29}{len(entries):>3} quer{'y ' if len(entries) == 1 else 'ies'}"
              f"{sum(e['rows'] for e in entries):>8,} rows"
              f"{sum(_executed(e['plan']) for e in entries):>8.1f} ms"
              f"{sum(e['wall'] for e in entries) * 1000:>8.1f} ms  {', '.join(scans)}{jit}")
        for e in entries:
            if e["forced"]:
                used = ", ".join(sorted({" ".join(s) for s in SCAN.findall(e["forced"])}))
                print(f"    {e['label'] or 'the query'}: sequential scan "
                      f"{_executed(e['plan']):.1f} ms; with enable_seqscan off "
                      f"{_executed(e['forced']):.1f} ms ({used})")
    print("\nPlans (the raise sweep: its largest query of the 20):")
    for sweep, entries in per_sweep.items():
        entry = max(entries, key=lambda e: e["rows"])
        print(f"-- {sweep} {entry['label']}".rstrip())
        print("\n".join("   " + line for line in entry["plan"].splitlines()))


def _executed(plan: str) -> float:
    return float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))


def _wall(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def high_water() -> dict[str, int]:
    return dict(zip(("history", "outbox", "tasks"), sql(
        "SELECT (SELECT coalesce(max(history_id), 0) FROM tickets_historicalticket), "
        "(SELECT coalesce(max(id), 0) FROM tickets_outboxmessage), "
        "(SELECT coalesce(max(id), 0) FROM django_q_ormq)")[0], strict=True))


def undo(since, marks: dict[str, int]) -> dict[str, int]:
    """Put back the tickets the sweep changed and delete the rows it added; count them.

    Changed tickets: those with a history row from the sweep, and those whose next customer
    update moved (the sweep's cursor is not in the history): armed, it is at most one
    interval after `since`; moved, one interval after `now`.
    """
    ids = [row[0] for row in sql("""
        SELECT id FROM tickets_historicalticket WHERE history_id > %(history)s
        UNION
        SELECT u.ticket_id FROM tickets_customerupdateclock u
        JOIN bench_sla_clock c ON c.id = u.ticket_id
        WHERE u.due_at > %(since)s + c.update_interval
    """, {"history": marks["history"], "since": since})]
    arm(since, ids)
    added = {"tickets changed": len(ids)}
    for mark, key, table, column in (
        ("history", "history rows", "tickets_historicalticket", "history_id"),
        ("outbox", "outbox rows", "tickets_outboxmessage", "id"),
        ("tasks", "queued tasks", "django_q_ormq", "id"),
    ):
        added[key] = len(sql(f'DELETE FROM "{table}" WHERE "{column}" > %s RETURNING 1',  # noqa: S608
                             [marks[mark]]))
    settle()
    return added


# A statement's kind: its verb and table (SELECT: the first table after FROM).
VERB = re.compile(r'\s*(RELEASE SAVEPOINT|SAVEPOINT|INSERT INTO "\w+"|UPDATE "\w+"|'
                  r'DELETE FROM "\w+"|SELECT)')
FROM = re.compile(r' FROM "(\w+)"')


def statement_kind(sql: str) -> str:
    match = VERB.match(sql)
    if match is None:
        return sql[:30]
    kind = match.group(1)
    if kind == "SELECT" and (table := FROM.search(sql)):
        kind += f' ... FROM "{table.group(1)}"'
    return kind


def timed_sweep(now, since, profiler: cProfile.Profile | None = None,
                statements: dict | None = None) -> dict:
    """Run sweeps.run_all(now=now) once on fresh state; return its timings and counts.

    With `statements`, also time every SQL statement, by kind: {kind: [count, seconds]}.
    """
    from django.db import connection

    from sla.services import sweeps

    marks = high_water()
    per_sweep: dict[str, float] = {}
    queries = 0

    def timed(sweep):
        def run(*, now):
            started = time.perf_counter()
            try:
                return sweep(now=now)
            finally:
                per_sweep[sweep.__name__] = time.perf_counter() - started
        run.__name__ = sweep.__name__
        return run

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        if statements is None:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = statement_kind(sql)
            entry = statements.setdefault(kind, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    original = sweeps.SWEEPS
    sweeps.SWEEPS = tuple(timed(sweep) for sweep in original)
    try:
        with connection.execute_wrapper(count):
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            done = sweeps.run_all(now=now)
            total = time.perf_counter() - started
            if profiler:
                profiler.disable()
    finally:
        sweeps.SWEEPS = original
    return {"total": total, "per_sweep": per_sweep, "done": done, "queries": queries,
            "added": undo(since, marks)}


def report(title: str, runs: list[dict]) -> None:
    print(f"\n{title}")
    for number, run in enumerate(runs, start=1):
        print(f"  run {number}: {run['total']:6.2f} s  "
              + "  ".join(f"{name.split('_')[0]} {seconds:.2f}"
                          for name, seconds in run["per_sweep"].items()))
    first = runs[0]
    print(f"  median {statistics.median(run['total'] for run in runs):.2f} s "
          f"(min {min(run['total'] for run in runs):.2f}, "
          f"max {max(run['total'] for run in runs):.2f}); per sweep, median:")
    for name in first["per_sweep"]:
        seconds = statistics.median(run["per_sweep"][name] for run in runs)
        print(f"    {name:<30} {first['done'][name]:>7,} tickets {seconds:7.2f} s")
    print(f"  per run: {first['queries']:,} queries, "
          + ", ".join(f"{count:,} {key}" for key, count in first["added"].items()))


def _runs(count: int) -> str:
    return f"{count} run{'s' if count != 1 else ''}"


def measure(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Ticket

    count = Ticket.objects.count()
    with connection.cursor() as cursor:
        for table in TOUCHED_TABLES:
            cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)')
    started = time.perf_counter()
    kept = sql("SELECT to_regclass('bench_sla_now') IS NOT NULL")[0][0]
    if kept:  # --reuse: the tickets are open already; put their clocks back
        now = sql("SELECT now FROM bench_sla_now")[0][0]
        print(f"\nReusing the layout of {count:,} open tickets, now = {now:%Y-%m-%d %H:%M %Z}",
              flush=True)
        arm(now - TICK)
    else:
        now = timezone.now().replace(second=0, microsecond=0)
        print(f"\nOpening all {count:,} tickets and laying out their clocks, "
              f"now = {now:%Y-%m-%d %H:%M %Z}", flush=True)
        open_every_ticket(now, now - TICK)
        sql("VACUUM (ANALYZE) bench_sla_clock")
    settle()
    states = sql("SELECT state, count(*) FROM tickets_ticket GROUP BY 1 ORDER BY 2 DESC")
    print(f"  done in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{state} {n:,}" for state, n in states))

    explain_selections(now)

    runs = [timed_sweep(now, now - TICK) for _ in range(args.repeat)]
    report(f"run_all(now=now), due in the last {TICK.seconds // 60} minutes, "
           f"{_runs(len(runs))} on fresh state:", runs)
    due = sum(runs[0]["done"].values())
    print(f"  due: {due:,} of {count:,} tickets = {due / count:.2%}")

    statements: dict[str, list] = {}
    started = time.perf_counter()
    timed_sweep(now, now - TICK, statements=statements)
    print(f"\nOne more sweep, {time.perf_counter() - started:.1f} s, every statement timed "
          "(wall clock from this process); the ten that took longest in all:")
    for kind, (number, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1])[:10]:
        print(f"  {number:>7,} x {seconds / number * 1e6:>7,.0f} us = {seconds:6.2f} s  {kind}")
    print(f"  all statements: {sum(entry[1] for entry in statements.values()):.2f} s")

    if args.profile:
        profiler = cProfile.Profile()
        timed_sweep(now, now - TICK, profiler)
        print("\ncProfile of one more sweep (cumulative, top 30):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)

    if args.worst_repeat > 0:
        print(f"\nWorst case: the scheduler was down for {DOWN.seconds // 60} minutes",
              flush=True)
        arm(now - DOWN)
        settle()
        worst = [timed_sweep(now, now - DOWN) for _ in range(args.worst_repeat)]
        report(f"run_all(now=now), due in the last {DOWN.seconds // 60} minutes, "
               f"{_runs(len(worst))} on fresh state:", worst)
        due = sum(worst[0]["done"].values())
        print(f"  due: {due:,} of {count:,} tickets = {due / count:.2%}")

    with connection.cursor() as cursor:  # for --keep; otherwise the database goes
        for table in TOUCHED_TABLES:
            cursor.execute(f'ALTER TABLE "{table}" RESET (autovacuum_enabled)')


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
