"""The backup and restore drill (PostgreSQL only).

    python manage.py backup_drill [--backup-dir DIR] [--database-url URL] [--pg-bin DIR]
        [--keep] [--json FILE]

Dumps the database (pg_dump, custom format, in one snapshot) and every object of the
evidence store (the S3 bucket or MEDIA_ROOT) into the backup folder, restores both into
fresh ones (a new database on the same server, a new bucket or folder), then checks that
every table has the same row count, every attachment's file is there with the SHA-256
recorded at upload, and the restored audit chains verify (`verify_audit`). Prints each
step's time and a summary, then the report as JSON (also written to DIR/report.json).
The fresh database and store are dropped afterwards unless --keep. Exits non-zero when a
check fails.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from supervision.services.backup_drill.database import DEFAULT_PG_BIN
from supervision.services.backup_drill.drill import DrillReport, Step, run_drill


class Command(BaseCommand):
    help = ("Back up the database and the evidence store, restore both into fresh ones and "
            "check the copy: row counts, files by SHA-256, audit chains. PostgreSQL only.")

    def add_arguments(self, parser):
        parser.add_argument("--backup-dir", type=Path,
                            help="A new folder for the backup (default "
                                 "backups/drill-<time> beside manage.py).")
        parser.add_argument("--database-url",
                            help="Connect straight to this database rather than through "
                                 "DATABASE_URL (which may go through a pooler).")
        parser.add_argument("--pg-bin", default=DEFAULT_PG_BIN,
                            help=f"Folder of pg_dump and pg_restore (default {DEFAULT_PG_BIN}).")
        parser.add_argument("--keep", action="store_true",
                            help="Keep the restored database and store for inspection.")
        parser.add_argument("--json", dest="json_file", type=Path, metavar="FILE",
                            help="Also write the report to this file.")

    def handle(self, *args, backup_dir=None, database_url=None, pg_bin=DEFAULT_PG_BIN,
               keep=False, json_file=None, **options):
        if connection.vendor != "postgresql" and not (database_url or "").startswith("postgres"):
            raise CommandError("The backup drill needs PostgreSQL (pg_dump/pg_restore); this "
                               f"database is {connection.vendor}. Set DATABASE_URL.")
        backup_dir = backup_dir or (Path(settings.BASE_DIR) / "backups"
                                    / timezone.now().strftime("drill-%Y%m%d-%H%M%S"))
        if backup_dir.exists():
            raise CommandError(f"{backup_dir} exists; the drill writes into a new folder.")
        try:
            report = run_drill(backup_dir=backup_dir, database_url=database_url,
                               pg_bin=pg_bin, keep=keep, progress=self._show_step)
        except Exception as error:
            raise CommandError(f"The drill stopped: {error}") from error
        self._show_summary(report)
        text = _as_json(report)
        self.stdout.write(text)
        if json_file:
            json_file.write_text(text)
        if not report.ok:
            raise CommandError("The restored copy does not match; see the report above.")

    def _show_step(self, step: Step) -> None:
        self.stdout.write(f"{step.name:<22} {step.seconds:8.2f} s  {step.detail}")

    def _show_summary(self, report: DrillReport) -> None:
        self.stdout.write(
            f"{'total':<22} {report.total_seconds:8.2f} s\n"
            f"{report.tables} tables, {report.rows} rows; {report.objects} files "
            f"({report.object_bytes} bytes); {report.attachments} attachments checked; "
            f"audit chains {'verified' if report.audit_verified else 'BROKEN'}.")
        for table, (was, now) in report.tables_differing.items():
            self.stdout.write(self.style.ERROR(f"{table}: {was} rows, restored {now}"))
        for name in report.attachments_missing:
            self.stdout.write(self.style.ERROR(f"missing from the restored store: {name}"))
        for name in report.attachments_changed:
            self.stdout.write(self.style.ERROR(f"different content when restored: {name}"))
        if not report.audit_verified:
            self.stdout.write(self.style.ERROR(report.audit_output))
        kept = (f" Kept: database {report.restored_database}, store {report.restored_store}."
                if report.kept else "")
        self.stdout.write((self.style.SUCCESS("Backup restored and verified.") if report.ok
                           else self.style.ERROR("The restored copy does not match.")) + kept)


def _as_json(report: DrillReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
