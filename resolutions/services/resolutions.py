"""Resolutions (售后单): propose from a policy option, accept, approve, return, execute.

Amounts are never taken from the caller: a proposal decides the ticket's facts again with
the current rule table and keeps that decision. Money is kept in the payout ledger
(`ledger.py`): a proposal may not promise more than remains of the order and the item, and
an execution reserves its amounts under the order lock before the gateway is called with
the resolution's idempotency keys, so nothing is paid twice and an order is never refunded
more than was paid, whatever the interleaving.
"""

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from core.models.roles import Role
from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from core.tasks import enqueue_on_commit
from notifications.services import delivery as notifications
from policies import engine
from policies.models import ApprovalLimit
from policies.services import rulebook
from policies.services.facts import item_for_ticket
from resolutions.models import RESOLUTION_OPEN_STATES, PayoutKind, Resolution, ResolutionState
from resolutions.services import ledger
from resolutions.services.decision_facts import facts_and_versions
from resolutions.services.payments import (
    PAYMENT_FAILURES,
    PaymentFailed,
    PaymentRequest,
    get_gateway,
)
from shop.models import Order, OrderItem
from tickets.models import OPEN_STATES, Ticket, can_work_on
from tickets.selectors import SEE_ALL_ROLES
from tickets.services import legal_holds
from tickets.services.tickets import _require_can_work, transition_reason

RS = ResolutionState
# Each role may approve what the roles before it may; risk/legal stands apart and approves
# what is reserved to it (statutory compensation, frequent refunders).
APPROVAL_LADDER = (Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR)


