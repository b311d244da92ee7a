from django.core.management.base import BaseCommand

from cs_console.demo.people import demo_logins, load_people
from cs_console.demo.shop import load_shop


class Command(BaseCommand):
    help = "Load the demo teams, users (one per role), customers and orders. Safe to run twice."

    def handle(self, *args, **options):
        counts = {**load_people(), **load_shop()}
        summary = ", ".join(f"{name}: {count}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (newly created — {summary})."))
        print_demo_logins(self.stdout)


def print_demo_logins(stdout) -> None:
    """Write the demo log-ins as a small table."""
    stdout.write("Demo log-ins (role, username, password):")
    for label, username, password in demo_logins():
        stdout.write(f"  {label:<24} {username:<22} {password}")
