from django.db import migrations


def create_roles(apps, schema_editor):
    from core.models.roles import sync_roles

    sync_roles(apps, strict=False)


def delete_roles(apps, schema_editor):
    from core.models.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cs_console", "0001_initial"),
        ("tickets", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
