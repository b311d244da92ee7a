import uuid

from django.db import migrations, models


def give_every_resolution_a_key(apps, schema_editor):
    Resolution = apps.get_model("tickets", "Resolution")
    for resolution in Resolution.objects.filter(idempotency_key__isnull=True).only("pk"):
        resolution.idempotency_key = uuid.uuid4()
        resolution.save(update_fields=["idempotency_key"])


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_resolution_workflow")]

    operations = [
        migrations.RunPython(give_every_resolution_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="resolution",
            name="idempotency_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True,
                                   verbose_name="idempotency key"),
        ),
        migrations.AlterField(
            model_name="historicalresolution",
            name="idempotency_key",
            field=models.UUIDField(db_index=True, default=uuid.uuid4, editable=False,
                                   verbose_name="idempotency key"),
        ),
    ]
