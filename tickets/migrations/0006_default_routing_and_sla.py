from django.db import migrations


def load_defaults(apps, schema_editor):
    from tickets.services.seeding import install_defaults

    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_routing_and_sla")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
