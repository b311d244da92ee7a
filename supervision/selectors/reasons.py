"""What a history reason key says to a person: a translated label and a readable comment.

Services write stable reason keys ("transition:assign — routing", "sla:first_response_reminder",
"return:shipped — 圆通速递 YT…"); the timeline and the audit trails show them through
describe_reason. A key no label knows still reads as a word ("Changed"), never as the code:
the code stays in the entry's data-reason attribute for whoever needs it.
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from resolutions.models import ResolutionKind
from supervision.models.qa import QaSource
from tickets.models import Channel, ComplaintLevel, EvidenceKind, MessageKind
from tickets.services import TRANSITIONS

# What each resolution transition is called where people read it (cards, audit trail).
RESOLUTION_ACTIONS = {
    "accept": gettext_lazy("Customer agreed"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "cancel": gettext_lazy("Withdraw"),
    "await_return": gettext_lazy("Waiting for the return parcel"),
    "record_return": gettext_lazy("Record the return parcel"),
    "receive_return": gettext_lazy("Goods received back"),
    "execute": gettext_lazy("Pay out now"),
    "complete": gettext_lazy("Completed"),
    "fail": gettext_lazy("Payment failed"),
    "retry_failed": gettext_lazy("Payment retried"),
    "review": gettext_lazy("Take into manual review"),
    "retry": gettext_lazy("Try the payment again"),
    "complete_manually": gettext_lazy("Settled manually"),
    "refer_for_review": gettext_lazy("Refused before paying: handed to a person"),
}

# Keys whose argument only says more of the same ("create:phone", "message:note"): the
# label of the head, and the argument shown through the choice it names, if any.
HEAD_LABELS = {
    "create": gettext_lazy("Created"),
    "transition": gettext_lazy("Status changed"),
    "bulk": gettext_lazy("Created"),
    "first_response": gettext_lazy("First response to the customer"),
    "reply": gettext_lazy("Replied to the customer"),
    "reassign": gettext_lazy("Reassigned"),
    "edit": gettext_lazy("Details edited"),
    "admin": gettext_lazy("Changed in administration"),
    "message": gettext_lazy("Message added"),
    "merge": gettext_lazy("Moved by a merge"),
    "attachment": gettext_lazy("Attachment added"),
    "attach": gettext_lazy("Attachment added"),
    "evidence_retention": gettext_lazy("Evidence file deleted under retention"),
    "intake": gettext_lazy("Customer record updated"),
    "customer": gettext_lazy("Customer record updated"),
    "tags": gettext_lazy("Tags changed"),
    "sla": gettext_lazy("SLA clock"),
    "return": gettext_lazy("Return parcel"),
    "payout": gettext_lazy("Payout"),
    "legal_hold": gettext_lazy("Legal hold"),
    "incident": gettext_lazy("Incident"),
    "claim": gettext_lazy("Claimed"),
    "reviewed": gettext_lazy("Confirmed as still correct"),
    "changeset": gettext_lazy("Rule change set"),
    "media": gettext_lazy("Media changed"),
    "rollback": gettext_lazy("Rolled back"),
    "default table": gettext_lazy("Shipped default"),
}

# "head:argument" keys with a label of their own.
KEY_LABELS = {
    "admin:add": gettext_lazy("Added in administration"),
    "admin:edit": gettext_lazy("Changed in administration"),
    "admin:tags": gettext_lazy("Tags changed in administration"),
    "intake:create_customer": gettext_lazy("Customer record created at intake"),
    "customer:update": gettext_lazy("Customer record updated"),
    "customer:adopt_reported": gettext_lazy("Reported contact adopted into the customer record"),
    "sla:first_response_reminder": gettext_lazy("Reminder: first response due soon"),
    "sla:resolution_breached": gettext_lazy("Resolution deadline passed"),
    "sla:priority_raised": gettext_lazy("Priority raised: waiting too long"),
    "return:shipped": gettext_lazy("Customer shipped the return parcel"),
    "payout:reserve": gettext_lazy("Payout amount reserved"),
    "payout:release": gettext_lazy("Reserved payout amount released"),
    "payout:paid": gettext_lazy("Payout recorded as paid"),
    "payout:manual": gettext_lazy("Payout settled manually"),
    "legal_hold:place": gettext_lazy("Legal hold placed"),
    "legal_hold:release": gettext_lazy("Legal hold released"),
    "incident:open": gettext_lazy("Incident opened"),
    "incident:close": gettext_lazy("Incident closed"),
    "incident:add_tickets": gettext_lazy("Added to an incident"),
    "claim:replying": gettext_lazy("Claimed by replying"),
    "claim:next": gettext_lazy("Claimed as the next ticket"),
    "bulk:create": gettext_lazy("Created"),
}

# Comments the system writes itself (an agent's own comment is shown as they wrote it).
SYSTEM_COMMENTS = {
    "routing": gettext_lazy("assigned by routing"),
    "intake": gettext_lazy("taken by the agent who took the call"),
    "claimed by replying": gettext_lazy("claimed by replying"),
    "claim next": gettext_lazy("took the next ticket"),
    "within policy": gettext_lazy("within policy, approved automatically"),
    "automatic retries used up": gettext_lazy("automatic retries used up"),
    "no objection in time": gettext_lazy("no objection in time"),
    "default table": gettext_lazy("shipped default"),
}
_DUPLICATE_OF = re.compile(r"^duplicate of (\S+)$")


def reason_comment_text(comment: str) -> str:
    """The comment part of a reason as a reader sees it: system comments translated."""
    if comment in SYSTEM_COMMENTS:
        return str(SYSTEM_COMMENTS[comment])
    duplicate = _DUPLICATE_OF.match(comment)
    if duplicate:
        return _("duplicate of %(number)s") % {"number": duplicate.group(1)}
    return comment


def _argument_comment(head: str, arg: str) -> str:
    """What the argument of a key says beside its label, as a choice label where it is one."""
    choices = {"create": Channel, "message": MessageKind, "attach": EvidenceKind}.get(head)
    if choices is not None:
        return str(dict(choices.choices).get(arg, ""))
    if head == "merge" and "->" in arg:
        return arg.replace("->", " → ")
    return ""


def describe_reason(reason: str) -> tuple[str, str]:
    """Return (label, comment) for a stable history reason key such as "transition:resolve — ok"."""
    key, _sep, comment = (reason or "").partition(" — ")
    head, _colon, arg = key.partition(":")
    comment = reason_comment_text(comment.strip())
    if head == "transition" and arg in TRANSITIONS:
        label = str(TRANSITIONS[arg].label)
    elif head == "transition" and arg in RESOLUTION_ACTIONS:
        label = str(RESOLUTION_ACTIONS[arg])
    elif head == "escalate":
        level = dict(ComplaintLevel.choices).get(arg, arg)
        label = _("Escalated to %(level)s") % {"level": level}
    elif head == "priority":
        label = _("Priority changed to %(priority)s") % {"priority": arg}
    elif head == "qa":
        label = {"complete": _("QA review completed"), "amend": _("QA review amended")}.get(
            arg, _("Queued for QA review"))
        if arg in QaSource.values:
            comment = str(QaSource(arg).label)
    elif head == "propose":
        kind = dict(ResolutionKind.choices).get(arg, "")
        label = _("Proposed: %(kind)s") % {"kind": kind} if kind else _("Resolution proposed")
    elif key in KEY_LABELS:
        label = str(KEY_LABELS[key])
    elif head in HEAD_LABELS:
        label = str(HEAD_LABELS[head])
        extra = _argument_comment(head, arg)
        comment = " ".join(part for part in (extra, comment) if part)
    else:
        label = _("Changed")
    return str(label), comment
