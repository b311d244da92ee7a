"""Retention deletes of audit history: the one way past the append-only triggers.

    python manage.py purge_audit_history --before 2021-01-01 --reason "5-year retention" \\
        [--table tickets_historicalmessage] [--by USERNAME] [--dry-run]

In one transaction: `SET LOCAL cs_console.audit_maintenance = 'on'` (the triggers let
UPDATE and DELETE through while it is set, and SET LOCAL ends with the transaction), delete
the chained history rows dated before the cutoff, and write an `AuditPurge` row per table
with the cutoff, the reason, who and how many, and for each object that keeps rows the
hash of its newest deleted row (`AuditPurgeAnchor`). `verify_audit` then accepts an
object's first remaining row as the start of its chain because it points at a recorded
anchor. Rows of tickets under an active legal hold are kept.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.management.arguments import parse_cutoff
from core.models.audit import AuditPurge, AuditPurgeAnchor
from core.services import audit_chain
from resolutions.models import Resolution
from tickets.models import LegalHold


def _held_rows(model) -> Q:
    """Rows that belong to a ticket under an active legal hold (kept by the purge)."""
    held = LegalHold.objects.filter(released_at__isnull=True).values("ticket_id")
    names = {field.attname for field in model._meta.concrete_fields}
    if model._meta.db_table == "tickets_historicalticket":
        return Q(id__in=held)
    if "ticket_id" in names:
        return Q(ticket_id__in=held)
    if "resolution_id" in names:
        return Q(resolution_id__in=Resolution.objects.filter(ticket_id__in=held).values("id"))
    return Q(pk__in=[])


def _record_anchors(purge: AuditPurge, model, doomed, batch_size: int = 2000) -> None:
    """For each object that keeps rows, the hash of the newest row about to go: its first
    remaining row points at it, and the check accepts it only because it is recorded."""
    manager = model._default_manager
    newest = (doomed.order_by().values("id").annotate(newest=Max("history_id"))
              .values("newest"))
    kept = manager.filter(history_date__gte=purge.before).values("id")
    hashes = (manager.filter(history_id__in=newest, id__in=kept).order_by()
              .values_list("id", "chain_hash").iterator(chunk_size=batch_size))
    batch = []
    for object_id, chain_hash in hashes:
        batch.append(AuditPurgeAnchor(purge=purge, object_id=object_id, chain_hash=chain_hash))
        if len(batch) >= batch_size:
            AuditPurgeAnchor.objects.bulk_create(batch)
            batch = []
    AuditPurgeAnchor.objects.bulk_create(batch)


class Command(BaseCommand):
    help = ("Delete audit history rows older than a date for legal retention, with a stated "
            "reason, and record the purge so the audit chains still verify.")

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True,
                            help="Delete rows dated before this date (local time) or "
                                 "date-time.")
        parser.add_argument("--reason", required=True, help="Why, for the purge record.")
        parser.add_argument("--table", action="append", metavar="DB_TABLE",
                            help="Only this history table (repeatable).")
        parser.add_argument("--by", metavar="USERNAME", help="Who ordered the purge.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would go, delete nothing.")

    def handle(self, *args, before, reason, table=None, by=None, dry_run=False, **options):
        cutoff = parse_cutoff(before)
        if cutoff > timezone.now():
            raise CommandError("--before is in the future.")
        if not reason.strip():
            raise CommandError("--reason may not be empty.")
        purged_by = None
        if by:
            purged_by = get_user_model().objects.filter(username=by).first()
            if purged_by is None:
                raise CommandError(f"No user {by!r}.")
        models = audit_chain.chained_history_models()
        if table:
            known = {model._meta.db_table: model for model in models}
            unknown = sorted(set(table) - set(known))
            if unknown:
                raise CommandError(f"Not a chained history table: {', '.join(unknown)}.")
            models = [known[name] for name in table]

        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL {audit_chain.MAINTENANCE_SETTING} = 'on'")
            for model in models:
                rows = (model._default_manager.filter(history_date__lt=cutoff)
                        .exclude(_held_rows(model)))
                db_table = model._meta.db_table
                count = rows.count()
                if dry_run:
                    self.stdout.write(f"{db_table}: {count} rows would be deleted")
                    continue
                purge = AuditPurge.objects.create(table=db_table, before=cutoff,
                                                  reason=reason, rows=count,
                                                  purged_by=purged_by)
                _record_anchors(purge, model, rows)
                _total, per_model = rows.delete()
                if per_model.get(model._meta.label, 0) != count:
                    raise CommandError(f"{db_table}: rows changed while purging; nothing "
                                       "was deleted, try again.")
                self.stdout.write(f"{db_table}: {count} rows deleted")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(
                f"Purged history before {timezone.localtime(cutoff):%Y-%m-%d %H:%M}."))
