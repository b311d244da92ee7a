"""Benchmark: the agent console's queue page and ticket workspace at 1,000,000 tickets.

Run it alone, from the project root:

    .venv/bin/python bench/bench_console_pages.py                  # 1,000,000 tickets, fresh PostgreSQL DB
    .venv/bin/python bench/bench_console_pages.py 100000           # fewer tickets
    .venv/bin/python bench/bench_console_pages.py --keep           # keep the database afterwards
    .venv/bin/python bench/bench_console_pages.py --reuse cs_bench_123   # measure a kept one again
    .venv/bin/python bench/bench_console_pages.py --repeat 50      # more timed requests per case

It creates a throwaway database, `cs_bench_<pid>`, on the server of BENCH_PG_SERVER (default
postgres://postgres@127.0.0.1:5432/postgres), runs `manage.py migrate`, loads N tickets with
`manage.py seed_demo --tickets N --seed 1` (about 7 minutes for a million on 2 cores) and
drops it at the end. It never uses the database of DATABASE_URL. It runs `collectstatic`
(into the ignored staticfiles/ folder), since with DEBUG off static URLs come from its manifest.

Each case is a whole request through Django's test client in this process: middleware,
session, permissions, the view, its queries and the rendered template (50 rows on a queue
page), DEBUG off. Every case is requested 3 times to warm up, then `--repeat` times (default
25); the median and the 90th percentile of the wall time are printed, with the median CPU
time of this process (the Django side alone: less disturbed by other work on a shared
machine, and without the database's time) and the number of queries. The load average
before and after tells how busy the machine was.

Cases: the REST ticket list (`GET /api/v1/tickets/`) as the agent and as the supervisor, page
1 and page 50 (reached through the `next` links); the demo agent's queues (mine, my teams, unassigned, at risk, breached, escalated,
waiting on the customer), the same with filters (priority, category, channel, VIP, tag, due
first, page 20), the supervisor's team queue (every open ticket), the workspace of an open
ticket of the demo agent with 3 messages (as most have), and one with 200 messages (each with an attachment on every tenth),
three resolutions and their history. The 200 messages are added once, on the first run.
"""

import argparse
import os
import statistics
import time

from benchdb import bench_database, ready_console

MESSAGES = 200
MARK = "bench:workspace"  # the subject prefix of the benchmark's workspace ticket


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--no-api-list", action="store_true",
                        help="leave out the REST list (page 50 of page numbers takes minutes)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="measure only the cases whose name contains TEXT (repeatable)")
    parser.add_argument("--explain", action="store_true",
                        help="print the PostgreSQL plan of each queue's main query")
    return parser.parse_args()


