"""Benchmark: requests per second over HTTP with gunicorn, as production serves them.

Run it alone, from the project root:

    .venv/bin/python bench/bench_http.py                        # 1,000,000 tickets, fresh DB
    .venv/bin/python bench/bench_http.py 100000                 # fewer tickets
    .venv/bin/python bench/bench_http.py --keep                 # keep the database afterwards
    .venv/bin/python bench/bench_http.py --reuse cs_bench_123   # measure a kept one again
    .venv/bin/python bench/bench_http.py --only intake          # one case (intake, queue, ...)

It loads the database as the other million-ticket benchmarks do (bench/benchdb.py), then
starts `gunicorn -c deploy/gunicorn.conf.py cs_console.wsgi --workers 2` (a web node's own
settings: sync workers forked from a loaded master, DEBUG off) on 127.0.0.1 and
drives it with `wrk` (Debian package `wrk`), 8 connections for `--duration` seconds (default
30) after a 5-second warm-up, one case at a time:

- intake: `POST /api/v1/tickets/` with a channel integration's token, a new Idempotency-Key
  and a new customer request on every call (routing, SLA clocks, history and the outbox all
  run; the tickets it makes stay in the database);
- queue: the demo agent's team queue, 50 rows, logged in with a session cookie;
- queue (supervisor): every open ticket, 50 rows;
- api list: `GET /api/v1/tickets/` page 1, as the agent and as the supervisor (token).

The per-account request limits (THROTTLE_RATE_INTAKE, THROTTLE_RATE_USER) are lifted for
gunicorn: one account sends every request here.

Printed per case: requests per second, latency p50/p99 as wrk measured them, non-2xx
answers, and the load average before and after. The machine has two cores, shared by
gunicorn, PostgreSQL and wrk, so the figures are for the whole stack on one small box.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchdb import ROOT, bench_database, ready_console

PORT = 8765

INTAKE_LUA = r"""
local counter = 0
-- thread_id is a global that setup() gives each thread's own state (a local here would be
-- what request() reads, 0 in every thread, and both threads would send the same keys).
local next_thread = 0
local prefix = "%(prefix)s"
local customers = {%(customers)s}
local orders = {%(orders)s}
local subjects = {"收到的耳机左耳没有声音", "快递显示签收但没收到包裹", "想申请七天无理由退货",
                  "商品与描述不符，要求退款", "发票开错了需要重开"}
-- Every wrk run (the warm-up, then the measured one) sends keys of its own: the same key
-- again would be a retry, answered from the ticket it made, not a new intake.
local run = tostring(os.time())
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end
request = function()
  counter = counter + 1
  local n = counter + thread_id * 100000000
  local i = (n %% #customers) + 1
  local body = string.format(
    '{"channel": "app", "customer": {"external_id": "%%s", "name": "客户%%d"},'
    .. ' "order_number": "%%s", "subject": "%%s", "description": "请尽快处理，谢谢。"}',
    customers[i], n, orders[i], subjects[(n %% #subjects) + 1])
  return wrk.format("POST", "/api/v1/tickets/", {
    ["Authorization"] = "Token %(token)s",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. run .. "-" .. thread_id .. "-" .. counter,
  }, body)
end
"""

GET_LUA = r"""
wrk.headers["Cookie"] = "%(cookie)s"
wrk.headers["Authorization"] = "%(authorization)s"
wrk.headers["Accept-Language"] = "zh-hans"
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--reuse", metavar="NAME",
                        help="measure again on a database kept with --keep (no load)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per case")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--only", action="append", help="run only these cases")
    return parser.parse_args()


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def intake_script(token: str) -> str:
    """Return the wrk script of the intake case: real customers and their orders."""
    from shop.models import Order

    pairs = list(Order.objects.order_by("-id").values_list("customer__external_id", "number")[:500])
    quote = lambda values: ", ".join(f'"{value}"' for value in values)  # noqa: E731
    return INTAKE_LUA % {"prefix": f"bench-{int(time.time())}", "token": token,
                         "customers": quote(c for c, _ in pairs),
                         "orders": quote(o for _, o in pairs)}


def start_gunicorn(env: dict, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c",
         str(ROOT / "deploy" / "gunicorn.conf.py"), "cs_console.wsgi",
         "--workers", str(workers), "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning",
         "--access-logfile", "/dev/null"],
        env=env, cwd=ROOT, start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def wrk(path: str, script: str, *, duration: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    url = f"http://127.0.0.1:{PORT}{path}"
    base = ["wrk", "-t", "2", "-c", str(connections), "-s", handle.name, "--latency",
            "--timeout", "60s"]
    subprocess.run([*base, "-d", "5s", url], check=True, capture_output=True)  # warm-up
    before = loadavg()
    output = subprocess.run([*base, "-d", f"{duration}s", url], check=True,
                            capture_output=True, text=True).stdout
    os.unlink(handle.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p50": latency.get("50"), "p99": latency.get("99"),
            "errors": int(errors.group(1)) if errors else 0, "before": before,
            "after": loadavg()}


def main() -> None:
    args = parse_args()
    with bench_database(args.keep, args.reuse) as url:
        env = ready_console(url, tickets=args.tickets, reuse=args.reuse)
        # The per-account request limits (docs/SECURITY.md) would answer 429 long before the
        # stack's capacity, which is what is measured here: one account sends everything.
        env.update({"THROTTLE_RATE_INTAKE": "10000000/minute",
                    "THROTTLE_RATE_USER": "10000000/minute"})
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.urls import reverse

        from tickets.models import Ticket

        users = get_user_model().objects
        agent, supervisor = users.get(username="agent"), users.get(username="supervisor")
        if not users.filter(username="bench_channel").exists():
            with open(os.devnull, "w") as quiet:
                call_command("create_integration_account", "bench_channel", "--kind",
                             "channel", stdout=quiet)
        channel = users.get(username="bench_channel")
        count = Ticket.objects.count()
        cases = {
            "intake": ("/api/v1/tickets/", intake_script(token_for(channel))),
            "queue": (reverse("console-queue", args=["team"]),
                      GET_LUA % {"cookie": session_cookie(agent), "authorization": ""}),
            "queue (supervisor)": (reverse("console-queue", args=["team"]),
                                   GET_LUA % {"cookie": session_cookie(supervisor),
                                              "authorization": ""}),
            "api list": (reverse("ticket-list"),
                         GET_LUA % {"cookie": "", "authorization": f"Token {token_for(agent)}"}),
            "api list (supervisor)": (reverse("ticket-list"), GET_LUA % {
                "cookie": "", "authorization": f"Token {token_for(supervisor)}"}),
        }
        connection.close()
        print(f"{count:,} tickets at the start; PostgreSQL; gunicorn {args.workers} sync "
              f"workers; wrk {args.connections} connections, {args.duration} s per case.\n")
        print("| case | requests/s | p50 | p99 | non-2xx | load before | load after |\n"
              "|---|---:|---:|---:|---:|---|---|")
        server = start_gunicorn(env, args.workers)
        try:
            for name, (path, script) in cases.items():
                if args.only and name not in args.only:
                    continue
                result = wrk(path, script, duration=args.duration,
                             connections=args.connections)
                print(f"| {name} | {result['rate']:.1f} | {result['p50']} | {result['p99']} | "
                      f"{result['errors']} | {result['before']} | {result['after']} |",
                      flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        print(f"\n{Ticket.objects.count():,} tickets at the end.")


if __name__ == "__main__":
    main()
