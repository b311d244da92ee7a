"""The recurring jobs moved with their apps: point the stored schedules at the new paths.

Tasks already queued under an old path (an approved resolution waiting to be paid) would not
be found by a worker running the new code: let the queue drain before upgrading.
"""

from django.db import migrations

MOVED = {
    "tickets.tasks.sla_sweep_task": "sla.tasks.sla_sweep_task",
    "tickets.tasks.resolution_sweep_task": "resolutions.tasks.resolution_sweep_task",
    "tickets.notifications.deliver_pending": "notifications.tasks.deliver_pending_task",
    "tickets.tasks.metrics_rollup_task": "reporting.tasks.metrics_rollup_task",
    "tickets.tasks.qa_sample_task": "supervision.tasks.qa_sample_task",
}


def repoint(apps, mapping):
    schedule = apps.get_model("django_q", "Schedule")
    for old, new in mapping.items():
        schedule.objects.filter(func=old).update(func=new)


class Migration(migrations.Migration):

    dependencies = [
        ("cs_console", "0003_move_audit_purge"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(lambda apps, _: repoint(apps, MOVED),
                             lambda apps, _: repoint(apps, {new: old for old, new in MOVED.items()})),
    ]