def prepare_workspace(agent):
    """Return the benchmark's workspace ticket: 200 messages, three resolutions; made once."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from core.services.audit import save_with_history
    from resolutions import services as resolution_services
    from tickets.models import Attachment, Message, MessageKind, Ticket, TicketState

    ticket = Ticket.objects.filter(subject__startswith=MARK).first()
    if ticket is not None:
        return ticket
    ticket = (Ticket.objects.filter(assignee=agent, state=TicketState.IN_PROGRESS,
                                    order_item__isnull=False)
              .order_by("-created_at").first())
    with transaction.atomic():
        ticket.subject = f"{MARK} {ticket.subject}"[:200]
        save_with_history(ticket, actor=agent, reason="edit")
        start = timezone.now() - timedelta(days=2)
        messages = []
        for index in range(MESSAGES):
            kind = (MessageKind.INBOUND, MessageKind.REPLY, MessageKind.NOTE)[index % 3]
            messages.append(Message(
                ticket=ticket, kind=kind, channel="" if kind == MessageKind.NOTE else "app",
                body=f"第 {index + 1} 条消息：客户询问售后进度，客服回复处理情况。" * 2,
                author=None if kind == MessageKind.INBOUND else agent,
                created_at=start + timedelta(minutes=10 * index)))
        Message.objects.bulk_create(messages)
        for message in messages[::10]:
            Attachment.objects.create(
                ticket=ticket, message=message, evidence_kind="photo",
                file="evidence/bench.png", label="照片.png", content_type="image/png",
                size=123456, sha256="0" * 64, created_at=message.created_at)
    # Three resolutions through the services, so their history is real.
    decided = resolution_services.ticket_decision(ticket=ticket)
    kinds = [option.kind for option in decided[1].options if option.verdict != "deny"][:3]
    for kind in kinds:
        resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind=kind)
        if resolution.state == "proposed" and kind != kinds[-1]:
            resolution_services.resolution_cancel(resolution=resolution, actor=agent, reason="客户改主意")
    return ticket


def small_ticket(agent, messages: int = 3):
    """Return an open ticket of the agent with exactly `messages` messages, as most are."""
    from django.db.models import Count

    from tickets.models import OPEN_STATES, Ticket

    candidates = (Ticket.objects.filter(assignee=agent, state__in=OPEN_STATES,
                                        order_item__isnull=False)
                  .exclude(subject__startswith=MARK).order_by("-created_at")
                  .values_list("pk", flat=True)[:500])
    return (Ticket.objects.filter(pk__in=list(candidates))
            .annotate(message_count=Count("messages")).filter(message_count=messages)
            .order_by("-created_at").first())


def page_url(client, url: str, pages: int) -> str:
    """Follow the API list's `next` link to page `pages`; return that page's URL."""
    for _ in range(pages - 1):
        url = client.get(url).json()["next"]
    return url


def measure(client, url: str, params: dict, repeat: int) -> tuple[float, float, float, int]:
    from django.db import connection, reset_queries

    for _ in range(3):
        response = client.get(url, params)
        assert response.status_code == 200, (url, response.status_code)
    timings, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, params)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    connection.force_debug_cursor = True
    reset_queries()
    client.get(url, params)
    queries = len(connection.queries)
    connection.force_debug_cursor = False
    timings.sort()
    return (statistics.median(timings), timings[int(len(timings) * 0.9) - 1],
            statistics.median(cpu), queries)


def explain(user, queue: str, filters: dict) -> None:
    from django.db import connection
    from django.utils import timezone

    from tickets.selectors import QUEUES, SORTS, _queue_tickets

    sort = filters.get("sort") or QUEUES[queue].default_sort
    tickets = _queue_tickets(user, queue, timezone.now())
    for key in ("priority", "category", "channel"):
        if filters.get(key) not in (None, ""):
            tickets = tickets.filter(**{key: filters[key]})
    sql, params = tickets.order_by(*SORTS[sort])[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print("\n".join(row[0] for row in cursor.fetchall()[:12]))


def main() -> None:
    args = parse_args()
    with bench_database(args.keep, args.reuse) as url:
        ready_console(url, tickets=args.tickets, reuse=args.reuse)
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from tickets.models import Tag

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        users = get_user_model().objects
        agent, supervisor = users.get(username="agent"), users.get(username="supervisor")
        ticket = prepare_workspace(agent)
        small = small_ticket(agent)
        tag = Tag.objects.order_by("id").values_list("name", flat=True).first()
        count = get_user_model()._meta.apps.get_model("tickets", "Ticket").objects.count()
        print(f"{count:,} tickets; PostgreSQL {connection.pg_version}; "
              f"{args.repeat} timed requests per case, after 3 to warm up.\n")

        def queue(key):
            return reverse("console-queue", args=[key])

        cases = [
            ("agent", "queue: mine", queue("mine"), {}),
            ("agent", "queue: my teams", queue("team"), {}),
            ("agent", "queue: unassigned", queue("unassigned"), {}),
            ("agent", "queue: at risk", queue("at_risk"), {}),
            ("agent", "queue: breached", queue("breached"), {}),
            ("agent", "queue: escalated", queue("escalated"), {}),
            ("agent", "queue: waiting on customer", queue("waiting_customer"), {}),
            ("agent", "queue: mine, P1", queue("mine"), {"priority": "1"}),
            ("agent", "queue: my teams, P0", queue("team"), {"priority": "0"}),
            ("agent", "queue: my teams, category + channel", queue("team"),
             {"category": "return_exchange", "channel": "app"}),
            ("agent", "queue: my teams, VIP", queue("team"), {"vip": "on"}),
            ("agent", "queue: my teams, tag", queue("team"), {"tag": tag}),
            ("agent", "queue: my teams, due first", queue("team"), {"sort": "due"}),
            ("agent", "queue: my teams, page 20", queue("team"), {"page": "20"}),
            ("supervisor", "queue: all teams (supervisor)", queue("team"), {}),
            ("supervisor", "queue: all teams, complaint L2", queue("team"),
             {"complaint_level": "l2"}),
            ("agent", "workspace: 3 messages",
             reverse("console-ticket", args=[small.number]), {}),
            ("agent", f"workspace: {MESSAGES} messages, 3 resolutions",
             reverse("console-ticket", args=[ticket.number]), {}),
        ]
        clients = {}
        for name, user in (("agent", agent), ("supervisor", supervisor)):
            clients[name] = Client()
            clients[name].force_login(user)
        # The REST list, page 1 and page 50, following the `next` links as a client would.
        api_list = reverse("ticket-list")
        for who in () if args.no_api_list else ("agent", "supervisor"):
            cases.append((who, f"api list: page 1 ({who})", api_list, {}))
            cases.append((who, f"api list: page 50 ({who})",
                          page_url(clients[who], api_list, 50), {}))
        print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print("| case | median ms | p90 ms | median CPU ms (Django) | queries |\n"
              "|---|---:|---:|---:|---:|")
        for who, label, url, params in cases:
            if args.only and not any(text in label for text in args.only):
                continue
            median, p90, cpu, queries = measure(clients[who], url, params, args.repeat)
            print(f"| {label} | {median:.1f} | {p90:.1f} | {cpu:.1f} | {queries} |", flush=True)
        print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if args.explain:
            for key, filters in (("mine", {}), ("team", {}), ("team", {"priority": "0"}),
                                 ("breached", {}), ("at_risk", {})):
                print(f"\n-- {key} {filters}")
                explain(agent, key, filters)


if __name__ == "__main__":
    main()
