from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    # The label the project package had when it held the user model: the user table, its
    # migrations and every permission name keep it, and AUTH_USER_MODEL stays put.
    label = "cs_console"
    verbose_name = _("Console")

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from core.api.serializers import install_strict_json_types
        from core.db import timestamps
        from core.models import roles
        from core.observability import request_id
        from core.tasks import ensure_schedules

        install_strict_json_types()
        timestamps.install()  # timestamptz read by psycopg's compiled parser (PostgreSQL)
        # Keep every role's permissions equal to roles.ROLE_PERMISSIONS after each migrate,
        # so a permission added in code reaches existing installations without a hand step.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="cs_console_roles")
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="cs_console_schedules")
        # A task queued during a request logs, on the worker, under that request's id.
        pre_enqueue.connect(request_id.stamp_task, dispatch_uid="cs_console_request_id_out")
        pre_execute.connect(request_id.restore_in_worker, dispatch_uid="cs_console_request_id_in")
        post_execute_in_worker.connect(request_id.forget_in_worker,
                                       dispatch_uid="cs_console_request_id_done")
