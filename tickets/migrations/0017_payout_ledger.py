# The payout table becomes the ledger: a row is reserved before the gateway is called, then
# paid or released. Rows written before this migration were written after a successful
# payment, so they are paid. On PostgreSQL a deferred constraint trigger refuses a commit
# that would leave an order's (or an item's) reserved and paid refunds above what was paid.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CREATE_TRIGGER = """
CREATE OR REPLACE FUNCTION tickets_payout_refunds_within_paid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    paid numeric;
    refunded numeric;
BEGIN
    -- Lock the order row, so two commits touching the same order are checked one after
    -- the other and each sees what the other committed. NO KEY UPDATE, not UPDATE: it
    -- does not wait for the key-share locks that inserting payouts takes on the order,
    -- which would deadlock two writers that did not lock the order first.
    SELECT paid_amount INTO paid FROM tickets_order WHERE id = NEW.order_id
        FOR NO KEY UPDATE;
    SELECT COALESCE(SUM(amount), 0) INTO refunded FROM tickets_payout
     WHERE order_id = NEW.order_id AND kind = 'refund' AND state IN ('reserved', 'paid');
    IF refunded > paid THEN
        RAISE EXCEPTION 'Refunds of order % (%) exceed what was paid (%).',
            NEW.order_id, refunded, paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_refunds_within_paid';
    END IF;
    IF NEW.order_item_id IS NOT NULL THEN
        SELECT paid_amount INTO paid FROM tickets_orderitem WHERE id = NEW.order_item_id;
        SELECT COALESCE(SUM(amount), 0) INTO refunded FROM tickets_payout
         WHERE order_item_id = NEW.order_item_id AND kind = 'refund'
           AND state IN ('reserved', 'paid');
        IF refunded > paid THEN
            RAISE EXCEPTION 'Refunds of order item % (%) exceed what was paid (%).',
                NEW.order_item_id, refunded, paid
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_refunds_within_paid';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS payout_refunds_within_paid ON tickets_payout;
CREATE CONSTRAINT TRIGGER payout_refunds_within_paid
    AFTER INSERT OR UPDATE ON tickets_payout
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.kind = 'refund' AND NEW.state <> 'released')
    EXECUTE FUNCTION tickets_payout_refunds_within_paid();
"""

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS payout_refunds_within_paid ON tickets_payout;
DROP FUNCTION IF EXISTS tickets_payout_refunds_within_paid();
"""


def existing_payouts_are_paid(apps, schema_editor):
    """Mark the rows written before the ledger as paid, for their resolution's item."""
    Payout = apps.get_model("tickets", "Payout")
    for payout in Payout.objects.select_related("resolution").iterator():
        payout.state = "paid"
        payout.paid_at = payout.created_at
        payout.order_item_id = payout.resolution.order_item_id
        payout.save(update_fields=["state", "paid_at", "order_item"])


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0016_outbox_dedupe_constraint'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='payout',
            name='order_item',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payouts', to='tickets.orderitem', verbose_name='order item'),
        ),
        migrations.AddField(
            model_name='payout',
            name='paid_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='paid at'),
        ),
        migrations.AddField(
            model_name='payout',
            name='recorded_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='recorded_payouts', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='payout',
            name='state',
            field=models.CharField(choices=[('reserved', 'Reserved'), ('paid', 'Paid out'), ('released', 'Released')], default='reserved', max_length=10, verbose_name='state'),
        ),
        migrations.AlterField(
            model_name='payout',
            name='gateway_reference',
            field=models.CharField(blank=True, max_length=80, verbose_name='gateway reference'),
        ),
        migrations.RunPython(existing_payouts_are_paid, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='payout',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='payout_amount_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='payout',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('paid_at__isnull', False), ('state', 'paid')), models.Q(('state', 'paid'), _negated=True), _connector='OR'), name='payout_paid_has_time'),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
