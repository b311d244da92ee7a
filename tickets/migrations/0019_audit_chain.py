"""History rows of tickets, messages, resolutions and payouts become a hash chain per object.

Adds the chain fields, gives payouts a history (a "+" row per existing payout, dated at its
creation), records retention purges, seals the existing rows so an upgraded database
verifies clean, then makes the history tables (and the purge records) append-only
(PostgreSQL triggers).
"""

import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from core.services import audit_chain

CHAINED = ["HistoricalTicket", "HistoricalMessage", "HistoricalResolution", "HistoricalPayout"]
PROTECTED_TABLES = ["tickets_historicalticket", "tickets_historicalmessage",
                    "tickets_historicalresolution", "tickets_historicalpayout",
                    "tickets_auditpurge", "tickets_auditpurgeanchor"]


def give_payouts_history(apps, schema_editor):
    """Payouts had no history: each gets its "+" row, dated when it was paid."""
    from core.services.audit import initial_history_row

    payout = apps.get_model("tickets", "Payout")
    historical = apps.get_model("tickets", "HistoricalPayout")
    rows = [initial_history_row(historical, item, when=item.created_at, reason="create")
            for item in payout.objects.order_by("id").iterator(chunk_size=2000)]
    historical.objects.bulk_create(rows, batch_size=2000)


def seal_existing_rows(apps, schema_editor):
    for name in CHAINED:
        audit_chain.backfill(apps.get_model("tickets", name))


def clear_seals(apps, schema_editor):
    """Nothing to undo: the fields that hold the hashes are removed next."""


def protect(apps, schema_editor):
    audit_chain.protect(schema_editor, PROTECTED_TABLES)


def unprotect(apps, schema_editor):
    audit_chain.unprotect(schema_editor, PROTECTED_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0018_authority'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalmessage',
            name='chain_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash'),
        ),
        migrations.AddField(
            model_name='historicalmessage',
            name='chain_prev',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash"),
        ),
        migrations.AddField(
            model_name='historicalresolution',
            name='chain_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash'),
        ),
        migrations.AddField(
            model_name='historicalresolution',
            name='chain_prev',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash"),
        ),
        migrations.AddField(
            model_name='historicalticket',
            name='chain_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash'),
        ),
        migrations.AddField(
            model_name='historicalticket',
            name='chain_prev',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash"),
        ),
        migrations.CreateModel(
            name='HistoricalPayout',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('chain_prev', models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name="previous row's hash")),
                ('chain_hash', models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='row hash')),
                ('kind', models.CharField(choices=[('refund', 'Refund'), ('compensation', 'Cash compensation'), ('coupon', 'Coupon'), ('points', 'Points')], max_length=12, verbose_name='kind')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='amount')),
                ('points', models.PositiveIntegerField(default=0, verbose_name='points')),
                ('payer', models.CharField(max_length=10, verbose_name='who bears the money')),
                ('gateway_reference', models.CharField(blank=True, max_length=80, verbose_name='gateway reference')),
                ('idempotency_key', models.CharField(db_index=True, max_length=80, verbose_name='idempotency key')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('state', models.CharField(choices=[('reserved', 'Reserved'), ('paid', 'Paid out'), ('released', 'Released')], default='reserved', max_length=10, verbose_name='state')),
                ('paid_at', models.DateTimeField(blank=True, null=True, verbose_name='paid at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.TextField(null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('order', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tickets.order', verbose_name='order')),
                ('resolution', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tickets.resolution', verbose_name='resolution')),
                ('order_item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tickets.orderitem', verbose_name='order item')),
                ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by')),
            ],
            options={
                'verbose_name': 'historical payout',
                'verbose_name_plural': 'historical payouts',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='AuditPurge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table', models.CharField(max_length=100, verbose_name='history table')),
                ('before', models.DateTimeField(verbose_name='rows dated before')),
                ('reason', models.TextField(verbose_name='reason')),
                ('rows', models.PositiveIntegerField(verbose_name='rows deleted')),
                ('purged_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='purged at')),
                ('purged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='purged by')),
            ],
            options={
                'verbose_name': 'history purge',
                'verbose_name_plural': 'history purges',
                'ordering': ['purged_at', 'id'],
                'indexes': [models.Index(fields=['table', 'before'], name='audit_purge_table_idx')],
            },
        ),
        migrations.CreateModel(
            name='AuditPurgeAnchor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.BigIntegerField(verbose_name='object id')),
                ('chain_hash', models.CharField(max_length=64, verbose_name='row hash')),
                ('purge', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='anchors', to='tickets.auditpurge', verbose_name='history purge')),
            ],
            options={
                'verbose_name': 'history purge anchor',
                'verbose_name_plural': 'history purge anchors',
                'indexes': [models.Index(fields=['object_id', 'chain_hash'], name='audit_anchor_object_idx')],
            },
        ),
        migrations.RunPython(give_payouts_history, migrations.RunPython.noop),
        migrations.RunPython(seal_existing_rows, clear_seals),
        migrations.RunPython(protect, unprotect),
    ]
