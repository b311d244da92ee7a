# Joins the update-clock, console-index and supervision branches of the migrations.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0010_customer_update_clock'),
        ('tickets', '0011_queue_due_index'),
        ('tickets', '0013_backlog_index'),
    ]

    operations = [
    ]
