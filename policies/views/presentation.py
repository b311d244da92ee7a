"""Turn the engine's message keys into sentences in the reader's language."""

from django.utils.translation import gettext, pgettext

from core.models.roles import Role
from policies.models import OrderStage, Payer, PolicyItemFlag, ResolutionKind, Verdict
from shop.models import CustomerTier, ProductCategory
from tickets.models import EvidenceKind, ItemCondition, RequestReason


def _label(choices, value: str) -> str:
    return str(dict(choices).get(value, value))


def _code_labels() -> dict[str, str]:
    """Return the display label of every code the engine may quote (reasons, flags, ...)."""
    labels = {}
    for choices in (OrderStage, PolicyItemFlag, Verdict, CustomerTier, EvidenceKind,
                    ItemCondition, ProductCategory, RequestReason, ResolutionKind, Role, Payer):
        labels.update({value: str(label) for value, label in choices.choices})
    return labels


def _readable(value):
    """Show codes such as "no_reason" or "custom_made, perishable" by their labels."""
    if not isinstance(value, str) or not value or " " in value.replace(", ", ""):
        return value
    labels = _code_labels()
    parts = value.split(", ")
    if not all(part in labels for part in parts):
        return value
    return pgettext("list separator", ", ").join(labels[part] for part in parts)


def render_message(key: str, params: dict) -> str:
    """Translate one engine message and fill in its parameters."""
    params = {name: _readable(value) for name, value in params.items()}
    text = gettext(key)
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        # A catalogue entry that lost a placeholder must not break the page; fall back
        # to the English original, which the engine guarantees to be well-formed.
        return key % params if params else key


def render_messages(messages) -> str:
    """Translate a sequence of engine messages (objects or stored dicts) into one text."""
    parts = []
    for message in messages:
        if isinstance(message, dict):
            parts.append(render_message(message["key"], message.get("params") or {}))
        else:
            parts.append(render_message(message.key, message.params))
    # Engine messages are clauses without a full stop; join them as one readable text.
    return pgettext("between explanation clauses", "; ").join(parts)


def option_as_dict(option) -> dict:
    """Return an engine Option as the API and the pages show it."""
    return {
        "kind": option.kind,
        "kind_label": _label(ResolutionKind.choices, option.kind),
        "verdict": option.verdict,
        "verdict_label": _label(Verdict.choices, option.verdict),
        "approval_role": option.approval_role,
        "refund_amount": f"{option.refund_amount:.2f}",
        "compensation_amount": f"{option.compensation_amount:.2f}",
        "coupon_amount": f"{option.coupon_amount:.2f}",
        "points": option.points,
        "freight_payer": option.freight_payer,
        "payer": option.payer,
        "auto_execute": option.auto_execute,
        "rule": {"id": option.rule_id, "name": option.rule_name, "version": option.rule_version},
        "explanation": render_messages(option.explanation),
    }


def trace_as_dict(entry) -> dict:
    return {
        "rule": {"id": entry.rule_id, "name": entry.rule_name},
        "kind": entry.kind,
        "priority": entry.priority,
        "outcome": entry.outcome,
        "reasons": [render_messages([reason]) for reason in entry.reasons],
    }


def decision_as_dict(version: int, decision) -> dict:
    return {
        "ruleset_version": version,
        "options": [option_as_dict(option) for option in decision.options],
        "trace": [trace_as_dict(entry) for entry in decision.trace],
    }
