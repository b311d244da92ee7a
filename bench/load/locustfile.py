"""The console under a working day's load: agents, supervisors and a channel integration.

Run through bench/load/run_with_faults.py (which prepares the database and injects the
faults), or alone against a prepared host:

    LOAD_OUT=bench/load/out/run1 .venv/bin/locust -f bench/load/locustfile.py --headless \
        -u 30 -r 5 --run-time 5m --host http://127.0.0.1:8080

LOAD_OUT is the directory prepare.py wrote setup.json into; the users' records go there too:
- requests-<pid>.csv: every request (start time, action, milliseconds, ok, error), from
  which the driver computes each phase's figures;
- claims-<pid>.jsonl: every ticket an agent was told it claimed, for check_invariants.py;
- intake-<pid>.jsonl: every Idempotency-Key the channel sent and every answer it got.

The users behave as the pages and a channel do, nothing more:
- Agent logs in through the log-in form and loops: its queue (and the tabs' counts the page
  loads after it), "claim next" (htmx), the ticket's workspace, a reply (the reply form as
  htmx posts it), a proposal where the policy panel offers one (a refund or return within
  the order), the customer's agreement on it (and for a return the parcel and its
  arrival, so the refund is paid), and "resolve" when the workflow offers it;
  tickets whose resolution is still running are resolved on a later visit.
- Supervisor logs in, opens the dashboard (now and then downloading the monthly report) and
  approves what waits in the approvals inbox (maker-checker: the agents' proposals above
  their limit), so those refunds are paid too.
- Integration posts intake with a token and an Idempotency-Key; on a network error, a 5xx
  or a 429 it retries with the same key, as a channel does.

Requests are named per action (queue, claim, workspace, reply, propose, accept, return,
resolve, dashboard, export, approvals, approve, intake, login), so the statistics group by
action. An action the console refuses for a business reason (the money check, a workflow
rule) counts as an error whose message starts with "refused:"; the driver reports those
apart from failures.
"""

import csv
import itertools
import json
import os
import random
import re
import time
from html import unescape
from pathlib import Path

from locust import HttpUser, between, events, task
from locust.exception import StopUser

OUT = Path(os.environ.get("LOAD_OUT", "bench/load/out/latest"))
SETUP = json.loads((OUT / "setup.json").read_text())
PID = os.getpid()
AGENT_NUMBERS = itertools.count()
INTAKE_NUMBERS = itertools.count(1)

# --- records ---------------------------------------------------------------------------------
_request_file = (OUT / f"requests-{PID}.csv").open("a", newline="", buffering=1)
_requests = csv.writer(_request_file)
_claims = (OUT / f"claims-{PID}.jsonl").open("a", buffering=1)
_intake = (OUT / f"intake-{PID}.jsonl").open("a", buffering=1)


@events.request.add_listener
def record_request(request_type, name, response_time, response_length, exception=None,
                   start_time=None, **_kwargs):
    """Write every request down: the driver cuts the run into phases by start time."""
    started = start_time if start_time is not None else time.time() - response_time / 1000
    error = "" if exception is None else str(exception)[:200].replace("\n", " ")
    _requests.writerow([f"{started:.3f}", name, f"{response_time:.1f}",
                        0 if exception else 1, error])


@events.quitting.add_listener
def close_records(**_kwargs):
    for handle in (_request_file, _claims, _intake):
        handle.flush()


# --- reading the pages -------------------------------------------------------------------------
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HX_CSRF = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
SEEN = re.compile(r'name="seen" value="(\d*)"')
PROPOSE = re.compile(r'data-propose="([a-z_]+)"')
ERROR = re.compile(r'data-testid="(?:action|approval)-error">(.*?)</div>', re.S)
# A resolution's action form: its URL, then (within the tag) the action's name.
ACTION_FORM = re.compile(
    r'<form method="post" action="(/tickets/[^"]+/resolutions/\d+/)"[^>]*data-action="([a-z_]+)"')
APPROVE_FORM = re.compile(
    r'<form method="post" action="(/tickets/approvals/\d+/)"[^>]*data-action="approve"')
TRANSITION = re.compile(r'data-transition="([a-z_]+)"')
# What the agent does on a new resolution card, in order, where the card offers it: the
# customer agrees; for a return, the parcel the customer reports and its arrival.
RESOLUTION_STEPS = [
    ("accept", "accept", {"note": "客户同意"}),
    ("record_return", "return", {"carrier": "顺丰", "tracking_number": "SF1234567890"}),
    ("receive_return", "return", {"note": "仓库已签收"}),
]
# Refunds first: they move money, which is what the refund invariant watches.
PROPOSE_ORDER = ["refund_only", "partial_refund", "return_refund", "exchange", "reissue",
                 "repair", "compensation", "coupon", "points"]


def page_csrf(html: str) -> str:
    found = HX_CSRF.search(html) or CSRF_FIELD.search(html)
    return found.group(1) if found else ""


