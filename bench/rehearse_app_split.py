"""Rehearse the move of tickets' models into capability apps on a full database.

Builds a database with the code from before the split (a git worktree of BASE_COMMIT, the
same virtualenv): `migrate`, then `seed_demo --tickets N`. Then it reads what must survive,
migrates the database with the code of this checkout, reads it again and compares:

- the row count of every table (moved tables under their new names);
- a sample of history rows of every history table, column by column, and the audit chain
  (`verify_audit`, which recomputes every chained row's hash);
- every role's permissions, by id and by "app.codename" (the codename moved with its model);
- the content types of the moved models (same ids, new app label);
- django-q2's schedules (same rows, the new task paths).

    python bench/rehearse_app_split.py [--tickets 100000] [--base-commit 8ce2b9d] [--keep]

Prints the timings and the comparison; exits 1 if anything differs. The database is
`cs_bench_<pid>` on BENCH_PG_SERVER (default postgres://postgres@127.0.0.1:5432/postgres),
dropped at the end unless --keep.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchdb import bench_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The last commit before the split (tickets still held every model).
BASE_COMMIT = "8ce2b9d"
# Where each moved table went: old name -> new name (derived from the model moves).
MOVED_APPS = {
    "shop": ["customer", "historicalcustomer", "order", "historicalorder", "orderitem",
             "historicalorderitem"],
    "cs_console": ["auditpurge", "auditpurgeanchor"],
    "routing": ["agentprofile", "historicalagentprofile", "routingrule", "historicalroutingrule",
                "routingconfigversion"],
    "sla": ["slapolicy", "historicalslapolicy", "customerupdateclock"],
    "resolutions": ["resolution", "historicalresolution", "payout", "historicalpayout",
                    "simulatedgatewayrecord"],
    "notifications": ["outboxmessage"],
    "supervision": ["incident", "historicalincident", "incident_tickets",
                    "historicalincident_tickets", "incidentbroadcast", "survey", "qareview",
                    "historicalqareview", "contactreveal"],
    "reporting": ["dailyagentmetrics", "dailyruletotals"],
}
RENAMED = {f"tickets_{table}": f"{app}_{table}" for app, tables in MOVED_APPS.items()
           for table in tables}
# Every moved table but the auto-created many-to-many one is a model's.
MOVED_MODELS = {table: app for app, tables in MOVED_APPS.items() for table in tables
                if table != "incident_tickets"}
# Tables whose rows a migration itself adds.
GROWS = {"django_migrations"}
SAMPLE = 200  # history rows compared per history table


def manage(cwd: Path, url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false",
           "SECRET_KEY": "rehearsal-only-not-secret", "ALLOWED_HOSTS": "localhost"}
    started = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", *args], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def snapshot(url: str) -> dict:
    """Everything the comparison needs, read with plain SQL (no models: the code differs)."""
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        counts = {table: conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                  for table in tables}
        history = {}
        for table in tables:
            if "_historical" not in table or counts[table] == 0:
                continue
            query = sql.SQL("SELECT * FROM {} ORDER BY history_id LIMIT %s").format(
                sql.Identifier(table))
            rows = conn.execute(query, [SAMPLE]).fetchall()
            history[table] = [json.dumps(row, default=str) for row in rows]
        perms = {}
        for group, perm_id, label, codename in conn.execute(
                "SELECT g.name, p.id, ct.app_label, p.codename FROM auth_group g"
                " JOIN auth_group_permissions gp ON gp.group_id = g.id"
                " JOIN auth_permission p ON p.id = gp.permission_id"
                " JOIN django_content_type ct ON ct.id = p.content_type_id"):
            perms.setdefault(group, set()).add((perm_id, label, codename))
        content_types = {(label, model): ct_id for ct_id, label, model in conn.execute(
            "SELECT id, app_label, model FROM django_content_type")}
        schedules = dict(conn.execute("SELECT name, func FROM django_q_schedule").fetchall())
    return {"counts": counts, "history": history, "perms": perms,
            "content_types": content_types, "schedules": schedules}


def _new_label(label: str, codename: str) -> str:
    """The app a permission belongs to after the move ("view_payout": resolutions)."""
    if label != "tickets":
        return label
    if codename == "reveal_customer_contact":
        return "shop"
    return MOVED_MODELS.get(codename.split("_", 1)[1], label)


def compare(before: dict, after: dict) -> list[str]:
    problems = []
    for table, count in before["counts"].items():
        if table in GROWS:
            continue
        new = RENAMED.get(table, table)
        if after["counts"].get(new) != count:
            problems.append(f"rows of {table} -> {new}: {count} before, "
                            f"{after['counts'].get(new)} after")
    for table, rows in before["history"].items():
        new = RENAMED.get(table, table)
        if after["history"].get(new) != rows:
            problems.append(f"history rows of {table} -> {new} differ")
    for group, perms in before["perms"].items():
        expected = {(perm_id, _new_label(label, codename), codename)
                    for perm_id, label, codename in perms}
        missing = expected - after["perms"].get(group, set())
        if missing:
            problems.append(f"role {group} lost {sorted(missing)[:5]}")
    for (label, model), ct_id in before["content_types"].items():
        new_label = MOVED_MODELS.get(model, label) if label == "tickets" else label
        if after["content_types"].get((new_label, model)) != ct_id:
            problems.append(f"content type {label}.{model} -> {new_label}.{model} changed id")
    if set(before["schedules"]) - set(after["schedules"]):
        problems.append("schedules lost: "
                        f"{sorted(set(before['schedules']) - set(after['schedules']))}")
    for name, func in after["schedules"].items():
        module = func.rsplit(".", 1)[0]
        if module.startswith("tickets."):
            problems.append(f"schedule {name} still runs {func}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, bench_database(args.keep, None) as url:
        old = Path(tmp) / "before-split"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old),
                        args.base_commit], check=True, stdout=subprocess.DEVNULL)
        try:
            for folder in ("locale",):  # compiled catalogues are not in git
                subprocess.run(["cp", "-r", str(ROOT / folder), str(old)], check=True)
            built = manage(old, url, "migrate", "--no-input")
            seeded = manage(old, url, "seed_demo", "--tickets", str(args.tickets), "--seed", "1")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=True)
        before = snapshot(url)
        migrated = manage(ROOT, url, "migrate", "--no-input")
        after = snapshot(url)
        verified = manage(ROOT, url, "verify_audit")
        problems = compare(before, after)

        moved_rows = sum(count for table, count in before["counts"].items() if table in RENAMED)
        print(f"tickets: {args.tickets:,}; base commit {args.base_commit}")
        print(f"built with the old code: migrate {built:.1f} s, seed_demo {seeded:.1f} s")
        print(f"migrate to the capability apps: {migrated:.1f} s "
              f"({len(RENAMED)} tables renamed holding {moved_rows:,} rows)")
        print(f"verify_audit after the move: {verified:.1f} s, chains intact")
        print(f"tables compared: {len(before['counts'])}; history tables sampled: "
              f"{len(before['history'])} x {SAMPLE} rows; roles: {len(before['perms'])}; "
              f"schedules: {len(before['schedules'])}")
        for problem in problems:
            print("DIFFERS:", problem)
        print("result:", "everything intact" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
