"""Issue 16: the corrected default rows and the missing ones, for databases seeded before.

Rows are keyed by name and kind (policies.services.defaults.ISSUE_16_RULES lists the rows
changed in place or added), so running it again changes nothing. A supervisor's own edits of those
rows are replaced by the shipped values; the history keeps the edited version.
"""

from django.db import migrations

REASON = "default table: issue 16 (rules corrected and completed)"


def update_defaults(apps, schema_editor):
    from policies.services.seeding import update_defaults

    update_defaults(apps, reason=REASON)


class Migration(migrations.Migration):
    dependencies = [("policies", "0005_rule_columns_issue16")]

    operations = [migrations.RunPython(update_defaults, migrations.RunPython.noop)]