def failed_answer(response) -> str:
    """Say why an answer is a failure: its status, or why none came (grouped by kind)."""
    if response.status_code:
        return f"HTTP {response.status_code}"
    error = str(getattr(response, "error", "") or "")
    for kind in ("refused", "reset", "timed out", "aborted", "closed"):
        if kind in error.lower():
            return f"no answer: connection {kind}"
    return f"no answer: {error[:80]}"


def action_error(html: str) -> str:
    found = ERROR.search(html)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


class ConsoleUser(HttpUser):
    """A person at the console: logs in through the form and keeps the CSRF token."""

    abstract = True
    csrf = ""

    def log_in(self, username: str, password: str) -> None:
        page = self.client.get("/accounts/login/", name="login")
        token = page_csrf(page.text)
        with self.client.post("/accounts/login/", name="login", allow_redirects=False,
                              data={"username": username, "password": password,
                                    "csrfmiddlewaretoken": token},
                              headers={"Referer": f"{self.host}/accounts/login/"},
                              catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"log-in of {username}: {failed_answer(answer)}")
                raise StopUser
            answer.success()

    def open_page(self, path: str, name: str, **kwargs) -> str:
        """GET a page; return its text ("" when it failed), keeping its CSRF token."""
        with self.client.get(path, name=name, catch_response=True, **kwargs) as page:
            if page.status_code != 200:
                page.failure(failed_answer(page))
                return ""
            self.csrf = page_csrf(page.text) or self.csrf
            return page.text

    def htmx_post(self, path: str, name: str, data: dict):
        """POST as htmx does from the page: the page's CSRF token, the HX-Request header."""
        return self.client.post(path, data=data, name=name, catch_response=True,
                                allow_redirects=False,
                                headers={"HX-Request": "true", "X-CSRFToken": self.csrf,
                                         "Referer": f"{self.host}{path}"})


class Agent(ConsoleUser):
    """An agent working through the team queues with "claim next"."""

    weight = 10
    wait_time = between(2, 6)

    def on_start(self) -> None:
        agents = SETUP["agents"]
        credentials = agents[next(AGENT_NUMBERS) % len(agents)]
        self.username = credentials["username"]
        self.unresolved: list[str] = []
        self.log_in(credentials["username"], credentials["password"])

    def act(self, path: str, name: str, data: dict) -> str:
        """Take a workspace action; return the refreshed workspace ("" when it failed)."""
        with self.htmx_post(path, name, data) as answer:
            if answer.status_code != 200:
                answer.failure(failed_answer(answer))
                return ""
            refused = action_error(answer.text)
            if refused:
                answer.failure(f"refused: {refused[:120]}")
                return ""
            return answer.text

    @task(5)
    def work_next_ticket(self) -> None:
        if not self.open_page("/tickets/queue/mine/", "queue"):
            return
        self.open_page("/tickets/queue-counts/", "queue counts", headers={"HX-Request": "true"})
        number = self.claim()
        if number is None:
            self.resolve_earlier()
            return
        workspace = self.open_page(f"/tickets/{number}/", "workspace")
        if not workspace:
            return
        workspace = self.reply(number, workspace) or workspace
        workspace = self.propose(number, workspace) or workspace
        if not self.resolve(number, workspace):
            self.unresolved.append(number)

    @task(1)
    def resolve_earlier(self) -> None:
        """Come back to a claimed ticket whose resolution was still running."""
        if not self.unresolved:
            return
        number = self.unresolved.pop(0)
        workspace = self.open_page(f"/tickets/{number}/", "workspace")
        if workspace and not self.resolve(number, workspace) and len(self.unresolved) < 50:
            self.unresolved.append(number)

    def claim(self) -> str | None:
        with self.htmx_post("/tickets/claim-next/", "claim", {}) as answer:
            target = answer.headers.get("HX-Redirect", "")
            if answer.status_code != 204 or not target:
                answer.failure(failed_answer(answer))
                return None
            answer.success()
        found = re.fullmatch(r"/tickets/([^/]+)/", target)
        if found is None or found.group(1).startswith("queue"):
            return None  # nothing to claim: the page goes back to the unassigned queue
        number = found.group(1)
        _claims.write(json.dumps({"at": time.time(), "agent": self.username,
                                  "ticket": number}) + "\n")
        return number

    def reply(self, number: str, workspace: str) -> str:
        seen = SEEN.search(workspace)
        data = {"kind": "reply", "seen": seen.group(1) if seen else "", "then": "",
                "body": random.choice(REPLIES)}
        refreshed = self.act(f"/tickets/{number}/reply/", "reply", data)
        if 'data-testid="newer-reply"' in refreshed:
            # Someone wrote meanwhile: the page shows it; the agent reads it and sends anyway.
            refreshed = self.act(f"/tickets/{number}/reply/", "reply",
                                 {**data, "confirm": "True"})
        return refreshed

    def propose(self, number: str, workspace: str) -> str:
        offered = PROPOSE.findall(workspace)
        if not offered:
            return ""
        kind = min(offered, key=lambda k: PROPOSE_ORDER.index(k) if k in PROPOSE_ORDER else 99)
        refreshed = self.act(f"/tickets/{number}/propose/", "propose", {"kind": kind})
        # The customer agrees to the new card: its "accept" form is the one the page shows.
        workspace = refreshed
        for action, name, data in RESOLUTION_STEPS:
            forms = [url for url, offered in ACTION_FORM.findall(workspace) if offered == action]
            if not forms:
                continue
            workspace = self.act(forms[-1], name, {"name": action, **data}) or workspace
        return workspace

    def resolve(self, number: str, workspace: str) -> bool:
        """Resolve when the workspace offers it (no resolution still open); True if done."""
        if "resolve" not in TRANSITION.findall(workspace):
            return False
        return bool(self.act(f"/tickets/{number}/transition/", "resolve",
                             {"name": "resolve", "summary": "已按政策处理完毕。"}))


