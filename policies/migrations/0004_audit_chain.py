"""History rows of policy rules and approval limits become a hash chain per object.

Adds the chain fields, seals the existing rows so an upgraded database verifies clean, then
makes the history tables append-only (PostgreSQL triggers).
"""

from django.db import migrations, models

from core.services import audit_chain

CHAINED = ["HistoricalPolicyRule", "HistoricalApprovalLimit"]
PROTECTED_TABLES = ["policies_historicalpolicyrule", "policies_historicalapprovallimit"]


def seal_existing_rows(apps, schema_editor):
    for name in CHAINED:
        audit_chain.backfill(apps.get_model("policies", name))


def protect(apps, schema_editor):
    audit_chain.protect(schema_editor, PROTECTED_TABLES)


def unprotect(apps, schema_editor):
    audit_chain.unprotect(schema_editor, PROTECTED_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('policies', '0003_help_texts'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalapprovallimit',
            name='chain_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash'),
        ),
        migrations.AddField(
            model_name='historicalapprovallimit',
            name='chain_prev',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash"),
        ),
        migrations.AddField(
            model_name='historicalpolicyrule',
            name='chain_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash'),
        ),
        migrations.AddField(
            model_name='historicalpolicyrule',
            name='chain_prev',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash"),
        ),
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(protect, unprotect),
    ]
