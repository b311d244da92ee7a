"""The recurring jobs, created in django-q2's schedule table after every migrate.

They show (and can be paused) in Django admin under "Scheduled tasks"; creating them by
name makes this idempotent, and an interval a supervisor changed in admin is kept.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

SCHEDULES = [
    # name, task, every N minutes
    ("SLA sweep", "tickets.tasks.sla_sweep_task", 5),
    ("Resolution sweep", "tickets.tasks.resolution_sweep_task", 5),
    ("Outbox delivery", "tickets.notifications.deliver_pending", 1),
    # Keeps today's and yesterday's dashboard figures fresh.
    ("Metrics roll-up", "tickets.tasks.metrics_rollup_task", 60),
]

DAILY_SCHEDULES = [
    # name, task, local time of day: after midnight, once the day's closed tickets are final
    ("QA sampling", "tickets.tasks.qa_sample_task", time(1, 0)),
]


def _next_local(at: time) -> datetime:
    now = timezone.localtime()
    run = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    return run if run > now else run + timedelta(days=1)


def ensure_schedules(**kwargs) -> None:
    """post_migrate receiver: create the missing schedules."""
    from django_q.models import Schedule

    for name, func, minutes in SCHEDULES:
        Schedule.objects.get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes,
                      "repeats": -1},
        )
    for name, func, at in DAILY_SCHEDULES:
        Schedule.objects.get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1,
                      "next_run": _next_local(at)},
        )
