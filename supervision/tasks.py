"""Background jobs of supervision (django-q2)."""

from datetime import date, time, timedelta

from django.utils import timezone

from supervision.services import qa

# name, task, local time of day: after midnight, once the day's closed tickets are final
DAILY_SCHEDULES = [("QA sampling", "supervision.tasks.qa_sample_task", time(1, 0))]


def qa_sample_task(day: str | None = None) -> dict:
    """Queue yesterday's QA reviews (or those of `day`, YYYY-MM-DD); idempotent."""
    when = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return qa.qa_sample_day(day=when)
