"""The drill itself: each step timed, every check's outcome in one report."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import connection
from django.utils import timezone

from supervision.services.backup_drill import database, objects
from tickets.services.evidence_files import stored_sha256

T = TypeVar("T")


@dataclass
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class DrillReport:
    backup_dir: str
    source_database: str
    restored_database: str
    restored_store: str
    steps: list[Step] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    tables_differing: dict[str, list[int]] = field(default_factory=dict)  # table: [was, now]
    objects: int = 0
    object_bytes: int = 0
    attachments: int = 0
    attachments_missing: list[str] = field(default_factory=list)
    attachments_changed: list[str] = field(default_factory=list)
    audit_verified: bool = False
    audit_output: str = ""
    kept: bool = False

    @property
    def ok(self) -> bool:
        return (not self.tables_differing and not self.attachments_missing
                and not self.attachments_changed and self.audit_verified)

    @property
    def total_seconds(self) -> float:
        return round(sum(step.seconds for step in self.steps), 3)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "total_seconds": self.total_seconds}


def _timed(report: DrillReport, name: str, work: Callable[[], T],
           detail: Callable[[T], str] = lambda result: "") -> T:
    started = time.perf_counter()
    result = work()
    report.steps.append(Step(name, round(time.perf_counter() - started, 3), detail(result)))
    return result


def _verify_audit(server: database.Server, name: str) -> tuple[bool, str]:
    """Run `manage.py verify_audit` in a process of its own against the restored database."""
    environment = {**os.environ, "DATABASE_URL": server.url(name),
                   # Straight to the restored database: no pooler, no replica of the original.
                   "DATABASE_POOLER": "", "DATABASE_REPLICA_URL": ""}
    finished = subprocess.run(  # noqa: S603 - this interpreter and manage.py, no shell
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "verify_audit"],
        env=environment, capture_output=True, text=True, cwd=settings.BASE_DIR)
    verified = finished.returncode == 0
    # Its log lines (stderr) only matter when the check fails.
    output = (finished.stdout if verified else finished.stdout + finished.stderr).strip()
    return verified, output[-4000:]


def run_drill(*, backup_dir: Path, database_url: str | None = None,
              pg_bin: str = database.DEFAULT_PG_BIN, keep: bool = False,
              storage: Storage | None = None,
              progress: Callable[[Step], None] = lambda step: None) -> DrillReport:
    """Back up, restore into fresh copies, check; drop the copies unless `keep`."""
    if database_url:
        server, source = database.Server.from_url(database_url)
    else:
        server, source = database.Server.of(connection.settings_dict), str(
            connection.settings_dict["NAME"])
    storage = storage or default_storage
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    restored_name = f"{source}_restore_{stamp}"[:63]
    backup_dir.mkdir(parents=True, exist_ok=False)
    dump_file, objects_dir = backup_dir / "database.dump", backup_dir / "objects"
    objects_dir.mkdir()
    report = DrillReport(backup_dir=str(backup_dir), source_database=source,
                         restored_database=restored_name, restored_store="", kept=keep)

    def step(name: str, work: Callable[[], T], detail: Callable[[T], str] = lambda r: "") -> T:
        result = _timed(report, name, work, detail)
        progress(report.steps[-1])
        return result

    with database.frozen_snapshot(server, source) as (snapshot, counts):
        step("dump database", lambda: database.dump(server, source, dump_file,
                                                    snapshot=snapshot, pg_bin=pg_bin),
             lambda _: f"{dump_file.stat().st_size} bytes, {len(counts)} tables")
    report.tables, report.rows = len(counts), sum(counts.values())
    report.objects, report.object_bytes = step(
        "dump object store", lambda: objects.dump_objects(storage, objects_dir),
        lambda result: f"{result[0]} files, {result[1]} bytes")

    fresh: Storage | None = None
    created = False
    try:
        def restore_database() -> None:
            database.create_database(server, restored_name)
            database.restore(server, restored_name, dump_file, pg_bin=pg_bin)

        step("restore database", restore_database, lambda _: restored_name)
        created = True
        fresh, report.restored_store = objects.fresh_store(
            storage, suffix=f"restore-{stamp}", folder=backup_dir / "restored-media")
        step("restore object store", lambda: objects.restore_objects(objects_dir, fresh),
             lambda restored: f"{restored} files into {report.restored_store}")

        def compare_rows() -> int:
            with server.connect(restored_name) as connection:
                restored_counts = database.table_counts(connection)
            for table in sorted(set(counts) | set(restored_counts)):
                was, now = counts.get(table, -1), restored_counts.get(table, -1)
                if was != now:
                    report.tables_differing[table] = [was, now]
            return len(restored_counts)

        step("check row counts", compare_rows,
             lambda tables: f"{tables} tables, {len(report.tables_differing)} differ")

        def compare_files() -> int:
            digests = database.attachment_digests(server, restored_name)
            for name, digest in digests:
                try:
                    if stored_sha256(fresh, name) != digest:
                        report.attachments_changed.append(name)
                except FileNotFoundError:
                    report.attachments_missing.append(name)
            return len(digests)

        report.attachments = step(
            "check evidence files", compare_files,
            lambda checked: (f"{checked} attachments, {len(report.attachments_missing)} missing, "
                             f"{len(report.attachments_changed)} changed"))

        def check_audit() -> bool:
            report.audit_verified, report.audit_output = _verify_audit(server, restored_name)
            return report.audit_verified

        step("verify audit chains", check_audit,
             lambda verified: "verified" if verified else "BROKEN")
    finally:
        if not keep:
            if fresh is not None:
                objects.drop_store(fresh)
            if created or _exists(server, restored_name):
                database.drop_database(server, restored_name)
    (backup_dir / "report.json").write_text(_json(report))
    return report


def _exists(server: database.Server, name: str) -> bool:
    with server.connect("postgres") as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  [name]).fetchone() is not None


def _json(report: DrillReport) -> str:
    import json

    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
