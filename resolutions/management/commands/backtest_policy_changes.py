"""Backtest a policy change set from the command line: what it would have changed."""

from django.core.management.base import BaseCommand, CommandError

from policies.models import PolicyChangeSet
from resolutions.services.backtest import DEFAULT_DAYS, NO_OPTION, backtest


class Command(BaseCommand):
    help = "Replay the last N days of stored decisions under the live and the draft table."

    def add_arguments(self, parser):
        parser.add_argument("change_set", type=int, help="the change set's id")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                            help=f"how far back (default {DEFAULT_DAYS} days)")
        parser.add_argument("--cases", type=int, default=20,
                            help="how many changed cases to list (default 20)")

    def handle(self, *args, **options):
        change_set = PolicyChangeSet.objects.filter(pk=options["change_set"]).first()
        if change_set is None:
            raise CommandError(f"No change set {options['change_set']}.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        result = backtest(change_set, days=options["days"], case_limit=options["cases"])
        write = self.stdout.write
        write(f"Change set #{change_set.pk} ({change_set.state}), last {result.days} days "
              f"(since {result.since:%Y-%m-%d %H:%M})")
        write(f"decisions {result.decisions}, replayed {result.replayed}, "
              f"changed {result.changed}, unreadable {result.skipped}")
        write("by kind:")
        for kind, counts in sorted(result.by_kind.items()):
            write(f"  {kind}: {counts['decisions']} decisions, {counts['replayed']} replayed, "
                  f"{counts['changed']} changed")
        write("changed, by kind and verdict (live -> draft):")
        for (kind, before, after), count in sorted(result.by_verdict.items()):
            write(f"  {kind}: {before} -> {after}: {count}")
        write("money delta by payer (draft minus live):")
        for payer, amount in result.money_delta.items():
            write(f"  {payer}: {amount:+.2f}")
        if result.cases:
            write("changed cases:")
        for case in result.cases:
            write(f"  ticket {case.ticket_number} resolution {case.resolution_id} {case.kind}: "
                  f"{_short(case.before)} -> {_short(case.after)}")


def _short(option) -> str:
    if option is None:
        return NO_OPTION
    return (f"{option.verdict} {option.refund_amount + option.compensation_amount:.2f} "
            f"({option.payer or '-'}, rule {option.rule_id})")
