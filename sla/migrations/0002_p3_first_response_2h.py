"""Issue 16: seed 004's 2-hour first response applies to P3 tickets too (it was 4 h).

Only rows still at the old default (240 minutes) change, so a supervisor's own number stays;
each change gets a history row. The routing configuration's version moves by its trigger.
"""

from django.db import migrations
from django.utils import timezone

OLD, NEW = 240, 120
REASON = "default table: seed 004 first response 2 h for every priority (issue 16)"


def shorten(apps, schema_editor):
    from core.services.audit import initial_history_row

    policy = apps.get_model("sla", "SlaPolicy")
    historical = apps.get_model("sla", "HistoricalSlaPolicy")
    now = timezone.now()
    for row in policy.objects.filter(priority=3, first_response_minutes=OLD):
        row.first_response_minutes = NEW
        row.save(update_fields=["first_response_minutes"])
        history = initial_history_row(historical, row, when=now, reason=REASON)
        history.history_type = "~"
        history.save()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_move_from_tickets")]

    operations = [migrations.RunPython(shorten, migrations.RunPython.noop)]
