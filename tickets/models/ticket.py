"""The ticket (工单): one customer request, its state machine and its audit history."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.db.compiled import CompiledQuery
from core.models.labels import LabelledName
from core.models.roles import WORKING_ROLES, Role
from core.services.audit_chain import ChainedHistory
from shop.models import Customer, CustomerTier, Order, OrderItem, mask_phone
from tickets.models.choices import (
    OPEN_STATES,
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    ItemCondition,
    Priority,
    RequestedResolution,
    RequestReason,
    TicketState,
    TicketType,
)
from tickets.models.team import Team

if TYPE_CHECKING:
    from tickets.models.timeline import Message


class Tag(LabelledName):
    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]


def user_team_ids(user) -> frozenset[int]:
    """Return the ids of the user's teams, cached on the user object for this request."""
    cached = getattr(user, "_team_ids", None)
    if cached is None:
        cached = frozenset(team_id for (team_id,) in _TEAM_IDS.rows(user_id=user.pk))
        user._team_ids = cached
    return cached


# Read on nearly every page: compiled once and prepared (core.db).
_TEAM_IDS = CompiledQuery(
    lambda user_id: Team.members.through.objects.filter(user_id=user_id).values_list("team_id"),
    "user_id", prepare=True,
)


def can_work_on(ticket: "Ticket", user) -> bool:
    """Return True if the user may act on the ticket.

    Supervisors may act on every ticket. On an assigned ticket only the assignee and the
    team's senior agents may act; an unassigned ticket is open to the members of its team
    who hold a working role (or to every working role while it has no team yet).
    QA inspectors never act: they read.
    """
    if not user.is_authenticated or not user.has_perm("tickets.change_ticket"):
        return False
    if user.has_role(Role.SUPERVISOR):
        return True
    if ticket.assignee_id is not None:
        if ticket.assignee_id == user.pk:
            return True
        return user.has_role(Role.SENIOR_AGENT) and ticket.team_id in user_team_ids(user)
    if not user.has_role(*WORKING_ROLES):
        return False
    return ticket.team_id is None or ticket.team_id in user_team_ids(user)


# How much of the customer's latest message a ticket keeps for the queues (characters).
LAST_MESSAGE_EXCERPT = 100


