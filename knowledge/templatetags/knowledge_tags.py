"""Template helpers of the knowledge base."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def _labels() -> dict[str, str]:
    return {
        "create": _("Created"),
        "edit": _("Edited"),
        "tags": _("Tags changed"),
        "submit": _("Sent for review"),
        "publish": _("Approved and published"),
        "reject": _("Sent back to the author"),
        "archive": _("Archived"),
        "restore": _("Restored as a draft"),
        "reviewed": _("Confirmed as still correct"),
        "rollback": _("Rolled back"),
        "media": _("Media changed"),
        "admin": _("Changed in administration"),
        "demo": _("Demo content"),
    }


@register.filter
def change_reason(reason: str | None) -> str:
    """Return a readable label for a stable history reason key ("publish: note" keeps the note)."""
    if not reason:
        return ""
    key, _sep, rest = reason.partition(":")
    label = _labels().get(key.strip()) or _("Changed")  # never the bare key
    rest = rest.strip()
    if key in {"edit", "rollback"} and rest.startswith("v"):
        return f"{label} ({rest})"
    return f"{label}: {rest}" if rest and key in {"publish", "reject"} else label