class Supervisor(ConsoleUser):
    """A supervisor watching the dashboard."""

    fixed_count = int(os.environ.get("LOAD_SUPERVISORS", "2"))
    wait_time = between(5, 15)

    def on_start(self) -> None:
        supervisor = SETUP["supervisor"]
        self.log_in(supervisor["username"], supervisor["password"])

    @task(6)
    def dashboard(self) -> None:
        self.open_page("/dashboard/", "dashboard")

    @task(3)
    def approve(self) -> None:
        """Open the approvals inbox and approve the first resolution waiting there."""
        inbox = self.open_page("/tickets/approvals/", "approvals")
        waiting = APPROVE_FORM.findall(inbox)
        if not waiting:
            return
        with self.client.post(waiting[0], name="approve", allow_redirects=False,
                              catch_response=True,
                              data={"name": "approve", "comment": "",
                                    "csrfmiddlewaretoken": self.csrf},
                              headers={"Referer": f"{self.host}/tickets/approvals/"}) as answer:
            if answer.status_code == 302:
                answer.success()
            elif answer.status_code == 400:  # decided meanwhile, or above the limit
                answer.failure(f"refused: {action_error(answer.text)[:120]}")
            else:
                answer.failure(failed_answer(answer))

    @task(1)
    def export(self) -> None:
        self.open_page("/dashboard/report/?format=csv", "export")


class Integration(HttpUser):
    """A channel (the app's after-sales module) opening tickets through the API."""

    fixed_count = int(os.environ.get("LOAD_INTEGRATIONS", "2"))
    wait_time = between(1, 3)
    attempts = 6

    @task
    def intake(self) -> None:
        target = random.choice(SETUP["targets"])
        key = f"load-{SETUP['run_id']}-{PID}-{next(INTAKE_NUMBERS)}"
        payload = {
            "channel": random.choice(["app", "mini_program", "web_form"]),
            "customer": {"external_id": target["external_id"], "name": target["name"]},
            "order_number": target["order_number"], "sku": target["sku"],
            "ticket_type": "after_sales",
            "subject": random.choice(SUBJECTS),
            # The key in the text too: the invariant check finds doubles without the key table.
            "description": f"{random.choice(DESCRIPTIONS)}\n渠道单号 {key}",
            "request_reason": random.choice(["quality_defect", "not_as_described",
                                             "no_reason"]),
            "item_condition": "opened",
            "requested_resolution": random.choice(["refund_only", "return_refund"]),
        }
        headers = {"Authorization": f"Token {SETUP['channel']['token']}",
                   "Idempotency-Key": key}
        # Written before the first try: a key whose answers never come (the run ended
        # mid-retry) is still known to the invariant check.
        _intake.write(json.dumps({"key": key, "sent": time.time()}) + "\n")
        answers = []
        for attempt in range(self.attempts):
            with self.client.post("/api/v1/tickets/", json=payload, headers=headers,
                                  name="intake", catch_response=True) as answer:
                status = answer.status_code  # 0: no answer (connection refused, reset)
                number = None
                if status in (200, 201):
                    number = answer.json().get("number")
                    answer.success()
                elif status == 429:
                    # The rate limit speaking, not a fault: counted apart, waited for, retried.
                    answer.request_meta["name"] = "intake throttled"
                    answer.success()
                else:
                    answer.failure(failed_answer(answer))
                answers.append({"at": time.time(), "status": status, "number": number})
            if status in (200, 201) or (400 <= status < 500 and status != 429):
                break
            retry_after = answer.headers.get("Retry-After", "") if status == 429 else ""
            time.sleep(min(float(retry_after), 30) if retry_after.isdigit() else 2 ** attempt)
        final = answers[-1]
        _intake.write(json.dumps({
            "key": key, "order_number": target["order_number"], "answers": answers,
            "status": final["status"], "number": final["number"]}) + "\n")


SUBJECTS = ["收到的耳机左耳没有声音", "商品与描述不符，要求退款", "想申请七天无理由退货",
            "外包装破损，商品有划痕", "颜色和图片不一样"]
DESCRIPTIONS = ["请尽快处理，谢谢。", "已经等了三天了，麻烦给个答复。", "照片已经在聊天里发过了。"]
REPLIES = ["您好，已收到您的反馈，我们马上为您核实处理。",
           "您好，抱歉给您带来不便，我们会按售后政策为您处理。",
           "您好，请您稍等，正在为您查询订单信息。"]
