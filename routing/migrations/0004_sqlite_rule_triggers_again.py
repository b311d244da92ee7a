"""Put back the routing rules' version triggers on SQLite.

SQLite cannot alter a column in place: to add `request_reasons` (0002) Django rebuilt
routing_routingrule as a new table, and a table's triggers go with the old one. Since then
no change to a rule moved the configuration version on SQLite, so every process kept routing
with the rules it had read first (routing.services.config). PostgreSQL alters the table in
place and kept its trigger. Any later migration that rebuilds a watched table on SQLite has
to do the same; tests/routing/test_config_version.py fails without it.
"""

from django.db import migrations

# Each watched table and the prefix of its triggers' names (tickets migration 0022 named
# them before the tables moved apps).
WATCHED_TABLES = {"routing_routingrule": "tickets_routingrule",
                  "sla_slapolicy": "tickets_slapolicy",
                  "tickets_team": "tickets_team"}
BUMP = 'UPDATE "routing_routingconfigversion" SET version = random() WHERE id = 1'


def create_missing_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, prefix in WATCHED_TABLES.items():
            for event in ("INSERT", "UPDATE", "DELETE"):
                cursor.execute(
                    f'CREATE TRIGGER IF NOT EXISTS "{prefix}_config_bump_{event.lower()}" '
                    f'AFTER {event} ON "{table}" BEGIN {BUMP}; END;')


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0003_default_reason_and_category_rules"),
        ("sla", "0002_p3_first_response_2h"),
        ("tickets", "0029_message_author_time_index"),
    ]

    operations = [
        migrations.RunPython(create_missing_triggers, migrations.RunPython.noop),
    ]
