"""Check, after a load run with faults, that nothing was claimed twice, lost, doubled or overpaid.

Run it from the project root with the console's environment, DATABASE_URL pointing at the
primary (not the replica: the checks must see every committed row), once the load has
stopped:

    .venv/bin/python bench/load/check_invariants.py --records bench/load/out/<run>

It first waits (up to --drain-seconds, default 600) for the workers to drain: no outbox
message due and undelivered, no approved resolution waiting for its execution. Then:

1. no ticket claimed twice: every "claim next" in the ticket history took a ticket nobody
   held (the history row before it has no assignee) for the agent who asked, and every
   claim an agent was told of ("You claimed ...", the locustfile's claims-*.jsonl) is in
   the history under that agent;
2. no intake lost or doubled: every Idempotency-Key the channel got a 2xx for maps to
   exactly one ticket, the one it was told, in the key table and in the tickets themselves
   (the locustfile writes the key into the description); every 2xx for a key named the
   same ticket; a key that never got an answer has at most one ticket;
3. no notification lost: no outbox message of the run failed for good or is overdue and
   undelivered; every resolution that went to approval told an approver, and every
   execution the money check refused told someone (the outbox rows those events make in
   their own transaction);
4. no order refunded above what was paid: per order and per item, refunds paid or reserved
   stay within the paid amount;
5. audit chains intact: `manage.py verify_audit`.

Prints one line per check and writes RECORDS/invariants.json; exits 1 when any check fails.
"""

import argparse
import io
import json
import os
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLAIM_REASON = "claim next"  # the comment "claim next" gives its history rows
KEY_IN_TEXT = re.compile(r"渠道单号 (\S+)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=Path, required=True,
                        help="the run's directory (setup.json, claims-*, intake-*)")
    parser.add_argument("--drain-seconds", type=int, default=600,
                        help="longest wait for the workers to drain (0: do not wait)")
    parser.add_argument("--overdue-seconds", type=int, default=180,
                        help="an outbox message due this long and still pending is lost")
    return parser.parse_args()


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_console.settings")
    import django

    django.setup()


def read_jsonl(records: Path, pattern: str) -> list[dict]:
    rows = []
    for path in sorted(records.glob(pattern)):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


class Report:
    def __init__(self) -> None:
        self.results: list[dict] = []

    def add(self, name: str, failures: list[str], summary: str) -> None:
        self.results.append({"check": name, "ok": not failures, "summary": summary,
                             "failures": failures[:50], "failure_count": len(failures)})
        print(f"{'PASS' if not failures else 'FAIL'} {name}: {summary}")
        for line in failures[:20]:
            print(f"     {line}")
        if len(failures) > 20:
            print(f"     ... and {len(failures) - 20} more")

    @property
    def ok(self) -> bool:
        return all(result["ok"] for result in self.results)


# --- waiting for the workers ----------------------------------------------------------------
def backlog(since: datetime) -> dict[str, int]:
    """What the workers still owe for the run: outbox rows due, executions not yet run."""
    from django.db.models import Q
    from django.utils import timezone

    from notifications.models import OutboxMessage, OutboxStatus
    from resolutions.models import RETURN_KINDS, Resolution, ResolutionState

    now = timezone.now()
    return {
        "outbox due": OutboxMessage.objects.filter(
            created_at__gte=since, status=OutboxStatus.PENDING, next_attempt_at__lte=now,
        ).count(),
        "executions waiting": Resolution.objects.filter(
            Q(state=ResolutionState.APPROVED) & ~Q(kind__in=RETURN_KINDS)
            | Q(state__in=[ResolutionState.EXECUTING, ResolutionState.RETURN_RECEIVED]),
            created_at__gte=since).count(),
    }


def wait_for_drain(seconds: int, since: datetime) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while True:
        left = backlog(since)
        if not any(left.values()) or time.monotonic() >= deadline:
            return left
        print(f"     waiting for the workers: {left}", flush=True)
        time.sleep(5)


