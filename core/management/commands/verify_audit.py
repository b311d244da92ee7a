"""Walk the hash chains of the audited history tables and report the first broken row.

Streams each table in (object id, history_id) order through one server-side cursor on
PostgreSQL, so a table of millions of rows is checked in bounded memory. Exits non-zero
when any chain is broken.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.db.scope import replica_reads
from core.services import audit_chain

PROBLEMS = {
    "content": "the row's content does not match its hash (edited)",
    "link": "the row does not follow the one before it (a row was removed or inserted)",
}


class Command(BaseCommand):
    help = ("Check that the history rows of tickets, messages, resolutions, payouts, policy "
            "rules and approval limits are unchanged since they were written.")

    def add_arguments(self, parser):
        parser.add_argument("--table", action="append", metavar="DB_TABLE",
                            help="Only this history table (repeatable), e.g. "
                                 "tickets_historicalticket.")
        parser.add_argument("--object", type=int, metavar="ID",
                            help="Only the history of the object with this id.")
        parser.add_argument("--chunk-size", type=int, default=2000,
                            help="Rows fetched per round trip (default 2000).")
        parser.add_argument("--all", action="store_true",
                            help="List every broken chain, not only the first per table.")

    def handle(self, *args, table=None, object=None, chunk_size=2000, all=False, **options):
        models = audit_chain.chained_history_models()
        known = {model._meta.db_table: model for model in models}
        if table:
            unknown = sorted(set(table) - set(known))
            if unknown:
                raise CommandError(f"Not a chained history table: {', '.join(unknown)}. "
                                   f"Known: {', '.join(sorted(known))}.")
            models = [known[name] for name in table]

        broken_tables = []
        for model in models:
            found = 0
            # A long read of history that nothing writes back: the read replica serves it
            # when it is fit (core.db). If the replica goes away halfway, run the command again.
            with replica_reads():
                breaks = audit_chain.verify(model, object_id=object, chunk_size=chunk_size)
                for problem in breaks:
                    found += 1
                    self.stdout.write(self.style.ERROR(self._describe(problem)))
                    if not all:
                        break
            if found:
                broken_tables.append(model._meta.db_table)
            else:
                self.stdout.write(f"{model._meta.db_table}: verified")
        if broken_tables:
            raise CommandError(f"Audit chain broken in {', '.join(broken_tables)}.")
        self.stdout.write(self.style.SUCCESS("Audit trail verified."))

    @staticmethod
    def _describe(problem: audit_chain.Break) -> str:
        at = timezone.localtime(problem.history_date).isoformat()
        return (f"BROKEN {problem.table} history_id={problem.history_id} "
                f"object_id={problem.object_id} at={at}: {PROBLEMS[problem.problem]}")
