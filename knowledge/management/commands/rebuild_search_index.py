"""Re-tokenise articles for the full-text index after bulk loads or a tokeniser change."""

import importlib

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from knowledge.models import Article
from knowledge.models.text import SEARCH_VERSION, index_tokens

_index_migration = importlib.import_module("knowledge.migrations.0002_search_index")


class Command(BaseCommand):
    help = (
        "Recompute the search tokens of articles written by bulk_create, QuerySet.update(), "
        "fixtures or imports (which bypass save()), or of every article with --all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true",
                            help="Re-tokenise every article, not only outdated ones.")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, **options):
        batch_size = max(1, options["batch_size"])
        articles = Article.objects.order_by("pk")
        if not options["all"]:
            articles = articles.exclude(search_version=SEARCH_VERSION)
        table = connection.ops.quote_name(Article._meta.db_table)
        done = 0
        last_pk = 0
        while True:
            batch = list(articles.filter(pk__gt=last_pk)
                         .only("pk", "title", "body")[:batch_size])
            if not batch:
                break
            rows = [(index_tokens(article.title), index_tokens(article.body), SEARCH_VERSION,
                     article.pk) for article in batch]
            # One plain UPDATE per row, sent as a batch: bulk_update's CASE WHEN over a
            # thousand ids costs quadratic time on the server.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET search_title = %s, search_body = %s, "  # noqa: S608
                    "search_version = %s WHERE id = %s", rows)
            done += len(batch)
            last_pk = batch[-1].pk
            if options["verbosity"] > 1:
                self.stdout.write(f"{done} articles re-tokenised")
        if connection.vendor == "sqlite":
            self._rebuild_fts()
        self.stdout.write(self.style.SUCCESS(f"Re-tokenised {done} articles."))

    def _rebuild_fts(self) -> None:
        # Recreates the FTS table and its triggers if a table rebuild dropped them, then
        # refills it from the token columns.
        with connection.cursor() as cursor:
            for statement in _index_migration.SQLITE_FORWARD:
                cursor.execute(statement)
