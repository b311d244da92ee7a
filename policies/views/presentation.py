"""Turn the engine's message keys into sentences in the reader's language and for its role.

Agents read the rule's name and plain explanation, in their language, and how the amounts
came about; the rule's number, version and source are for those who review decisions
(supervisors, QA, risk/legal). The engine marks those messages (`engine.REVIEWERS`); older
stored explanations, written before the mark, are recognised by their keys.
"""

from django.utils.translation import get_language, gettext, pgettext

from core.models.labels import pick_label
from core.models.roles import Role
from policies import engine
from policies.models import (
    FreightPayer,
    OrderStage,
    Payer,
    PolicyItemFlag,
    ResolutionKind,
    Verdict,
)
from shop.models import CustomerTier, ProductCategory
from tickets.models import EvidenceKind, ItemCondition, RequestReason


def _label(choices, value: str) -> str:
    return str(dict(choices).get(value, value))


def _code_labels() -> dict[str, str]:
    """Return the display label of every code the engine may quote (reasons, flags, ...)."""
    labels = {}
    for choices in (OrderStage, PolicyItemFlag, Verdict, CustomerTier, EvidenceKind,
                    ItemCondition, ProductCategory, RequestReason, ResolutionKind, Role, Payer,
                    FreightPayer):
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


# Who reviews decisions and so sees which rule decided, its version and its source.
REVIEWING_ROLES = (Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL)

# The messages for reviewers, by key: explanations stored before messages named their audience.
REVIEWER_KEYS = frozenset({
    'Decided by rule %(rule_id)s "%(rule)s" (version %(version)s)',
    "Source: %(source)s",
})


def sees_rule_details(user) -> bool:
    """Return True if the user reviews decisions: rule numbers, versions and sources."""
    return bool(user.is_superuser or user.has_role(*REVIEWING_ROLES))


def _in_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _in_language(params: dict) -> dict:
    """Pick each parameter that comes in two languages ("rule", "rule_zh") in the reader's.

    Chinese readers get the Chinese text where there is one; others the English, or the
    Chinese where no English was written (better than nothing).
    """
    chosen = {name: value for name, value in params.items() if not name.endswith("_zh")}
    for name in chosen:
        chinese = params.get(f"{name}_zh") or ""
        if chinese and (_in_chinese() or not chosen[name]):
            chosen[name] = chinese
    return chosen


def _audience(message) -> str:
    if isinstance(message, dict):
        key, audience = message.get("key", ""), message.get("audience")
    else:
        key, audience = message.key, message.audience
    if audience:
        return audience
    return engine.REVIEWERS if key in REVIEWER_KEYS else engine.EVERYONE


def _key_and_params(message) -> tuple[str, dict]:
    if isinstance(message, dict):
        return message["key"], message.get("params") or {}
    return message.key, message.params


def render_message(key: str, params: dict) -> str:
    """Translate one engine message and fill in its parameters."""
    if key == engine.PLAIN_KEY:  # the rule's own words, already in both languages
        return str(_in_language(params).get("explanation", ""))
    params = {name: _readable(value) for name, value in _in_language(params).items()}
    text = gettext(key)
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):
        # A catalogue entry that lost a placeholder must not break the page; fall back
        # to the English original, which the engine guarantees to be well-formed.
        return key % params if params else key


def _joined(parts: list[str]) -> str:
    # Engine messages are clauses without a full stop; join them as one readable text.
    return pgettext("between explanation clauses", "; ").join(part for part in parts if part)


def render_messages(messages, *, reviewer: bool = True) -> str:
    """Translate a sequence of engine messages (objects or stored dicts) into one text.

    `reviewer` False leaves out what only reviewers read (rule number, version, source).
    """
    return _joined([
        render_message(*_key_and_params(message)) for message in messages
        if reviewer or _audience(message) != engine.REVIEWERS
    ])


def explanation_parts(messages, *, reviewer: bool) -> dict[str, str]:
    """Return an explanation in its parts, as the pages show them.

    `label`: the rule's name in the reader's language; `plain`: what the agent tells the
    customer; `details`: how the amounts came about and who approves; `review`: rule number,
    version and source (empty unless `reviewer`).
    """
    label = plain = ""
    details: list[str] = []
    review: list[str] = []
    for message in messages:
        key, params = _key_and_params(message)
        if key == engine.PLAIN_KEY:
            label = str(_in_language(params).get("rule", ""))
            plain = render_message(key, params)
        elif _audience(message) == engine.REVIEWERS:
            if reviewer:
                review.append(render_message(key, params))
        else:
            details.append(render_message(key, params))
    return {"label": label, "plain": plain, "details": _joined(details),
            "review": _joined(review)}


def option_as_dict(option, *, reviewer: bool = True) -> dict:
    """Return an engine Option as the API and the pages show it.

    `explanation` is the whole text for the reader; the parts are for the pages.
    """
    parts = explanation_parts(option.explanation, reviewer=reviewer)
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
        "label": parts["label"] or option.rule_name,
        "plain": parts["plain"],
        "details": parts["details"],
        "review": parts["review"],
        "explanation": render_messages(option.explanation, reviewer=reviewer),
    }


def _entry_name(entry) -> str:
    """Return the trace entry's rule name in the reader's language."""
    return pick_label(entry.rule_name, entry.rule_name_zh)


def trace_as_dict(entry) -> dict:
    return {
        "rule": {"id": entry.rule_id, "name": entry.rule_name},
        "label": _entry_name(entry),
        "kind": entry.kind,
        "priority": entry.priority,
        "outcome": entry.outcome,
        "reasons": [render_messages([reason]) for reason in entry.reasons],
    }


def decision_as_dict(version: int, decision, *, reviewer: bool = True) -> dict:
    return {
        "ruleset_version": version,
        "options": [option_as_dict(option, reviewer=reviewer) for option in decision.options],
        "trace": [trace_as_dict(entry) for entry in decision.trace],
    }


NEAR_MISS_GROUPS = 4


def what_would_change(trace) -> dict[str, list]:
    """Return why no rule offers anything, and what evidence or fact would change that.

    From the rules that failed on one or two conditions that may still be met (evidence the
    customer can provide, a time that may yet pass): `why` is those conditions as the trace
    states them, `would_allow` one entry per set of missing facts (`needed`) with the options
    they would open (`options`), fewest missing facts first.
    """
    why: list[str] = []
    groups: dict[str, list[str]] = {}
    for entry in engine.near_misses(trace):
        for reason in entry.reasons:
            text = render_message(reason.key, reason.params)
            if text not in why:
                why.append(text)
        needed = _and_joined([render_message(hint.key, hint.params)
                              for hint in entry.hints if hint])
        shown = gettext("%(kind)s (%(rule)s)") % {
            "kind": _label(ResolutionKind.choices, entry.kind), "rule": _entry_name(entry)}
        options = groups.setdefault(needed, [])
        if shown not in options:
            options.append(shown)
    separator = pgettext("list separator", ", ")
    return {
        "why": why[:NEAR_MISS_GROUPS],
        "would_allow": [{"needed": needed, "options": separator.join(options)}
                        for needed, options in list(groups.items())[:NEAR_MISS_GROUPS]],
    }


def _and_joined(parts: list[str]) -> str:
    """Return the conditions as one clause: "a", "a and b" (near misses miss at most two)."""
    joined = parts[0] if parts else ""
    for part in parts[1:]:
        joined = gettext("%(first)s and %(second)s") % {"first": joined, "second": part}
    return joined
