"""Delete evidence files under legal retention.

    python manage.py purge_evidence_files --reason "3-year retention" \\
        [--before 2023-01-01] [--ticket NUMBER ...] [--by USERNAME] [--dry-run]

Deletes the evidence files of tickets closed or cancelled before the cut-off: --before, or
else EVIDENCE_RETENTION_DAYS before now. Tickets under a legal hold keep their files (with
--ticket, a held ticket refuses the run). Each deletion is recorded in the audit history
with who and why; the stored objects go once the database change has committed.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.management.arguments import parse_cutoff
from core.services.exceptions import Conflict
from tickets.services.evidence_retention import evidence_purge, retention_cutoff


class Command(BaseCommand):
    help = ("Delete the evidence files of tickets closed before a date (or before "
            "EVIDENCE_RETENTION_DAYS), except under a legal hold, recording who and why.")

    def add_arguments(self, parser):
        parser.add_argument("--before", help="Tickets closed before this date (local time) or "
                                             "date-time; default EVIDENCE_RETENTION_DAYS ago.")
        parser.add_argument("--reason", required=True, help="Why, for the audit history.")
        parser.add_argument("--ticket", action="append", metavar="NUMBER",
                            help="Only this ticket (repeatable); a legal hold refuses the run.")
        parser.add_argument("--by", metavar="USERNAME", help="Who ordered the deletion.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would go, delete nothing.")

    def handle(self, *args, before=None, reason, ticket=None, by=None, dry_run=False,
               **options):
        cutoff = parse_cutoff(before) if before else retention_cutoff()
        if cutoff is None:
            raise CommandError("Give --before, or set EVIDENCE_RETENTION_DAYS.")
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user {by!r}.")
        try:
            result = evidence_purge(before=cutoff, reason=reason, actor=actor,
                                    ticket_numbers=ticket, dry_run=dry_run)
        except (ValidationError, Conflict) as error:
            raise CommandError(" ".join(_messages(error))) from error
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(f"Evidence of tickets closed before "
                          f"{timezone.localtime(cutoff):%Y-%m-%d %H:%M}: {result.deleted} "
                          f"files {verb}, {result.held} kept under a legal hold.")


def _messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error)]
