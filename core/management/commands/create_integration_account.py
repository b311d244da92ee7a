"""Create the service account of a channel or shop-sync integration and print its API token."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models.roles import Integration
from core.services.accounts import integration_account, integration_token

KINDS = {"channel": Integration.CHANNEL, "shop_sync": Integration.SHOP_SYNC}


class Command(BaseCommand):
    help = ("Create (or find) an integration's service account and print its API token. "
            "Channel integrations open tickets and record customer messages; the shop sync "
            "updates customer master data.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--kind", choices=sorted(KINDS), required=True)
        parser.add_argument("--rotate", action="store_true",
                            help="Replace the account's token; the old one stops working.")

    def handle(self, *args, username, kind, rotate, **options):
        try:
            with transaction.atomic():
                user = integration_account(username=username, integration=KINDS[kind])
                key = integration_token(user, rotate=rotate)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(key)
