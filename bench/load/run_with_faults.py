"""Run the load test with faults: a baseline, then one fault at a time under the same load.

From the project root, against the local cluster (`make cluster`, docs in bench/README.md):

    .venv/bin/python bench/load/run_with_faults.py --host http://127.0.0.1:8080

Phases, each under the same locust load (bench/load/locustfile.py):
1. baseline: --baseline-seconds (default 300);
2. one phase per fault, in order (default kill-web 2, kill-worker 2, restart-redis,
   cut-replica), each --fault-seconds long (default 60), the fault injected at its start
   with `--fault-command` (default `.venv/bin/python deploy/cluster.py fault {fault}`;
   `true` or `--no-faults` makes it a dry run while there is no cluster);
3. recovery: `--heal-command` (default `.venv/bin/python deploy/cluster.py heal`) at its
   start, then --recovery-seconds (default 120).

Before the load it runs bench/load/prepare.py (with the environment's DATABASE_URL, which
must reach the primary) unless --no-prepare; afterwards it prints the command that checks
the invariants (check_invariants.py), which wants the workers drained first.

Every request is written down by the locustfile with its start time; the phases are cut
from those records, so each phase's figures are its own (not cumulative): requests,
throughput, p50/p95 per action, failures (no answer, 5xx, unexpected status) and refusals
(the console said no for a business reason) per action. Written to OUT/report.json and
OUT/report.md (ready to paste into bench/RESULTS.md), with the date, the command, the
faults' outputs and the load average at each phase's end.
"""

import argparse
import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FAULTS = ["kill-web 2", "kill-worker 2", "restart-redis", "cut-replica"]
# The actions the report lists first, in the order an agent takes them.
NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
ACTIONS = ["queue", "claim", "workspace", "reply", "propose", "accept", "return", "resolve",
           "dashboard", "export", "approvals", "approve", "intake"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="http://127.0.0.1:8080")
    parser.add_argument("--users", type=int, default=30, help="locust users in all")
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--agents", type=int, default=40, help="load agents prepare makes")
    parser.add_argument("--supervisors", type=int, default=2, help="of --users")
    parser.add_argument("--integrations", type=int, default=2, help="of --users")
    parser.add_argument("--baseline-seconds", type=int, default=300)
    parser.add_argument("--fault-seconds", type=int, default=60)
    parser.add_argument("--recovery-seconds", type=int, default=120)
    parser.add_argument("--fault", action="append", dest="faults", metavar="FAULT",
                        help=f"a fault, in order (repeatable; default: {', '.join(FAULTS)})")
    parser.add_argument("--fault-command",
                        default=".venv/bin/python deploy/cluster.py fault {fault}",
                        help="run at a fault phase's start; {fault} is the fault")
    parser.add_argument("--heal-command", default=".venv/bin/python deploy/cluster.py heal")
    parser.add_argument("--no-faults", action="store_true",
                        help="run the phases but inject nothing (no cluster yet)")
    parser.add_argument("--no-prepare", action="store_true",
                        help="OUT/setup.json exists already (prepare.py ran)")
    parser.add_argument("--out", type=Path,
                        default=HERE / "out" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))
    return parser.parse_args()


def run_command(command: str, log: Path) -> dict:
    """Run a fault or heal command from the project root; return what it said.

    Its output goes to a file, not a pipe: a command that starts a server in the background
    leaves the pipe open and would keep a reader waiting until the server stops.
    """
    started = time.time()
    with log.open("a+") as output:
        output.write(f"$ {command}\n")
        output.flush()
        position = output.tell()
        try:
            code = subprocess.run(shlex.split(command), cwd=ROOT, stdout=output,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  timeout=120).returncode
        except (OSError, subprocess.TimeoutExpired) as error:
            code = -1
            output.write(f"{error}\n")
        output.seek(position)
        said = output.read().strip()
    print(f"  $ {command} -> exit {code} ({time.time() - started:.1f} s)", flush=True)
    return {"command": command, "exit": code, "output": said[-2000:],
            "seconds": round(time.time() - started, 1)}


def loadavg() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def start_locust(args: argparse.Namespace) -> subprocess.Popen:
    """Start locust; it runs until stopped, so a slow fault command cannot cut a phase short."""
    env = {**os.environ, "LOAD_OUT": str(args.out), "LOAD_SUPERVISORS": str(args.supervisors),
           "LOAD_INTEGRATIONS": str(args.integrations)}
    command = [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"),
               "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
               "--stop-timeout", "10", "--host", args.host,
               "--csv", str(args.out / "locust"), "--only-summary", "--loglevel", "WARNING"]
    log = (args.out / "locust.log").open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def run_phases(args: argparse.Namespace) -> list[dict]:
    """Drive the phases in time while locust runs; return each phase's span and events."""
    faults = args.faults or FAULTS
    plan = [("baseline", args.baseline_seconds, None)]
    plan += [(fault, args.fault_seconds, args.fault_command.format(fault=fault))
             for fault in faults]
    plan.append(("recovery", args.recovery_seconds, args.heal_command))
    locust = start_locust(args)
    phases = []
    try:
        for name, seconds, command in plan:
            started = time.time()
            print(f"{datetime.now(UTC):%H:%M:%S} phase {name} ({seconds} s)", flush=True)
            injected = None
            if command and not args.no_faults:
                injected = run_command(command, args.out / "faults.log")
            if locust.poll() is not None:
                raise SystemExit(f"locust stopped early (exit {locust.returncode}); "
                                 f"see {args.out / 'locust.log'}")
            time.sleep(max(started + seconds - time.time(), 0))
            phases.append({"phase": name, "start": started, "end": time.time(),
                           "fault": injected, "loadavg_end": loadavg()})
    finally:
        if locust.poll() is None:
            locust.terminate()  # locust stops its users and writes its summary on SIGTERM
            try:
                locust.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(locust.pid, signal.SIGKILL)
                locust.wait()
    return phases


