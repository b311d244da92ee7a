# Customer messages only from channels (record_inbound_message), phone call summaries, and
# what a caller reported about themselves kept on the ticket instead of the customer record.

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations, models


def create_system_account(apps, schema_editor):
    """Create the account history rows name when the console acts by itself (sweeps, tasks).

    core.services.accounts.system_user() creates it too when it is missing (after a flush);
    creating it here keeps the first sweep from paying for the insert.
    """
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    user_model.objects.get_or_create(
        username="system",
        defaults={"is_active": False, "password": make_password(None), "first_name": "System"},
    )


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0017_payout_ledger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='message',
            options={'ordering': ['created_at', 'id'], 'permissions': [('record_inbound_message', 'Can record customer messages arriving from a channel')], 'verbose_name': 'message', 'verbose_name_plural': 'messages'},
        ),
        migrations.AddField(
            model_name='historicalticket',
            name='reported_name',
            field=models.CharField(blank=True, max_length=100, verbose_name='reported name'),
        ),
        migrations.AddField(
            model_name='historicalticket',
            name='reported_phone',
            field=models.CharField(blank=True, max_length=32, verbose_name='reported phone'),
        ),
        migrations.AddField(
            model_name='historicalticket',
            name='reported_tier',
            field=models.CharField(blank=True, choices=[('normal', 'Normal'), ('vip', 'VIP'), ('svip', 'SVIP')], max_length=8, verbose_name='reported tier'),
        ),
        migrations.AddField(
            model_name='ticket',
            name='reported_name',
            field=models.CharField(blank=True, max_length=100, verbose_name='reported name'),
        ),
        migrations.AddField(
            model_name='ticket',
            name='reported_phone',
            field=models.CharField(blank=True, max_length=32, verbose_name='reported phone'),
        ),
        migrations.AddField(
            model_name='ticket',
            name='reported_tier',
            field=models.CharField(blank=True, choices=[('normal', 'Normal'), ('vip', 'VIP'), ('svip', 'SVIP')], max_length=8, verbose_name='reported tier'),
        ),
        migrations.AlterField(
            model_name='historicalmessage',
            name='kind',
            field=models.CharField(choices=[('inbound', 'Customer message'), ('reply', 'Reply to the customer'), ('note', 'Internal note'), ('phone_summary', 'Phone call summary')], max_length=16, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='message',
            name='kind',
            field=models.CharField(choices=[('inbound', 'Customer message'), ('reply', 'Reply to the customer'), ('note', 'Internal note'), ('phone_summary', 'Phone call summary')], max_length=16, verbose_name='kind'),
        ),
        migrations.RunPython(create_system_account, migrations.RunPython.noop),
    ]