class Ticket(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    ticket_type = models.CharField(
        _("type"), max_length=20, choices=TicketType.choices, default=TicketType.AFTER_SALES
    )
    category = models.CharField(
        _("category"), max_length=24, choices=Category.choices, default=Category.OTHER
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.P2
    )
    complaint_level = models.CharField(
        _("complaint level"), max_length=8, choices=ComplaintLevel.choices,
        default=ComplaintLevel.NONE,
    )
    state = FSMField(
        _("state"), max_length=20, choices=TicketState.choices, default=TicketState.NEW,
        protected=True,
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    # The foreign keys of customer, team and assignee need no index of their own: an index
    # led by the column (ticket_customer_idx, ticket_team_urgency_idx,
    # ticket_assignee_urgency_idx) serves the same lookups, and one index fewer to write
    # keeps intake quicker.
    customer = models.ForeignKey(
        Customer, models.PROTECT, related_name="tickets", verbose_name=_("customer"),
        db_index=False,
    )
    order = models.ForeignKey(
        Order, models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("order"),
    )
    order_item = models.ForeignKey(
        OrderItem, models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("order item"),
    )
    team = models.ForeignKey(
        Team, models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("team"), db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="assigned_tickets", verbose_name=_("assignee"), db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="created_tickets", verbose_name=_("created by"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))

    # The customer's after-sales request, where there is one.
    request_reason = models.CharField(
        _("request reason"), max_length=20, choices=RequestReason.choices, blank=True
    )
    item_condition = models.CharField(
        _("item condition (as reported)"), max_length=10, choices=ItemCondition.choices,
        blank=True,
    )
    requested_resolution = models.CharField(
        _("requested resolution"), max_length=16, choices=RequestedResolution.choices,
        blank=True,
    )
    # The customer asks for the compensation the law grants (CRPL art. 55: three times the
    # price; Food Safety Law art. 148: ten times), not the platform's; the policy rows differ.
    claims_statutory = models.BooleanField(
        _("claims statutory compensation"), default=False, db_default=False)

    # What the caller said about themselves where it differs from the customer record. Intake
    # matches an existing customer but never rewrites it; the agent sees the difference.
    reported_name = models.CharField(_("reported name"), max_length=100, blank=True)
    reported_phone = models.CharField(_("reported phone"), max_length=32, blank=True)
    reported_tier = models.CharField(
        _("reported tier"), max_length=8, choices=CustomerTier.choices, blank=True
    )

    waiting_on = models.CharField(
        _("waiting on"), max_length=12, choices=Collaborator.choices, blank=True
    )
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    # What the queues show of the conversation, kept by the message service so that a queue
    # row reads it from the ticket instead of from the timeline. The customer's latest
    # words (an inbound message or a phone call summary), trimmed; and how long the customer
    # has waited for us: since their oldest message that no reply has followed yet (NULL once
    # we replied after it). Derived from the messages, which keep their own history.
    last_customer_message = models.CharField(
        _("last customer message"), max_length=LAST_MESSAGE_EXCERPT, blank=True, default="",
        editable=False)
    last_customer_message_at = models.DateTimeField(
        _("last customer message at"), null=True, blank=True, editable=False)
    customer_waiting_since = models.DateTimeField(
        _("customer waiting since"), null=True, blank=True, editable=False)
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    cancel_reason = models.CharField(
        _("cancel reason"), max_length=12, choices=CancelReason.choices, blank=True
    )
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged_tickets",
        verbose_name=_("merged into"),
    )

    # SLA clock. Due times move forward by the time spent waiting on the customer.
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("seconds paused"), default=0)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # What the SLA sweeps have done, so each timer fires once (and reports can count breaches).
    first_response_reminded_at = models.DateTimeField(_("first-response reminder sent at"),
                                                      null=True, blank=True)
    first_response_breached_at = models.DateTimeField(_("first response breached at"),
                                                      null=True, blank=True)
    resolution_breached_at = models.DateTimeField(_("resolution breached at"), null=True,
                                                  blank=True)
    priority_raised_at = models.DateTimeField(_("priority raised by the SLA at"), null=True,
                                              blank=True)

    created_at = models.DateTimeField(_("created at"))  # indexed with the id: ticket_created_idx
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # History is read by ticket (id), by time (history_date: reports, retention) and by who
    # acted (history_user). Each ticket gets several history rows, each row writes every
    # index of the table: the indexes simple_history would copy from the ticket's own
    # (number, the related rows) are left out, as no history query uses them.
    history = HistoricalRecords(excluded_fields=[
        "updated_at", "last_customer_message", "last_customer_message_at",
        "customer_waiting_since"], m2m_fields=[tags], bases=[ChainedHistory],
        no_db_index=["number", "customer", "order", "order_item", "team", "assignee",
                     "created_by", "merged_into"])

    # Set by tickets.services.tickets.ticket_create: the new ticket's first message, if any.
    opening_message: "Message | None"
    # Held by ticket_create between the INSERT and the creation's history rows: the audited
    # values as they were before routing assigned the ticket, and when it was created.
    _creation_values: dict[str, object]
    _creation_time: datetime
    # django-simple-history reads this instance attribute: True saves without a history row.
    skip_history_when_saving: bool

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["priority", "created_at"]
        permissions = [
            ("assign_ticket", _("Can assign tickets to others")),
            ("escalate_ticket", _("Can escalate tickets")),
        ]
        indexes = [
            # The REST list pages by cursor over (priority, created_at, id) ("urgency") or
            # (created_at, id): each ordering has an index on exactly its key, so every page
            # is an index range read. Its filters that are selective enough to matter lead an
            # index that ends in the urgency key, so that filter and order are one range read
            # too: state, team, assignee, category, and the rare complaint levels. The
            # others (priority leads the urgency key itself; channel and complaint level
            # "none" match a large share of tickets) read the ordering's index and skip the
            # rows that do not match; a customer's few tickets are sorted in memory.
            models.Index(fields=["priority", "created_at", "id"], name="ticket_urgency_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_created_idx"),
            models.Index(fields=["state", "priority", "created_at", "id"],
                         name="ticket_state_urgency_idx"),
            models.Index(fields=["team", "priority", "created_at", "id"],
                         name="ticket_team_urgency_idx"),
            models.Index(fields=["assignee", "priority", "created_at", "id"],
                         name="ticket_assignee_urgency_idx"),
            models.Index(fields=["category", "priority", "created_at", "id"],
                         name="ticket_category_urgency_idx"),
            # Tickets still being worked on are the newest, so "oldest first" filtered by one
            # of their states would walk past every closed ticket in ticket_created_idx; this
            # index reads them in creation order at once. Closed and cancelled tickets, the
            # bulk of the table, are left out: they spread over all time.
            models.Index(fields=["state", "created_at", "id"], name="ticket_live_created_idx",
                         condition=Q(state__in=[*OPEN_STATES, TicketState.RESOLVED])),
            # Complaints are about one ticket in ten: the index leaves the rest out.
            models.Index(fields=["complaint_level", "priority", "created_at", "id"],
                         name="ticket_complaint_urgency_idx",
                         condition=~Q(complaint_level=ComplaintLevel.NONE)),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            # SLA sweeps look only at open tickets not yet acted on, in due order with the id
            # as tie-breaker (their ORDER BY): partial indexes on PostgreSQL and SQLite.
            models.Index(
                fields=["first_response_due_at", "id"], name="ticket_frt_due_open_idx",
                condition=Q(first_response_at__isnull=True, first_response_reminded_at__isnull=True,
                            state__in=list(OPEN_STATES)),
            ),
            models.Index(
                fields=["resolution_due_at", "id"], name="ticket_res_due_open_idx",
                condition=Q(resolution_breached_at__isnull=True, state__in=list(OPEN_STATES)),
            ),
            models.Index(
                fields=["priority", "complaint_level", "created_at"],
                name="ticket_unraised_open_idx",
                condition=Q(priority_raised_at__isnull=True, state__in=list(OPEN_STATES)),
            ),
            models.Index(
                fields=["waiting_since"], name="ticket_waiting_internal_idx",
                condition=Q(state=TicketState.PENDING_INTERNAL),
            ),
            models.Index(
                fields=["resolved_at"], name="ticket_resolved_idx",
                condition=Q(state=TicketState.RESOLVED),
            ),
            # The console's queues: open tickets in working order (priority, age, id), whole
            # or per assignee or team, so a page of rows is read off an index without sorting.
            models.Index(
                fields=["priority", "created_at", "id"], name="ticket_open_queue_idx",
                condition=Q(state__in=list(OPEN_STATES)),
            ),
            models.Index(
                fields=["assignee", "priority", "created_at", "id"], name="ticket_open_mine_idx",
                condition=Q(state__in=list(OPEN_STATES)),
            ),
            models.Index(
                fields=["team", "priority", "created_at", "id"], name="ticket_open_team_idx",
                condition=Q(state__in=list(OPEN_STATES)),
            ),
            # The at-risk and breached queues, and "resolution due first" everywhere.
            models.Index(
                fields=["resolution_due_at", "id"], name="ticket_open_due_idx",
                condition=Q(state__in=list(OPEN_STATES)),
            ),
            # The dashboard's daily roll-up reads one day of first responses and closings.
            models.Index(fields=["first_response_at"], name="ticket_first_response_idx"),
            models.Index(fields=["closed_at"], name="ticket_closed_at_idx"),
            # The dashboard's live backlog: an index-only count of open tickets by team/state.
            models.Index(fields=["team", "state"], name="ticket_backlog_open_idx",
                         condition=Q(state__in=list(OPEN_STATES))),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def has_reported_contact(self) -> bool:
        """Whether the caller described themselves differently from the customer record."""
        return bool(self.reported_name or self.reported_phone or self.reported_tier)

    @property
    def masked_reported_phone(self) -> str:
        return mask_phone(self.reported_phone) if self.reported_phone else ""

    @property
    def next_update_due_at(self):
        """When the customer next hears how the ticket is going (None: no update planned).

        Read from the ticket's CustomerUpdateClock; select_related("update_clock") reads it
        in the ticket's own query.
        """
        clock = getattr(self, "update_clock", None)  # a missing row raises AttributeError
        return clock.due_at if clock is not None else None

    # The admin's label for the property (it reads fget.short_description).
    next_update_due_at.fget.short_description = _(  # type: ignore[attr-defined]
        "next customer update due")

    # --- transition conditions -------------------------------------------------------

    def has_resolution_summary(self) -> bool:
        return bool(self.resolution_summary.strip())

    def has_no_open_resolutions(self) -> bool:
        if self.pk is None:
            return True
        # Resolutions sit above tickets: their model is reached through the relation it
        # declares (Resolution.ticket, related_name "resolutions"), not imported.
        resolutions = self.resolutions
        return not resolutions.filter(state__in=resolutions.model.OPEN_STATES).exists()

    def has_cancel_reason(self) -> bool:
        return bool(self.cancel_reason)

    def has_assignee(self) -> bool:
        return self.assignee_id is not None

    def has_collaborator(self) -> bool:
        return bool(self.waiting_on)

    # --- transitions: change fields on self only; services persist them ---------------
    # django-fsm-2 types `conditions` and `permission` as callables taking any Model, so the
    # ticket's own checks do not fit its annotation (here and below).
    @transition(field=state, source=TicketState.NEW, target=TicketState.ASSIGNED,
                conditions=[has_assignee], permission=can_work_on)  # type: ignore[arg-type, list-item]
    def assign(self) -> None:
        """Hand the ticket to its assignee (set before the call)."""

    @transition(field=state, source=TicketState.ASSIGNED, target=TicketState.NEW,
                permission=can_work_on)  # type: ignore[arg-type]
    def unassign(self) -> None:
        """Put an assigned ticket back in its team queue."""
        self.assignee = None

    @transition(field=state, source=TicketState.ASSIGNED, target=TicketState.IN_PROGRESS,
                conditions=[has_assignee], permission=can_work_on)  # type: ignore[arg-type, list-item]
    def respond(self) -> None:
        """Start working the ticket: the first answer to the customer has gone out."""

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.PENDING_CUSTOMER,
                permission=can_work_on)  # type: ignore[arg-type]
    def wait_for_customer(self, *, at) -> None:
        """Wait for the customer's answer; the SLA clock stops meanwhile."""
        self.paused_at = at

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.PENDING_INTERNAL,
                conditions=[has_collaborator], permission=can_work_on)  # type: ignore[arg-type, list-item]
    def wait_for_internal(self, *, at) -> None:
        """Wait on another department (logistics, warehouse, supplier, finance, tech)."""
        self.waiting_since = at

    @transition(field=state,
                source=[TicketState.PENDING_CUSTOMER, TicketState.PENDING_INTERNAL],
                target=TicketState.IN_PROGRESS, permission=can_work_on)  # type: ignore[arg-type]
    def resume(self, *, at) -> None:
        """Take the ticket up again; time spent waiting on the customer moves the due times."""
        if self.paused_at is not None:
            paused = at - self.paused_at
            self.paused_seconds += max(int(paused.total_seconds()), 0)
            for field in ("first_response_due_at", "resolution_due_at"):
                due = getattr(self, field)
                if due is not None:
                    setattr(self, field, due + paused)
            self.paused_at = None
        self.waiting_on = ""
        self.waiting_since = None

    @transition(field=state, source=TicketState.IN_PROGRESS, target=TicketState.RESOLVED,
                conditions=[has_resolution_summary, has_no_open_resolutions],  # type: ignore[list-item]
                permission=can_work_on)  # type: ignore[arg-type]
    def resolve(self, *, at) -> None:
        """Mark the request solved; the customer may still object (reopen)."""
        self.resolved_at = at

    @transition(field=state, source=TicketState.RESOLVED, target=TicketState.CLOSED,
                permission=can_work_on)  # type: ignore[arg-type]
    def close(self, *, at) -> None:
        """Close the ticket for good; it is now open for QA sampling and the survey."""
        self.closed_at = at

    @transition(field=state, source=TicketState.RESOLVED, target=TicketState.IN_PROGRESS,
                permission=can_work_on)  # type: ignore[arg-type]
    def reopen(self) -> None:
        """Take a resolved ticket up again because the customer is not satisfied."""
        self.reopened_count += 1
        self.resolved_at = None

    @transition(field=state,
                source=[TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS],
                target=TicketState.CANCELLED, conditions=[has_cancel_reason],  # type: ignore[list-item]
                permission=can_work_on)  # type: ignore[arg-type]
    def cancel(self, *, at) -> None:
        """Cancel a duplicate, spam or withdrawn request."""
        self.closed_at = at