def read_requests(out: Path) -> list[tuple[float, str, float, bool, str]]:
    rows = []
    for path in sorted(out.glob("requests-*.csv")):
        with path.open(newline="") as handle:
            for started, name, milliseconds, ok, error in csv.reader(handle):
                rows.append((float(started), name, float(milliseconds), ok == "1", error))
    return rows


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with `share` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def phase_figures(phase: dict, rows: list) -> dict:
    """Each action's figures within the phase, from the requests that started in it."""
    inside = [row for row in rows if phase["start"] <= row[0] < phase["end"]]
    seconds = phase["end"] - phase["start"]
    actions: dict[str, dict] = {}
    for _started, name, milliseconds, ok, error in inside:
        action = actions.setdefault(name, {"times": [], "failed": 0, "refused": 0,
                                           "errors": {}})
        action["times"].append(milliseconds)
        if not ok:
            kind = "refused" if error.startswith("refused:") else "failed"
            action[kind] += 1
            # Amounts, ticket numbers and ports vary; the kind of error is what is counted.
            kind_of_error = NUMBERS.sub("#", error)
            action["errors"][kind_of_error] = action["errors"].get(kind_of_error, 0) + 1
    figures = {}
    for name, action in actions.items():
        times = action["times"]
        figures[name] = {
            "requests": len(times), "per_second": round(len(times) / seconds, 2),
            "p50_ms": percentile(times, 0.50), "p95_ms": percentile(times, 0.95),
            "failed": action["failed"], "refused": action["refused"],
            "errors": dict(sorted(action["errors"].items(), key=lambda e: -e[1])[:5]),
        }
    return {"phase": phase["phase"], "seconds": round(seconds, 1), "requests": len(inside),
            "per_second": round(len(inside) / seconds, 2),
            "failed": sum(a["failed"] for a in figures.values()),
            "refused": sum(a["refused"] for a in figures.values()),
            "loadavg_end": phase["loadavg_end"], "fault": phase["fault"], "actions": figures}


def ordered_actions(report: list[dict]) -> list[str]:
    seen = {name for phase in report for name in phase["actions"]}
    return [name for name in ACTIONS if name in seen] + sorted(seen - set(ACTIONS))


def markdown(report: list[dict], *, command: str, started: datetime, args) -> str:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f}"

    lines = [
        f"Load test with faults, {started:%Y-%m-%d %H:%M} UTC, against {args.host}: "
        f"{args.users} users ({args.supervisors} supervisors, {args.integrations} channel "
        f"integrations, the rest agents).",
        "",
        f"    {command}",
        "",
        "| phase | seconds | requests | req/s | failed | refused | load average at end | fault |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for phase in report:
        fault = phase["fault"]
        said = "–" if fault is None else f"exit {fault['exit']}"
        lines.append(f"| {phase['phase']} | {phase['seconds']:.0f} | {phase['requests']} | "
                     f"{phase['per_second']:.1f} | {phase['failed']} | {phase['refused']} | "
                     f"{phase['loadavg_end']} | {said} |")
    lines += ["", "Per action and phase: requests/s, p50 / p95 in ms, failed (refused).", ""]
    names = [phase["phase"] for phase in report]
    lines.append("| action | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for action in ordered_actions(report):
        cells = []
        for phase in report:
            figures = phase["actions"].get(action)
            if figures is None:
                cells.append("–")
                continue
            cells.append(f"{figures['per_second']:.2f}/s {ms(figures['p50_ms'])} / "
                         f"{ms(figures['p95_ms'])} · {figures['failed']} "
                         f"({figures['refused']})")
        lines.append(f"| {action} | " + " | ".join(cells) + " |")
    errors = [(phase["phase"], action, error, count) for phase in report
              for action, figures in phase["actions"].items()
              for error, count in figures["errors"].items()]
    if errors:
        lines += ["", "Errors (the most frequent per action and phase):", "",
                  "| phase | action | count | error |", "|---|---|---:|---|"]
        lines += [f"| {phase} | {action} | {count} | {error.replace('|', '/')} |"
                  for phase, action, error, count in errors]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    if args.users - args.supervisors - args.integrations > args.agents:
        raise SystemExit("More agent users than load agents: raise --agents (two locust "
                         "users sharing one agent would blur the claim check).")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    command = " ".join(shlex.quote(part) for part in sys.argv)
    started = datetime.now(UTC)
    if not args.no_prepare:
        subprocess.run([sys.executable, str(HERE / "prepare.py"), "--out", str(args.out),
                        "--agents", str(args.agents)], cwd=ROOT, check=True)
    for stale in args.out.glob("requests-*.csv"):
        stale.unlink()
    print(f"Load on {args.host}, load average {loadavg()}; records in {args.out}", flush=True)
    phases = run_phases(args)
    report = [phase_figures(phase, read_requests(args.out)) for phase in phases]
    (args.out / "report.json").write_text(json.dumps({
        "date": started.isoformat(timespec="seconds"), "command": command, "host": args.host,
        "users": args.users, "phases": report}, ensure_ascii=False, indent=1))
    table = markdown(report, command=command, started=started, args=args)
    (args.out / "report.md").write_text(table)
    print("\n" + table)
    print("Once the workers have drained, check the invariants against the primary:\n"
          f"    .venv/bin/python bench/load/check_invariants.py --records {args.out}")


if __name__ == "__main__":
    main()
