"""Leave out the indexes no query uses of the rows every ticket writes (#13): the history
copies of the ticket's indexes, and single-column key indexes that a composite one begins
with."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0002_periodical'),
        ('tickets', '0029_message_author_time_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalmessage',
            name='author',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='assignee',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='assignee'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='created_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='customer',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='shop.customer', verbose_name='customer'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='merged_into',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tickets.ticket', verbose_name='merged into'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='number',
            field=models.CharField(editable=False, max_length=24, verbose_name='number'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='order',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='shop.order', verbose_name='order'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='order_item',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='shop.orderitem', verbose_name='order item'),
        ),
        migrations.AlterField(
            model_name='historicalticket',
            name='team',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tickets.team', verbose_name='team'),
        ),
        # The live tables keep their foreign keys as they are: only the index goes (an
        # AlterField would drop and re-add each constraint, checking every row again).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='intakekey',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL, verbose_name='user'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='author',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ticket_messages', to=settings.AUTH_USER_MODEL, verbose_name='author'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='ticket',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='tickets.ticket', verbose_name='ticket'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f"DROP INDEX IF EXISTS {name}",
                                  reverse_sql=f"CREATE INDEX {name} ON {table} ({column})")
                for name, table, column in [
                    ("tickets_intakekey_user_id_d557fb1d", "tickets_intakekey", "user_id"),
                    ("tickets_message_author_id_e13a9dd8", "tickets_message", "author_id"),
                    ("tickets_message_ticket_id_a1134910", "tickets_message", "ticket_id"),
                ]
            ],
        ),
    ]
