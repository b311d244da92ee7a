"""Start the web server and the django-q2 worker together; Ctrl-C stops both."""

import os
import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.management.commands.seed_demo import print_demo_logins


class Command(BaseCommand):
    help = "Run the development web server and the background worker in one foreground command."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Do not start qcluster.")

    def handle(self, *args, **options):
        # runserver's autoreloader re-executes this command in a child process (RUN_MAIN=true);
        # only the outer process owns the worker, so it is started once and stopped with it.
        is_reloader_child = os.environ.get("RUN_MAIN") == "true"
        worker = None
        if not options["no_worker"] and not is_reloader_child:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], start_new_session=True
            )
            self.stdout.write(f"Background worker (django-q2 qcluster) started, pid {worker.pid}.")
            print_demo_logins(self.stdout)
            self.stdout.write(f"Open http://{options['addrport']}/ — Ctrl-C stops everything.")
        try:
            call_command("runserver", options["addrport"])
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                _stop(worker)


def _stop(process: subprocess.Popen) -> None:
    """Stop the worker's whole process group, politely first."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