# --- 1. claims ---------------------------------------------------------------------------------
def check_claims(report: Report, claims: list[dict], since: datetime) -> None:
    from django.contrib.auth import get_user_model

    from tickets.models import Ticket

    history = Ticket.history.model
    claimed_ids = set(history.objects.filter(
        history_change_reason__contains=CLAIM_REASON, history_date__gte=since,
    ).values_list("id", flat=True))
    rows = (history.objects.filter(id__in=claimed_ids).order_by("id", "history_id")
            .values_list("id", "number", "assignee_id", "history_user_id",
                         "history_change_reason", "history_date"))
    names = dict(get_user_model().objects.values_list("id", "username"))
    failures = []
    in_history: set[tuple[str, str]] = set()
    previous: dict[int, int | None] = {}
    claims_seen = 0
    for ticket_id, number, assignee_id, actor_id, reason, when in rows:
        if CLAIM_REASON in (reason or "") and when >= since:
            claims_seen += 1
            held_by = previous.get(ticket_id)
            if held_by is not None:
                failures.append(f"{number} claimed by {names.get(actor_id)} at {when:%H:%M:%S} "
                                f"while {names.get(held_by)} held it")
            if assignee_id != actor_id:
                failures.append(f"{number}: a claim by {names.get(actor_id)} gave it to "
                                f"{names.get(assignee_id)}")
            in_history.add((number, names.get(actor_id, "")))
        previous[ticket_id] = assignee_id
    told = {(claim["ticket"], claim["agent"]) for claim in claims}
    for number, agent in sorted(told - in_history):
        failures.append(f"{agent} was told it claimed {number}; the history has no such claim")
    agents_per_ticket = defaultdict(set)
    for number, agent in told:
        agents_per_ticket[number].add(agent)
    shared = sum(1 for agents in agents_per_ticket.values() if len(agents) > 1)
    report.add("no ticket claimed twice", failures,
               f"{claims_seen} claims in the history since {since:%H:%M:%S} UTC, "
               f"{len(told)} told to agents, {shared} tickets claimed by more than one agent "
               f"(each after the previous holder let go)")


# --- 2. intake ---------------------------------------------------------------------------------
def intake_answers(rows: list[dict]) -> dict[str, dict]:
    """Per key: the ticket numbers its 2xx answers named, and whether any answer came."""
    keys: dict[str, dict] = {}
    for row in rows:
        entry = keys.setdefault(row["key"], {"numbers": set(), "statuses": []})
        for answer in row.get("answers", []):
            entry["statuses"].append(answer["status"])
            if answer["status"] in (200, 201) and answer.get("number"):
                entry["numbers"].add(answer["number"])
    return keys


def check_intake(report: Report, rows: list[dict], setup: dict) -> None:
    from tickets.models import IntakeKey, Ticket

    prefix = f"load-{setup['run_id']}-"
    channel_id = setup["channel"]["user_id"]
    sent = intake_answers(rows)
    key_table = dict(IntakeKey.objects.filter(user_id=channel_id, key__startswith=prefix)
                     .values_list("key", "ticket__number"))
    by_text: dict[str, list[str]] = defaultdict(list)
    for number, description in Ticket.objects.filter(
            created_by_id=channel_id, description__contains=f"渠道单号 {prefix}",
    ).values_list("number", "description"):
        found = KEY_IN_TEXT.search(description)
        if found:
            by_text[found.group(1)].append(number)
    failures = []
    answered = retried = 0
    for key, entry in sorted(sent.items()):
        tickets = by_text.get(key, [])
        if len(entry["statuses"]) > 1:
            retried += 1
        if len(tickets) > 1:
            failures.append(f"{key}: doubled, tickets {', '.join(sorted(tickets))}")
        if not entry["numbers"]:
            continue  # never answered: at most one ticket (checked above)
        answered += 1
        if len(entry["numbers"]) > 1:
            failures.append(f"{key}: answered with different tickets "
                            f"{', '.join(sorted(entry['numbers']))}")
        told = next(iter(entry["numbers"]))
        if not tickets:
            failures.append(f"{key}: lost, answered {told} but no ticket carries the key")
        elif told not in tickets:
            failures.append(f"{key}: answered {told}, the key's ticket is {tickets[0]}")
        if key_table.get(key) != told:
            failures.append(f"{key}: the key table maps it to {key_table.get(key)}, "
                            f"answered {told}")
    for key, tickets in by_text.items():
        if key not in sent and len(tickets) > 1:
            failures.append(f"{key} (not in the records): doubled, {', '.join(tickets)}")
    unanswered = len(sent) - answered
    report.add("no intake lost or doubled", failures,
               f"{len(sent)} keys sent, {answered} answered 2xx, {retried} retried, "
               f"{unanswered} never answered 2xx ({sum(1 for k in sent if by_text.get(k) and not sent[k]['numbers'])} "
               f"of those made their one ticket), {sum(len(t) for t in by_text.values())} "
               f"tickets carry a key of the run")


