"""Move the next-customer-update time off the ticket into its own narrow table.

The SLA sweep moves it on thousands of tickets every few minutes; see CustomerUpdateClock.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_due_times(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    CustomerUpdateClock = apps.get_model("tickets", "CustomerUpdateClock")
    tickets = Ticket.objects.filter(next_update_due_at__isnull=False).values_list(
        "id", "next_update_due_at")
    batch = []
    for ticket_id, due_at in tickets.iterator(chunk_size=5000):
        batch.append(CustomerUpdateClock(ticket_id=ticket_id, due_at=due_at))
        if len(batch) == 5000:
            CustomerUpdateClock.objects.bulk_create(batch)
            batch = []
    CustomerUpdateClock.objects.bulk_create(batch)


def copy_due_times_back(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    CustomerUpdateClock = apps.get_model("tickets", "CustomerUpdateClock")
    for clock in CustomerUpdateClock.objects.filter(due_at__isnull=False).iterator():
        Ticket.objects.filter(pk=clock.ticket_id).update(next_update_due_at=clock.due_at)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0009_routing_rule_position'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerUpdateClock',
            fields=[
                ('ticket', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='update_clock', serialize=False, to='tickets.ticket', verbose_name='ticket')),
                ('due_at', models.DateTimeField(blank=True, null=True, verbose_name='next customer update due')),
            ],
            options={
                'verbose_name': 'customer update clock',
                'verbose_name_plural': 'customer update clocks',
                'default_permissions': ('view',),
            },
        ),
        migrations.RunPython(copy_due_times, copy_due_times_back),
        migrations.RemoveIndex(
            model_name='outboxmessage',
            name='outbox_user_unread_idx',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_update_due_open_idx',
        ),
        migrations.RemoveField(
            model_name='historicalticket',
            name='next_update_due_at',
        ),
        migrations.RemoveField(
            model_name='ticket',
            name='next_update_due_at',
        ),
        migrations.AddIndex(
            model_name='outboxmessage',
            index=models.Index(condition=models.Q(('channel', 'internal'), ('read_at__isnull', True)), fields=['recipient_user', '-created_at'], name='outbox_user_unread_idx'),
        ),
        migrations.AddIndex(
            model_name='customerupdateclock',
            index=models.Index(condition=models.Q(('due_at__isnull', False)), fields=['due_at'], name='update_clock_due_idx'),
        ),
    ]
