import time

from django.core.management.base import BaseCommand, CommandError

from demo.services.bulk import DEFAULT_BATCH_SIZE, generate_tickets
from demo.services.knowledge import load_knowledge
from demo.services.people import demo_logins, load_people
from demo.services.shop import load_shop
from demo.services.tickets import load_tickets


class Command(BaseCommand):
    help = (
        "Load the demo teams, users (one per role), customers and orders. Safe to run twice. "
        "With --tickets N, also generate N tickets (with customers, orders, messages and "
        "history) in bulk; every run with --tickets adds N more."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets", type=int, default=0, metavar="N",
            help="Generate N tickets in bulk after the demo data (default: none).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
            help=f"Tickets written per transaction (default: {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--seed", type=int, default=None,
            help="Random seed for the generated content (default: a random one, printed).",
        )

    def handle(self, *args, **options):
        tickets = options["tickets"]
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")

        counts = {**load_people(), **load_shop(), **load_tickets(), **load_knowledge()}
        summary = ", ".join(f"{name}: {count}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (newly created — {summary})."))

        if tickets:
            self.generate(tickets, batch_size=options["batch_size"], seed=options["seed"],
                          verbosity=options["verbosity"])
        print_demo_logins(self.stdout)

    def generate(self, count: int, *, batch_size: int, seed: int | None, verbosity: int) -> None:
        reported = 0
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            # About every tenth of the way at the default verbosity, every batch at -v 2.
            nonlocal reported
            if verbosity >= 2 or done == total or done - reported >= total / 10:
                reported = done
                elapsed = time.monotonic() - started
                self.stdout.write(f"  {done:,} / {total:,} tickets ({elapsed:.0f} s)")

        if verbosity >= 1:
            self.stdout.write(f"Generating {count:,} tickets in batches of {batch_size:,}…")
        result = generate_tickets(
            count, batch_size=batch_size, seed=seed,
            progress=progress if verbosity >= 1 else None,
        )
        self.stdout.write(self.style.SUCCESS(
            f"Generated {result.tickets:,} tickets, {result.messages:,} messages, "
            f"{result.customers:,} customers and {result.orders:,} orders "
            f"in {result.seconds:.1f} s ({result.tickets_per_second:,.0f} tickets/s, "
            f"seed {result.seed})."
        ))


def print_demo_logins(stdout) -> None:
    """Write the demo log-ins as a small table."""
    stdout.write("Demo log-ins (role, username, password):")
    for label, username, password in demo_logins():
        stdout.write(f"  {label:<24} {username:<22} {password}")