# --- 3. notifications --------------------------------------------------------------------------
def check_notifications(report: Report, since: datetime, overdue: timedelta) -> None:
    from django.db.models import Count
    from django.utils import timezone

    from notifications.models import OutboxMessage, OutboxStatus
    from notifications.services.delivery import MAX_ATTEMPTS
    from resolutions.models import Resolution
    from resolutions.services.resolutions import _approvers_of

    rows = OutboxMessage.objects.filter(created_at__gte=since)
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).values_list(
        "status", "n"))
    failures = [f"outbox {pk} ({template}) failed for good after {attempts} tries: {error[:120]}"
                for pk, template, attempts, error in rows.filter(status=OutboxStatus.FAILED)
                .values_list("pk", "template", "attempts", "last_error")]
    failures += [f"outbox {pk} ({template}) due since {due:%H:%M:%S} and not delivered"
                 for pk, template, due in rows.filter(
                     status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now() - overdue,
                 ).values_list("pk", "template", "next_attempt_at")]
    failures += [f"outbox {pk} pending after {attempts} tries (at most {MAX_ATTEMPTS})"
                 for pk, attempts in rows.filter(
                     status=OutboxStatus.PENDING, attempts__gte=MAX_ATTEMPTS,
                 ).values_list("pk", "attempts")]
    # Events that make a message in their own transaction: each must have made it.
    history = Resolution.history.model
    told = set(rows.values_list("dedupe_key", flat=True).exclude(dedupe_key=None))
    to_approve = (history.objects.filter(history_date__gte=since,
                                         history_change_reason__startswith="transition:accept")
                  .exclude(verdict="allow").values_list("id", flat=True).distinct())
    expected = 0
    for resolution in Resolution.objects.filter(pk__in=list(to_approve)).select_related("ticket"):
        if not _approvers_of(resolution):
            continue
        expected += 1
        if not any(key.startswith(f"approval-waiting:{resolution.pk}:") for key in told):
            failures.append(f"resolution {resolution.pk} went to approval; nobody was told")
    refused = (history.objects.filter(history_date__gte=since,
                                      history_change_reason__startswith="transition:refer_for_review")
               .values_list("id", flat=True).distinct())
    for resolution_id in refused:
        expected += 1
        if not any(key.startswith(f"execution-refused:{resolution_id}:") for key in told):
            failures.append(f"resolution {resolution_id}: execution refused; nobody was told")
    report.add("no notification lost", failures,
               f"outbox rows of the run by status {by_status or {}}; {expected} events that "
               f"must tell someone, each checked")


# --- 4. refunds --------------------------------------------------------------------------------
def money(value) -> Decimal:
    # SQLite sums decimals without their scale; show them as money.
    return Decimal(value or 0).quantize(Decimal("0.01"))


def check_refunds(report: Report, since: datetime) -> None:
    from django.db.models import F, Sum

    from resolutions.models import PAYOUT_ACTIVE_STATES, Payout, PayoutKind, PayoutState

    refunds = Payout.objects.filter(kind=PayoutKind.REFUND, state__in=PAYOUT_ACTIVE_STATES)
    failures = [f"order {number}: refunds {money(total)} above the paid {paid}"
                for number, paid, total in refunds.values("order").annotate(
                    total=Sum("amount")).filter(total__gt=F("order__paid_amount"))
                .values_list("order__number", "order__paid_amount", "total")]
    failures += [f"order {number} item {sku}: refunds {money(total)} above the paid {paid}"
                 for number, sku, paid, total in refunds.exclude(order_item=None)
                 .values("order_item").annotate(total=Sum("amount"))
                 .filter(total__gt=F("order_item__paid_amount"))
                 .values_list("order__number", "order_item__sku", "order_item__paid_amount",
                              "total")]
    run = Payout.objects.filter(kind=PayoutKind.REFUND, created_at__gte=since)
    paid = run.filter(state=PayoutState.PAID).aggregate(n=Sum("amount"))["n"] or 0
    report.add("no order refunded above what was paid", failures,
               f"{run.filter(state=PayoutState.PAID).count()} refunds paid in the run "
               f"({money(paid)}), {run.filter(state=PayoutState.RESERVED).count()} still reserved; "
               f"every order and item checked")


# --- 5. audit ----------------------------------------------------------------------------------
def check_audit(report: Report) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    output = io.StringIO()
    try:
        call_command("verify_audit", stdout=output)
        failures = []
    except CommandError as error:
        failures = [line for line in output.getvalue().splitlines()
                    if "verified" not in line] or [str(error)]
    tables = output.getvalue().count(": verified")
    report.add("audit chains intact", failures, f"verify_audit: {tables} tables verified")


def main() -> None:
    args = parse_args()
    setup_django()
    setup = json.loads((args.records / "setup.json").read_text())
    claims = read_jsonl(args.records, "claims-*.jsonl")
    intake = read_jsonl(args.records, "intake-*.jsonl")
    started = [row["sent"] for row in intake if "sent" in row] + [c["at"] for c in claims]
    # From just before the run's first record: everything the run made.
    since = (datetime.fromtimestamp(min(started), UTC) - timedelta(seconds=10) if started
             else datetime.now(UTC) - timedelta(days=1))
    overdue = timedelta(seconds=args.overdue_seconds)
    if args.drain_seconds:
        left = wait_for_drain(args.drain_seconds, since)
        print(f"Workers drained: {left}" if not any(left.values())
              else f"Still waiting after {args.drain_seconds} s: {left}")
    report = Report()
    check_claims(report, claims, since)
    check_intake(report, intake, setup)
    check_notifications(report, since, overdue)
    check_refunds(report, since)
    check_audit(report)
    (args.records / "invariants.json").write_text(json.dumps({
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "since": since.isoformat(timespec="seconds"), "ok": report.ok,
        "checks": report.results}, ensure_ascii=False, indent=1))
    print("All invariants hold." if report.ok else "INVARIANTS BROKEN.")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
