"""The django-q2 schedule list, linking a last run only for those who may open it.

django-q2's own list links every schedule's last run to its Success or Failure page; the
roles that may see schedules (supervisors, QA) may not see those pages, so the link led
to a 403. Here the run is a link only with the permission its page asks for, plain text
otherwise.
"""

# Importing it registers django-q2's admins, so ours can replace one.
import django_q.admin
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_q.models import Schedule

admin.site.unregister(Schedule)


@admin.register(Schedule)
class ConsoleScheduleAdmin(django_q.admin.ScheduleAdmin):
    def get_list_display(self, request):
        may_open = {True: request.user.has_perm("django_q.view_success"),
                    False: request.user.has_perm("django_q.view_failure")}

        @admin.display(description=_("last run"))
        def last_run(schedule):
            if schedule.task_name is None:
                return None
            success = bool(schedule.task_success)
            if not may_open[success]:
                return schedule.task_name
            page = "admin:django_q_success_change" if success else "admin:django_q_failure_change"
            return format_html('<a href="{}">[{}]</a>', reverse(page, args=(schedule.task_id,)),
                               schedule.task_name)

        return [last_run if name == "get_last_run" else name
                for name in super().get_list_display(request)]
