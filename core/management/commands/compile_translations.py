"""Compile the .po catalogues under locale/ to .mo files without needing GNU gettext.

Django's own `compilemessages` shells out to msgfmt, which a fresh machine with only
Python may not have; polib does the same job in pure Python.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every locale/*/LC_MESSAGES/*.po catalogue to .mo (pure Python)."

    def handle(self, *args, **options):
        catalogues = [
            po for locale_dir in settings.LOCALE_PATHS for po in Path(locale_dir).glob("*/LC_MESSAGES/*.po")
        ]
        if not catalogues:
            raise CommandError("No message catalogues found under LOCALE_PATHS.")
        for po_path in catalogues:
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(
                f"Compiled {po_path.relative_to(settings.BASE_DIR)} "
                f"({catalogue.percent_translated()}% translated)"
            )
