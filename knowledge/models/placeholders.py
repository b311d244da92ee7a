"""Placeholders of script templates: {customer_name} and friends, nothing else.

Rendering is a plain substitution of known names; no template language runs, so a
template can never reach attributes, filters or code.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

PLACEHOLDERS = {
    "customer_name": _("The customer's name"),
    "order_number": _("The order number"),
    "ticket_number": _("The ticket number"),
    "deadline": _("When the ticket is next due"),
    "agent_name": _("Your name"),
    "shop_name": _("The shop's name"),
}


def placeholders_in(body: str) -> list[str]:
    """Return the placeholder names used in the text, in order of first use."""
    seen = []
    for name in PLACEHOLDER.findall(body):
        if name not in seen:
            seen.append(name)
    return seen


def check_placeholders(body: str, *, field: str = "body") -> None:
    """Raise ValidationError if the text uses a placeholder that is not known, or a stray brace."""
    unknown = [name for name in placeholders_in(body) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationError({field: _("Unknown placeholders: %(names)s. Known: %(known)s.") % {
            "names": ", ".join("{" + name + "}" for name in unknown),
            "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
        }})
    leftover = PLACEHOLDER.sub("", body)
    if "{" in leftover or "}" in leftover:
        raise ValidationError({field: _("A brace is not closed: write placeholders as {name}.")})


def fill(body: str, context: dict) -> str:
    """Return the text with each known placeholder replaced by its value as plain text."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in PLACEHOLDERS and name in context:
            return str(context[name])
        return match.group(0)

    return PLACEHOLDER.sub(replace, body)
