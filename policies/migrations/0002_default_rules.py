from django.db import migrations


def load_defaults(apps, schema_editor):
    from policies.services.seeding import install_defaults

    install_defaults(apps)


def unload_defaults(apps, schema_editor):
    from policies.services.seeding import remove_defaults

    remove_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, unload_defaults)]