def _save(resolution: Resolution, *, actor: User | None, reason: str) -> None:
    try:
        save_with_history(resolution, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise Conflict(
            _("The resolution was changed by someone else in the meantime. Reload it and try "
              "again."), code="stale",
        ) from exc


def _require(resolution: Resolution, transition_name: str) -> None:
    if not can_proceed(getattr(resolution, transition_name), check_conditions=False):
        raise Conflict(
            _("This is not possible while the resolution is %(state)s.")
            % {"state": resolution.get_state_display()},
            code="transition_not_allowed",
        )


def _facts_as_json(facts: engine.Facts) -> dict[str, object]:
    data = asdict(facts)
    # Sets as sorted lists of strings (flags, evidence, the rest days as ISO dates).
    return {key: sorted(map(str, value)) if isinstance(value, frozenset) else
            (str(value) if value is not None and not isinstance(value, int | str | bool) else value)
            for key, value in data.items()}


def _message_json(messages: Iterable[engine.Message]) -> list[dict[str, object]]:
    """Return the messages as stored on a resolution; who each is for, where not everyone."""
    return [{"key": message.key, "params": dict(message.params),
             **({"audience": message.audience} if message.audience != engine.EVERYONE else {})}
            for message in messages]


# --- deciding ------------------------------------------------------------------------------
def ticket_decision(
    *, ticket: Ticket, at: datetime | None = None, order_item: OrderItem | None = None,
) -> tuple[int, engine.Decision, engine.Facts, OrderItem] | None:
    """Return (rule set version, decision, facts, item) for the ticket, or None without an order."""
    item = order_item or item_for_ticket(ticket)
    if item is None:
        return None
    facts, version, limits_version = facts_and_versions(ticket, item, at=at or timezone.now())
    version, decision = rulebook.decide(facts, version=version, limits_version=limits_version)
    return version, decision, facts, item


# --- proposing and agreeing ----------------------------------------------------------------
@transaction.atomic
def resolution_propose(*, ticket: Ticket, actor: User | None, kind: str,
                       order_item: OrderItem | None = None) -> Resolution:
    """Propose the option of `kind` that the policy engine offers for this ticket now."""
    if ticket.state not in OPEN_STATES:
        raise Conflict(_("Resolutions are proposed on open tickets only."), code="not_open")
    if actor is not None:  # None: the system (advance payout after merchant silence)
        _require_can_work(ticket, actor)
    if order_item is not None and order_item.order_id != ticket.order_id:
        raise ValidationError({"order_item": _("The item is not part of the ticket's order.")})
    decided = ticket_decision(ticket=ticket, order_item=order_item)
    if decided is None:
        raise ValidationError({"ticket": _("Link the ticket to an order first.")})
    version, decision, facts, item = decided
    option = next((option for option in decision.options if option.kind == kind), None)
    if option is None:
        raise ValidationError({"kind": _("The policy does not offer this kind for this ticket.")})
    if option.verdict == "deny":
        raise ValidationError({"kind": _("The policy denies this kind for this ticket.")})
    if not engine.gives_something(option):
        # A resolution worth 0.00 that sends nothing either (a return after a full refund):
        # approving and "paying" it would only confuse the customer and the books.
        raise ValidationError({"kind": _(
            "This option gives the customer nothing (no money, goods, repair, coupon or "
            "points), so it cannot be proposed.")})
    if ticket.resolutions.filter(kind=kind, state__in=RESOLUTION_OPEN_STATES).exists():
        raise Conflict(_("A resolution of this kind is already open on the ticket."),
                       code="duplicate_resolution")
    # Under the order lock, so two proposals on the order (from two tickets, say) cannot both
    # promise the same money: what is refunded, reserved and promised by other open
    # resolutions is counted, per order and per item.
    order = Order.objects.select_for_update().get(pk=item.order_id)
    ledger.require_refund_fits(order=order, item=item, amount=option.refund_amount,
                               count_promises=True)

    resolution: Resolution = Resolution(
        ticket=ticket, order_item=item, kind=kind, verdict=option.verdict,
        approval_role=option.approval_role, refund_amount=option.refund_amount,
        compensation_amount=option.compensation_amount, coupon_amount=option.coupon_amount,
        points=option.points, freight_payer=option.freight_payer, payer=option.payer,
        auto_execute=option.auto_execute, rule_id=option.rule_id, rule_name=option.rule_name,
        rule_version=option.rule_version, ruleset_version=version,
        facts=_facts_as_json(facts), explanation=_message_json(option.explanation),
        proposed_by=actor, created_at=timezone.now(),
    )
    _save(resolution, actor=actor, reason=f"propose:{kind}")
    if resolution.auto_execute:
        # Within policy and meant to run without an agent (秒退 and the like): the customer
        # asked for it, nobody needs to approve it.
        _accept(resolution, actor=None, note="automatic")
    return resolution


def _accept(resolution: Resolution, *, actor: User | None, note: str) -> None:
    now = timezone.now()
    resolution.accept(at=now)
    _save(resolution, actor=actor, reason=transition_reason("accept", note))
    if resolution.verdict == "allow":
        resolution.approve(by=None, at=now)
        _save(resolution, actor=None, reason=transition_reason("approve", "within policy"))
        _after_approval(resolution)
    else:
        _tell_approvers(resolution)


def _after_approval(resolution: Resolution) -> None:
    if resolution.needs_return:
        resolution.await_return()
        _save(resolution, actor=None, reason=transition_reason("await_return"))
    else:
        enqueue_on_commit("resolutions.tasks.resolution_execute_task", resolution.pk)


@transaction.atomic
def resolution_accept(*, resolution: Resolution, actor: User, note: str = "") -> Resolution:
    """Record that the customer agreed; options within policy are approved at once."""
    _require(resolution, "accept")
    _require_can_work(resolution.ticket, actor)
    _accept(resolution, actor=actor, note=note or "customer agreed")
    return resolution


# --- approving -----------------------------------------------------------------------------
def _largest_limit(limits: Iterable[Decimal | None]) -> Decimal | None:
    """Return the largest of a person's role limits (None: no limit; no row: 0)."""
    limits = list(limits)
    if not limits:
        return Decimal("0")
    if None in limits:
        return None
    return max(limit for limit in limits if limit is not None)


def approval_limit(user: User) -> Decimal | None:
    """Return the largest amount the user may approve (None: no limit; 0: nothing)."""
    if user.is_superuser:
        return None
    return _largest_limit(ApprovalLimit.objects.filter(role__in=user.role_names)
                          .values_list("max_amount", flat=True))


def roles_may_approve(role_names: Iterable[str], required: str) -> bool:
    """Return True if someone holding these roles may approve what needs `required`.

    The one statement of the ladder: risk/legal approves everything, what is reserved to
    risk/legal nobody else, a role of the ladder what needs it or a role below it, and the
    supervisor what needs a role off the ladder. The approvals inbox filters by the same rule
    (desk.selectors.approvals), and a test keeps the two equal.
    """
    role_names = set(role_names)
    if Role.RISK_LEGAL in role_names:
        return True
    if required == Role.RISK_LEGAL:
        return False
    if required not in APPROVAL_LADDER:
        return Role.SUPERVISOR in role_names
    needed = APPROVAL_LADDER.index(required)
    return any(APPROVAL_LADDER.index(role) >= needed
               for role in role_names if role in APPROVAL_LADDER)


def can_approve(resolution: Resolution, user: User) -> bool:
    """Return True if the user's role may approve this resolution (amount aside)."""
    if not user.has_perm("resolutions.approve_resolution"):
        return False
    if user.is_superuser:
        return True
    return roles_may_approve(user.role_names, resolution.approval_role)


def _check_approver(resolution: Resolution, actor: User, *, check_limit: bool) -> None:
    if resolution.proposed_by_id == actor.pk:
        raise PermissionDenied(_("Whoever proposed a resolution cannot also approve it."))
    if not can_approve(resolution, actor):
        raise PermissionDenied(
            _("Approving this needs the role %(role)s.")
            % {"role": Role(resolution.approval_role).label if resolution.approval_role
               in Role.values else resolution.approval_role}
        )
    if check_limit:
        limit = approval_limit(actor)
        if limit is not None and resolution.amount > limit:
            raise PermissionDenied(
                _("%(amount)s is above your approval limit of %(limit)s.")
                % {"amount": resolution.amount, "limit": limit}
            )


@transaction.atomic
def resolution_approve(*, resolution: Resolution, actor: User, comment: str = "") -> Resolution:
    """Approve a resolution that needs approval: right role, within limit, not one's own."""
    _require(resolution, "approve")
    _check_approver(resolution, actor, check_limit=True)
    resolution.approve(by=actor, at=timezone.now())
    _save(resolution, actor=actor, reason=transition_reason("approve", comment))
    _after_approval(resolution)
    return resolution


@transaction.atomic
def resolution_reject(*, resolution: Resolution, actor: User, reason: str) -> Resolution:
    """Refuse the resolution (approvers), with the reason."""
    _require(resolution, "reject")
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    _check_approver(resolution, actor, check_limit=False)
    resolution.reject(reason=reason.strip())
    _save(resolution, actor=actor, reason=transition_reason("reject", reason))
    return resolution


@transaction.atomic
def resolution_cancel(*, resolution: Resolution, actor: User, reason: str) -> Resolution:
    """Withdraw the resolution (the customer declined, or it was proposed in error)."""
    _require(resolution, "cancel")
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    _require_can_work(resolution.ticket, actor)
    resolution.cancel(reason=reason.strip())
    _save(resolution, actor=actor, reason=transition_reason("cancel", reason))
    return resolution


# --- the goods coming back -------------------------------------------------------------------
@transaction.atomic
def resolution_record_return(*, resolution: Resolution, actor: User, carrier: str,
                             tracking_number: str) -> Resolution:
    """Record the customer's return parcel (carrier and tracking number)."""
    if resolution.state != RS.AWAITING_RETURN:
        _require(resolution, "receive_return")  # raises the state conflict
    _require_can_work(resolution.ticket, actor)
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    errors = {}
    if not carrier:
        errors["carrier"] = _("Name the carrier.")
    if not tracking_number:
        errors["tracking_number"] = _("Enter the tracking number.")
    if errors:
        raise ValidationError(errors)
    resolution.return_carrier = carrier
    resolution.return_tracking_number = tracking_number
    resolution.return_shipped_at = timezone.now()
    _save(resolution, actor=actor, reason=f"return:shipped — {carrier} {tracking_number}")
    if resolution.auto_execute:
        # Refund on shipment (寄出即退): the rule trusts the tracking number.
        enqueue_on_commit("resolutions.tasks.resolution_execute_task", resolution.pk)
    return resolution


@transaction.atomic
def resolution_receive_return(*, resolution: Resolution, actor: User, note: str = "") -> Resolution:
    """The warehouse received the goods; the refund follows at once (48 h at the latest)."""
    _require(resolution, "receive_return")
    _require_can_work(resolution.ticket, actor)
    resolution.receive_return(at=timezone.now())
    _save(resolution, actor=actor, reason=transition_reason("receive_return", note))
    enqueue_on_commit("resolutions.tasks.resolution_execute_task", resolution.pk)
    return resolution


# --- executing -------------------------------------------------------------------------------
def _payment_requests(resolution: Resolution, order: Order) -> list[PaymentRequest]:
    key = str(resolution.idempotency_key)
    wanted = [
        (PayoutKind.REFUND, resolution.refund_amount, 0),
        (PayoutKind.COMPENSATION, resolution.compensation_amount, 0),
        (PayoutKind.COUPON, resolution.coupon_amount, 0),
        (PayoutKind.POINTS, Decimal("0.00"), resolution.points),
    ]
    return [
        PaymentRequest(idempotency_key=f"{key}:{kind}", kind=kind, amount=amount, points=points,
                       order_number=order.number, payment_channel=order.payment_channel)
        for kind, amount, points in wanted if amount > 0 or points > 0
    ]


def _begin_execution(*, resolution_id: int, actor: User | None
                     ) -> tuple[Resolution, list[PaymentRequest]]:
    """Reserve what will be paid and move to executing, in one transaction under the order lock."""
    with transaction.atomic():
        resolution = Resolution.objects.select_for_update(of=("self",)).select_related(
            "ticket__order", "order_item").get(pk=resolution_id)
        if resolution.state == RS.MANUAL_REVIEW:
            name = "retry"
        elif resolution.state == RS.FAILED:
            name = "retry_failed"
        else:
            name = "execute"
            if resolution.state == RS.AWAITING_RETURN and not (
                resolution.auto_execute and resolution.return_tracking_number
            ):
                raise Conflict(_("Wait until the returned goods are received."),
                               code="awaiting_return")
        _require(resolution, name)
        # The order row lock serialises every reservation of the order: the second of two
        # executions sees the first one's reserved rows, so together they cannot exceed it.
        order = Order.objects.select_for_update().get(pk=resolution.ticket.order_id)
        requests = _payment_requests(resolution, order)
        ledger.reserve(resolution=resolution, order=order, requests=requests, actor=actor)
        getattr(resolution, name)(at=timezone.now())
        _save(resolution, actor=actor, reason=transition_reason(name))
    return resolution, requests


def resolution_execute(*, resolution_id: int, actor: User | None = None) -> Resolution:
    """Pay out (or send) what was granted; a second call never pays twice.

    The amounts are reserved in the ledger before the gateway is called and the gateway is
    called outside any transaction; its answer is recorded afterwards: the rows paid and
    the resolution completed, or what was not paid released and the resolution failed.
    """
    resolution, requests = _begin_execution(resolution_id=resolution_id, actor=actor)
    return _pay_and_record(resolution, requests, actor=actor)


def _pay_and_record(resolution: Resolution, requests: list[PaymentRequest], *,
                    actor: User | None) -> Resolution:
    gateway = get_gateway()
    paid, failure = [], None
    for request in requests:
        try:
            paid.append((request, gateway.pay(request)))
        except PaymentFailed as refusal:
            PAYMENT_FAILURES.labels(kind=request.kind).inc()
            failure = refusal
            break

    # A legal hold placed while the gateway was paying does not stop recording what was paid.
    with transaction.atomic(), legal_holds.recording_settlement():
        current = Resolution.objects.select_for_update().filter(pk=resolution.pk).values_list(
            "state", flat=True).get()
        if current != RS.EXECUTING:
            return resolution  # recorded by another run (the stalled-execution sweep)
        ledger.mark_paid(resolution=resolution, paid=paid, actor=actor)
        if failure is not None:
            ledger.release_reserved(resolution=resolution, actor=actor)
            resolution.fail(reason=str(failure))
            _save(resolution, actor=actor, reason=transition_reason("fail", str(failure)))
        else:
            resolution.complete(at=timezone.now())
            _save(resolution, actor=actor, reason=transition_reason("complete"))
    return resolution


def resolution_finish_stalled(*, resolution_id: int) -> Resolution:
    """Finish an execution whose run died after reserving (a crash, a gateway timeout).

    The gateway is asked again with the same idempotency keys, so what it already paid is
    only replayed; the answer is recorded as usual and the reservation never stays behind.
    """
    resolution: Resolution = Resolution.objects.select_related(
        "ticket__order", "order_item").get(pk=resolution_id)
    if resolution.state != RS.EXECUTING:
        return resolution
    order = resolution.ticket.order
    assert order is not None  # resolutions are proposed on tickets with an order only
    return _pay_and_record(resolution, _payment_requests(resolution, order), actor=None)


@transaction.atomic
def resolution_review(*, resolution: Resolution, actor: User, note: str = "") -> Resolution:
    """Take a failed execution into manual review (contact the customer for another way)."""
    _require(resolution, "review")
    _require_can_work(resolution.ticket, actor)
    resolution.review()
    _save(resolution, actor=actor, reason=transition_reason("review", note))
    return resolution


@transaction.atomic
def resolution_complete_manually(*, resolution: Resolution, actor: User, note: str) -> Resolution:
    """Record a resolution settled outside the gateway, after manual review.

    What was settled goes into the ledger as paid payouts (reference "manual:" and the
    note), under the order lock and the same refund checks as a gateway payment.
    """
    _require(resolution, "complete_manually")
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say how it was settled.")})
    if resolution.approval_role:
        _check_approver(resolution, actor, check_limit=True)
    else:
        _require_can_work(resolution.ticket, actor)
    # A fresh, locked copy rather than refresh_from_db(), which unprotects the state field
    # for every thread of the process while it runs.
    resolution = Resolution.objects.select_for_update(of=("self",)).select_related(
        "ticket", "order_item").get(pk=resolution.pk)
    _require(resolution, "complete_manually")
    order_id = resolution.ticket.order_id
    assert order_id is not None  # resolutions are proposed on tickets with an order only
    order = Order.objects.select_for_update().get(pk=order_id)
    ledger.record_manual(resolution=resolution, order=order,
                         requests=_payment_requests(resolution, order), actor=actor,
                         reference=f"manual:{note}")
    resolution.complete_manually(at=timezone.now())
    _save(resolution, actor=actor, reason=transition_reason("complete_manually", note))
    return resolution


def resolution_retry(*, resolution: Resolution, actor: User) -> Resolution:
    """Execute again after manual review (same idempotency key: never a second payment)."""
    _require(resolution, "retry")
    _require_can_work(resolution.ticket, actor)
    return resolution_execute(resolution_id=resolution.pk, actor=actor)


# --- one entry point for the API and the pages ------------------------------------------------
RESOLUTION_TRANSITIONS = {
    "accept": ("note",),
    "approve": ("comment",),
    "reject": ("reason",),
    "cancel": ("reason",),
    "record_return": ("carrier", "tracking_number"),
    "receive_return": ("note",),
    "execute": (),
    "review": ("note",),
    "retry": (),
    "complete_manually": ("note",),
}


def resolution_available_transitions(*, resolution: Resolution, user: User) -> list[str]:
    """Return the names of the resolution transitions the user may take now."""

    works = can_work_on(resolution.ticket, user)
    approver = can_approve(resolution, user) and resolution.proposed_by_id != user.pk
    state = resolution.state
    names = []
    if works and state == RS.PROPOSED:
        names.append("accept")
    if approver and state == RS.ACCEPTED:
        names.append("approve")
    if approver and can_proceed(resolution.reject):
        names.append("reject")
    if works and can_proceed(resolution.cancel):
        names.append("cancel")
    if works and state == RS.AWAITING_RETURN:
        names += ["record_return", "receive_return"]
    if works and state in (RS.APPROVED, RS.RETURN_RECEIVED) and not (
        state == RS.APPROVED and resolution.needs_return
    ):
        names.append("execute")
    if works and state == RS.FAILED:
        names.append("review")
    if works and state == RS.MANUAL_REVIEW:
        names += ["retry", "complete_manually"]
    return names


def resolution_transition(*, resolution: Resolution, actor: User, name: str, **params: Any) -> Resolution:
    """Take the named transition with its inputs; refuse with 400, 403 or 409 semantics."""

    def text(key: str) -> str:
        return (params.get(key) or "").strip()

    if name == "accept":
        return resolution_accept(resolution=resolution, actor=actor, note=text("note"))
    if name == "approve":
        return resolution_approve(resolution=resolution, actor=actor, comment=text("comment"))
    if name == "reject":
        return resolution_reject(resolution=resolution, actor=actor, reason=text("reason"))
    if name == "cancel":
        return resolution_cancel(resolution=resolution, actor=actor, reason=text("reason"))
    if name == "record_return":
        return resolution_record_return(resolution=resolution, actor=actor,
                                        carrier=text("carrier"),
                                        tracking_number=text("tracking_number"))
    if name == "receive_return":
        return resolution_receive_return(resolution=resolution, actor=actor, note=text("note"))
    if name == "execute":
        _require_can_work(resolution.ticket, actor)
        if resolution.state == RS.APPROVED and resolution.needs_return:
            raise Conflict(_("Wait until the returned goods are received."),
                           code="awaiting_return")
        return resolution_execute(resolution_id=resolution.pk, actor=actor)
    if name == "review":
        return resolution_review(resolution=resolution, actor=actor, note=text("note"))
    if name == "retry":
        return resolution_retry(resolution=resolution, actor=actor)
    if name == "complete_manually":
        return resolution_complete_manually(resolution=resolution, actor=actor, note=text("note"))
    raise ValidationError({"name": _("Unknown transition “%(name)s”.") % {"name": name}})


@transaction.atomic
def resolution_review_automatically(*, resolution_id: int) -> Resolution:
    """Hand a resolution whose payment kept failing to manual review (the system acts)."""
    resolution: Resolution = Resolution.objects.select_for_update().get(pk=resolution_id)
    if resolution.state == RS.FAILED:
        resolution.review()
        _save(resolution, actor=None, reason=transition_reason("review", "automatic retries used up"))
    return resolution


# --- refusals the worker meets -----------------------------------------------------------------
# Codes of refusals that no later run of the same job can overcome: a person must decide.
REFERRED_REFUSALS = ("refund_exceeds_paid",)


def _people_to_tell(ticket: Ticket) -> list:
    """Return the assignee (or the team), the team's senior agents and the supervisors."""
    users = get_user_model().objects.filter(is_active=True)
    people = [ticket.assignee] if ticket.assignee_id else []
    if ticket.team_id:
        leads = Q(teams=ticket.team_id, groups__name=Role.SENIOR_AGENT)
        if not ticket.assignee_id:
            leads |= Q(teams=ticket.team_id, groups__name__in=[Role.AGENT,
                                                               Role.COMPLAINT_SPECIALIST])
        people += list(users.filter(leads))
    people += list(users.filter(groups__name=Role.SUPERVISOR))
    return list({user.pk: user for user in people if user is not None}.values())


def _approvers_of(resolution: Resolution) -> list:
    """Return the active people who may approve the resolution and can open its ticket.

    Their role may approve its approving role, their limit covers the amount, they did not
    propose it (maker-checker), and the ticket is one they read (their team's, theirs, not
    yet routed, or they read every ticket), so the notification never links to a 404.
    """
    ticket = resolution.ticket
    limits = dict(ApprovalLimit.objects.values_list("role", "max_amount"))
    candidates = (get_user_model().objects.filter(
        is_active=True, groups__name__in=[*APPROVAL_LADDER, Role.RISK_LEGAL])
        .distinct().prefetch_related("groups", "teams"))
    people = []
    for user in candidates:
        if user.pk == resolution.proposed_by_id:
            continue  # maker-checker
        roles = {group.name for group in user.groups.all()}
        limit = _largest_limit(limits[role] for role in roles if role in limits)
        reads_ticket = (bool(roles & set(SEE_ALL_ROLES)) or ticket.team_id is None
                        or ticket.assignee_id == user.pk
                        or any(team.pk == ticket.team_id for team in user.teams.all()))
        if (roles_may_approve(roles, resolution.approval_role) and reads_ticket
                and (limit is None or resolution.amount <= limit)):
            people.append(user)
    return people


def _tell_approvers(resolution: Resolution) -> None:
    """Tell whoever may approve the resolution that it waits for them (in the console)."""
    ticket = resolution.ticket
    proposer = resolution.proposed_by
    with translation.override(settings.LANGUAGE_CODE):
        kind = str(resolution.get_kind_display())
        proposer_name = str(proposer) if proposer is not None else str(_("System"))
    notifications.notify_many([
        notifications.Notification(
            template="resolution.awaiting_approval", channel="internal", ticket=ticket,
            user=user,
            context={"kind": kind, "amount": f"{resolution.amount:.2f}",
                     "proposer": proposer_name},
            dedupe_key=f"approval-waiting:{resolution.pk}:{user.pk}",
        )
        for user in _approvers_of(resolution)
    ])


def _tell_about_refusal(resolution: Resolution, reason: str) -> None:
    ticket = resolution.ticket
    notifications.notify_many([
        notifications.Notification(
            template="resolution.execution_refused", channel="internal", ticket=ticket,
            user=user, context={"reason": reason},
            dedupe_key=f"execution-refused:{resolution.pk}:{resolution.attempts}:{user.pk}",
        )
        for user in _people_to_tell(ticket)
    ])


@transaction.atomic
def resolution_refer_for_review(*, resolution_id: int, reason: str) -> Resolution:
    """Put an execution the money check refused into manual review and tell who must act."""
    resolution: Resolution = Resolution.objects.select_for_update(of=("self",)).select_related(
        "ticket__assignee").get(pk=resolution_id)
    if can_proceed(resolution.refer_for_review):
        resolution.refer_for_review(reason=reason)
        _save(resolution, actor=None, reason=transition_reason("refer_for_review", reason))
        _tell_about_refusal(resolution, reason)
    return resolution


def resolution_execute_for_worker(*, resolution_id: int) -> str:
    """Execute as the worker does: a refusal lands somewhere visible, never silently.

    A refund that no longer fits goes to manual review with the reason in failure_reason
    and the history, and the people who must act are notified. A legal hold freezes the
    resolution as it is (nothing may change it), so they are only notified. Any other
    refusal means someone acted on the resolution meanwhile. Return what happened.
    """
    # The state field's class is untyped in django-fsm-2 under Python 3.11: its values are str.
    state: str
    try:
        state = resolution_execute(resolution_id=resolution_id).state
        return state
    except Conflict as refusal:
        if refusal.code in REFERRED_REFUSALS:
            try:
                state = resolution_refer_for_review(resolution_id=resolution_id,
                                                    reason=refusal.message).state
                return state
            except Conflict as frozen:  # held meanwhile: it cannot move, so only tell
                refusal = frozen
        if refusal.code == "legal_hold":
            with transaction.atomic():
                resolution = Resolution.objects.select_related("ticket__assignee").get(
                    pk=resolution_id)
                _tell_about_refusal(resolution, refusal.message)
            return f"held: {resolution.state}"
        return f"skipped: {refusal.code}"
