from django.db import migrations


def load_defaults(apps, schema_editor):
    from routing.services.seeding import install_request_rules

    install_request_rules(apps)


def unload_defaults(apps, schema_editor):
    from routing.services.seeding import remove_request_rules

    remove_request_rules(apps)


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_routing_rule_request_reasons")]

    operations = [migrations.RunPython(load_defaults, unload_defaults)]
