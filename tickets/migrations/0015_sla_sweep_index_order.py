# The SLA sweeps read in (due time, id) order; the indexes now hold both.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0014_merge_update_clock_console_supervision'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_frt_due_open_idx',
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_res_due_open_idx',
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('first_response_at__isnull', True), ('first_response_reminded_at__isnull', True), ('state__in', ['new', 'assigned', 'in_progress', 'pending_customer', 'pending_internal'])), fields=['first_response_due_at', 'id'], name='ticket_frt_due_open_idx'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('resolution_breached_at__isnull', True), ('state__in', ['new', 'assigned', 'in_progress', 'pending_customer', 'pending_internal'])), fields=['resolution_due_at', 'id'], name='ticket_res_due_open_idx'),
        ),
    ]
