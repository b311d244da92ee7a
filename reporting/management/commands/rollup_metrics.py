"""Fill the dashboard's daily roll-ups for a range of days (after a bulk load, or to repair)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from reporting.services import metrics
from tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute the dashboard's daily figures; the same days again replace their rows."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first local day, YYYY-MM-DD (default: the "
                                            "oldest ticket's day)")
        parser.add_argument("--until", help="last local day, YYYY-MM-DD (default: today)")
        parser.add_argument("--chunk-days", type=int, default=31,
                            help="days per transaction (default 31)")

    def handle(self, *args, since=None, until=None, chunk_days=31, **options):
        try:
            end = date.fromisoformat(until) if until else timezone.localdate()
            if since:
                start = date.fromisoformat(since)
            else:
                oldest = Ticket.objects.aggregate(oldest=Min("created_at"))["oldest"]
                start = timezone.localtime(oldest).date() if oldest else end
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if start > end:
            raise CommandError("--since lies after --until.")
        rows = 0
        while start <= end:
            last = min(start + timedelta(days=chunk_days - 1), end)
            result = metrics.metrics_rollup(start=start, end=last)
            rows += result["agent_rows"] + result["rule_rows"]
            if options["verbosity"] >= 1:
                self.stdout.write(f"{start} – {last}: {result['agent_rows']} agent rows, "
                                  f"{result['rule_rows']} rule rows")
            start = last + timedelta(days=1)
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Done: {rows} rows."))
