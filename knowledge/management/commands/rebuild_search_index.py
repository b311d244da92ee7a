"""Re-tokenise articles for the full-text index after bulk loads or a tokeniser change."""

import importlib

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from knowledge.models import Article
from knowledge.text import SEARCH_VERSION, index_tokens

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
        done = 0
        last_pk = 0
        while True:
            batch = list(articles.filter(pk__gt=last_pk)
                         .only("pk", "title", "body")[:batch_size])
            if not batch:
                break
            for article in batch:
                article.search_title = index_tokens(article.title)
                article.search_body = index_tokens(article.body)
                article.search_version = SEARCH_VERSION
            with transaction.atomic():
                Article.objects.bulk_update(
                    batch, ["search_title", "search_body", "search_version"])
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
