"""Queueing background work on django-q2, or running it in place where that is configured."""

import importlib
import importlib.util
from datetime import datetime, time, timedelta
from types import ModuleType

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone


def enqueue_on_commit(func_path: str, *args) -> None:
    """Run the task after the current transaction commits: on the worker, or inline.

    settings.TASKS_RUN_INLINE runs it in this process instead (tests, and single-process
    set-ups that run no worker).
    """

    def send():
        if getattr(settings, "TASKS_RUN_INLINE", False):
            from django.utils.module_loading import import_string

            import_string(func_path)(*args)
        else:
            from django_q.tasks import async_task

            async_task(func_path, *args)

    transaction.on_commit(send)


# --- recurring jobs ----------------------------------------------------------------------------
# Each app lists its recurring jobs in its own tasks module: SCHEDULES (name, task, every N
# minutes) and DAILY_SCHEDULES (name, task, local time of day). After every migrate they are
# created in django-q2's schedule table, where they show (and can be paused) in Django admin;
# creating them by name makes this idempotent, and an interval a supervisor changed is kept.


def _app_task_modules() -> list[ModuleType]:
    found = []
    for app in apps.get_app_configs():
        name = f"{app.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            found.append(importlib.import_module(name))
    return found


def _next_local(at: time) -> datetime:
    now = timezone.localtime()
    run = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    return run if run > now else run + timedelta(days=1)


def ensure_schedules(**kwargs: object) -> None:
    """post_migrate receiver: create the missing schedules of every app."""
    from django_q.models import Schedule  # the schedule table exists only once migrated

    for module in _app_task_modules():
        for name, func, minutes in getattr(module, "SCHEDULES", []):
            Schedule.objects.get_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes,
                          "repeats": -1},
            )
        for name, func, at in getattr(module, "DAILY_SCHEDULES", []):
            Schedule.objects.get_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1,
                          "next_run": _next_local(at)},
            )
