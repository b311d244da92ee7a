"""Background jobs of the policies (django-q2): publishing change sets at their effective time."""

from django.core.exceptions import ValidationError

from core.services.exceptions import Conflict
from policies.services import changesets

SCHEDULES = [("Publish policy change sets", "policies.tasks.publish_due_change_sets_task", 1)]


def publish_due_change_sets_task() -> dict[str, list[int]]:
    """Publish every approved change set whose effective time has come.

    A refused publication (a row changed since the draft, say) leaves the set approved and
    unpublished, with the reason on it for its approvers; the others still go out.
    """
    published, refused = [], []
    for change_set_id in changesets.due_change_sets():
        try:
            changesets.publish(change_set_id=change_set_id)
        except (Conflict, ValidationError) as error:
            changesets.record_publish_error(change_set_id=change_set_id, error=str(error))
            refused.append(change_set_id)
        else:
            published.append(change_set_id)
    return {"published": published, "refused": refused}
