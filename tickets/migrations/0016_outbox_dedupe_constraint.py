# The outbox dedupe key is unique by a constraint (no LIKE index to maintain).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0015_sla_sweep_index_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxmessage',
            name='dedupe_key',
            field=models.CharField(blank=True, help_text='The same notification is queued at most once per key.', max_length=200, null=True, verbose_name='deduplication key'),
        ),
        migrations.AddConstraint(
            model_name='outboxmessage',
            constraint=models.UniqueConstraint(fields=('dedupe_key',), name='outbox_dedupe_key_unique'),
        ),
    ]
