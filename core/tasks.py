"""Queueing background work on django-q2, or running it in place where that is configured."""

from django.conf import settings
from django.db import transaction


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
