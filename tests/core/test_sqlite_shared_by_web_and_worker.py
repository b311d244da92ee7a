"""On SQLite, the web server and the task worker write to one file without "database is locked".

The suite may run on PostgreSQL, so the scenario runs in a child process on a SQLite file of
its own, with the project's settings for SQLite: the worker's recurring jobs run in a loop in
one thread while another writes tickets and messages through the services, each on its own
connection, as the web server and `qcluster` do. Run as a module, this file is that child.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SECONDS = 3.0
WORKER_JOBS = [
    "sla.tasks.sla_sweep_task",
    "notifications.tasks.deliver_pending_task",
    "resolutions.tasks.resolution_sweep_task",
    "reporting.tasks.metrics_rollup_task",
]


def test_the_worker_jobs_and_web_writes_share_sqlite_without_a_lock_error(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
           "ENV_FILE": os.devnull, "DEBUG": "true", "MEDIA_ROOT": str(tmp_path / "media"),
           "DJANGO_SETTINGS_MODULE": "cs_console.settings"}
    _run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env)

    output = _run([sys.executable, "-m", "tests.core." + Path(__file__).stem], env)
    outcome = json.loads(output.splitlines()[-1])

    assert outcome["failures"] == []
    assert outcome["job_runs"] >= len(WORKER_JOBS)
    assert outcome["tickets_written"] > 0


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


# --- the child process ----------------------------------------------------------------------


def _scenario() -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection

    from core.models.roles import Role
    from tests.factories import CustomerFactory, UserFactory

    staff = UserFactory(username="supervisor_sqlite")
    staff.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    customers = CustomerFactory.create_batch(5)
    connection.close()

    failures: list[str] = []
    stop = threading.Event()
    counts = {"job_runs": 0, "tickets_written": 0}
    worker = threading.Thread(target=_work, args=(stop, failures, counts))
    worker.start()
    try:
        _write_as_the_web(staff, customers, failures, counts)
    finally:
        stop.set()
        worker.join()
    return {"failures": failures, **counts}


def _work(stop: threading.Event, failures: list[str], counts: dict[str, int]) -> None:
    """Run the worker's recurring jobs over and over until told to stop."""
    from django.db import connection
    from django.utils.module_loading import import_string

    jobs = [import_string(path) for path in WORKER_JOBS]
    try:
        while not stop.is_set():
            for job in jobs:
                try:
                    job()
                except Exception as error:  # every failure is the finding
                    failures.append(f"{job.__module__}.{job.__name__}: {error!r}")
                counts["job_runs"] += 1
    finally:
        connection.close()


def _write_as_the_web(staff, customers, failures: list[str], counts: dict[str, int]) -> None:
    """Open overdue tickets and answer them through the services, as agents' requests do."""
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Channel, MessageKind
    from tickets.services import messages, tickets

    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            customer = customers[counts["tickets_written"] % len(customers)]
            try:
                # Opened two days ago, so the SLA sweep has due times to act on.
                ticket = tickets.ticket_create(
                    actor=staff, channel=Channel.APP, customer=customer, subject="Parcel broken",
                    created_at=timezone.now() - timedelta(days=2),
                )
                messages.message_add(ticket=ticket, actor=staff, kind=MessageKind.REPLY,
                                     body="We are on it.")
            except Exception as error:  # every failure is the finding
                failures.append(f"web write: {error!r}")
            counts["tickets_written"] += 1
    finally:
        connection.close()


if __name__ == "__main__":
    print(json.dumps(_scenario()))  # noqa: T201 - the parent reads this line
