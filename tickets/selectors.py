"""Reads shared by the console pages and the API, each in a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Exists,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from core.db.compiled import CompiledQuery
from core.db.prepared import prepared_statements
from core.models.labels import pick_label
from core.models.names import person_name
from core.models.roles import Role
from core.services.exceptions import NotFound
from shop.models import Customer, CustomerTier
from tickets.models import (
    OPEN_STATES,
    PRESENCE_TTL,
    Attachment,
    ComplaintLevel,
    LegalHold,
    Message,
    MessageKind,
    Team,
    Ticket,
    TicketState,
    TicketViewer,
    user_team_ids,
)

NO_SUCH_TICKET = gettext_lazy("No ticket %(number)s that you may read.")

# Roles that may read every ticket: they supervise, review or investigate.
SEE_ALL_ROLES = (Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL)


def ticket_visible_to(user) -> QuerySet[Ticket]:
    """Return the tickets the user may read.

    Supervisors, QA and risk/legal read everything, and so does a channel integration (a
    customer may write on any of their tickets); others read their teams' tickets, tickets
    assigned to them and tickets not yet routed to a team.
    """
    if not user.has_perm("tickets.view_ticket"):
        return Ticket.objects.none()
    # Everyone who reads a ticket sees whether it is under a legal hold.
    tickets = with_legal_hold(Ticket.objects.all())
    if user.has_role(*SEE_ALL_ROLES) or user.has_perm("tickets.record_inbound_message"):
        return tickets
    return tickets.filter(
        Q(team__in=list(user_team_ids(user))) | Q(assignee=user) | Q(team__isnull=True)
    )


# The list's filters that name a related row by its key (a team's code, a user's name, a
# customer's number) rather than by id: {filter: (ticket field, related model, key field)}.
_LIST_FILTERS_BY_KEY: dict[str, tuple[str, type[Model], str]] = {
    "team": ("team", Team, "code"),
    "assignee": ("assignee", get_user_model(), "username"),
    "customer": ("customer", Customer, "external_id"),
}
_LIST_FILTERS = {
    "state": "state",
    "priority": "priority",
    "category": "category",
    "channel": "channel",
    "complaint_level": "complaint_level",
}


def ticket_list(*, user, filters: dict | None = None) -> QuerySet[Ticket]:
    """Return the user's visible tickets with what a list row shows, most urgent first."""
    filters = filters or {}
    tickets = ticket_visible_to(user).select_related("customer", "order", "team", "assignee",
                                                     "update_clock")
    for key, (ticket_field, model, key_field) in _LIST_FILTERS_BY_KEY.items():
        value = filters.get(key)
        if value not in (None, ""):
            # Look the id up first (one small query) and filter on it, rather than join on
            # the code: with the id in hand the database knows how many tickets match and
            # seeks the index led by that column, instead of guessing and walking every
            # visible ticket to find the few of a small team.
            the_id = model._default_manager.filter(**{key_field: value}).values_list(
                "pk", flat=True).first()
            if the_id is None:
                return Ticket.objects.none()
            tickets = tickets.filter(**{ticket_field: the_id})
    for key, lookup in _LIST_FILTERS.items():
        value = filters.get(key)
        if value not in (None, ""):
            tickets = tickets.filter(**{lookup: value})
    return tickets.prefetch_related("tags").order_by("priority", "created_at", "id")


def _with_timeline(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related(
        "customer", "order", "order_item", "team", "assignee", "merged_into", "update_clock"
    ).prefetch_related(
        "tags",
        Prefetch(
            "messages",
            queryset=Message.objects.select_related("author").prefetch_related(
                Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
            ),
        ),
        Prefetch(
            "attachments",
            queryset=Attachment.objects.filter(message__isnull=True),
            to_attr="loose_attachments",
        ),
    )


def ticket_get_for_user(*, user, number: str, with_timeline: bool = False) -> Ticket:
    """Return the ticket if the user may read it; raise Http404 otherwise."""
    tickets = ticket_visible_to(user)
    tickets = _with_timeline(tickets) if with_timeline else tickets.select_related(
        "customer", "order", "order_item", "team", "assignee", "update_clock"
    )
    try:
        return tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise Http404(number) from None


def ticket_target_for_user(*, user, number: str, field_name: str) -> Ticket:
    """Return a ticket named in a request's input (a merge target) if the user may read it.

    A missing ticket and one the user may not read answer alike (NotFound, HTTP 404).
    """

    ticket = ticket_visible_to(user).filter(number=number).first()
    if ticket is None:
        raise NotFound(NO_SUCH_TICKET % {"number": number}, field=field_name)
    return ticket


def ticket_get_with_timeline(*, number: str) -> Ticket:
    """Return the ticket with its timeline, for answering the user who just changed it.

    An escalation can move a ticket out of the actor's sight; they still get to see the
    result of their own action.
    """
    return _with_timeline(Ticket.objects.all()).get(number=number)


# Compare only the ticket's own editable, audited columns; tags (many-to-many) would cost a
# query per history row.
_AUDITED = {field.name for field in Ticket.history.model._meta.concrete_fields}
# A phone number a caller reported is shown masked only; it never appears in the trail.
_HISTORY_FIELDS = [
    field.name for field in Ticket._meta.concrete_fields
    if field.editable and field.name not in ("id", "reported_phone") and field.name in _AUDITED
]


def ticket_history(*, ticket: Ticket) -> list[dict]:
    """Return the ticket's audit trail, oldest first: who, when, why and what changed."""
    records = list(ticket.history.select_related("history_user").order_by("history_date", "history_id"))
    trail = []
    previous = None
    for record in records:
        changes: list[dict[str, object]] = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=_HISTORY_FIELDS)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        trail.append(
            {
                "id": record.history_id,
                "at": record.history_date,
                "actor": record.history_user.username if record.history_user else None,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                "reason": record.history_change_reason or "",
                "state": record.state,
                "changes": changes,
            }
        )
        previous = record
    return trail


# --- the console's queues -------------------------------------------------------------------
@dataclass(frozen=True)
class Queue:
    key: str
    label: str | Promise
    description: str | Promise
    default_sort: str = "priority"


QUEUES: dict[str, Queue] = {
    queue.key: queue
    for queue in [
        Queue("mine", gettext_lazy("Mine"), gettext_lazy("Open tickets assigned to you")),
        Queue("team", gettext_lazy("My teams"), gettext_lazy("Open tickets of your teams")),
        Queue("unassigned", gettext_lazy("Unassigned"),
              gettext_lazy("Open tickets nobody has taken yet")),
        Queue("at_risk", gettext_lazy("At risk"),
              gettext_lazy("Resolution due within the next two hours"), "due"),
        Queue("breached", gettext_lazy("Breached"),
              gettext_lazy("Past their resolution time"), "due"),
        Queue("escalated", gettext_lazy("Escalated"), gettext_lazy("Complaints of every level")),
        Queue("waiting_customer", gettext_lazy("Waiting on customer"),
              gettext_lazy("The SLA clock is paused until the customer answers")),
        Queue("waiting_internal", gettext_lazy("Waiting on collaboration"),
              gettext_lazy("Waiting on logistics, warehouse, supplier, finance or tech")),
    ]
}
AT_RISK_WINDOW = timedelta(hours=2)
SORTS = {
    "priority": ("priority", "created_at", "id"),
    "oldest": ("created_at", "id"),
    "newest": ("-created_at", "-id"),
    "due": ("resolution_due_at", "id"),
}
QUEUE_PAGE_SIZE = 50
# The columns a queue row shows (and its SLA badge reads), in QueueRow's order; the rest stay
# in the database.
QUEUE_ROW_COLUMNS = (
    "id", "number", "subject", "priority", "state", "complaint_level", "category", "channel",
    "created_at", "first_response_at", "first_response_due_at", "resolution_due_at",
    "customer__name", "customer__tier", "team_id", "team__name",
    "assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name",
    "last_customer_message", "customer_waiting_since",
)


@dataclass(slots=True)
class QueueRow:
    """What one queue row shows, read as plain values.

    Fifty tickets with their customer, team and assignee would be two hundred model
    instances per page; building them cost more than the query itself. The SLA badge reads
    the same attribute names as on a Ticket.
    """

    pk: int
    number: str
    subject: str
    priority: int
    state: str
    complaint_level: str
    category: str
    channel: str
    created_at: object
    first_response_at: object
    first_response_due_at: object
    resolution_due_at: object
    customer_name: str
    customer_tier: str
    team_id: int | None
    team_name: str | None
    assignee_id: int | None
    assignee_username: str | None
    assignee_first_name: str | None
    assignee_last_name: str | None
    last_customer_message: str
    customer_waiting_since: object
    tag_names: list = field(default_factory=list)

    @property
    def customer_is_vip(self) -> bool:
        return self.customer_tier in (CustomerTier.VIP, CustomerTier.SVIP)

    @property
    def assignee_name(self) -> str:
        """The assignee as User.__str__ names them ("" when unassigned)."""
        if self.assignee_id is None:
            return ""
        # An assigned ticket's assignee columns are never NULL (the join found the user).
        return _person(self.assignee_first_name or "", self.assignee_last_name or "",
                       self.assignee_username or "")


# Offset paging stays cheap for the first pages only; deeper than this, narrow the filters.
QUEUE_MAX_PAGES = 20


def _queue_tickets(user, queue: str, now) -> QuerySet[Ticket]:
    """Return the open tickets of one queue that the user may read."""
    if not user.has_perm("tickets.view_ticket"):
        return Ticket.objects.none()
    return _queue_filter(queue, user_id=user.pk, teams=sorted(user_team_ids(user)),
                         sees_all=user.has_role(*SEE_ALL_ROLES), now=now)


def _queue_filter(queue: str, *, user_id: int, teams: list[int], sees_all: bool,
                  now) -> QuerySet[Ticket]:
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES)
    # The first three queues lie inside what the user may read, so they skip the broader
    # visibility filter (an OR the planner cannot serve from one index).
    if queue == "mine":
        return open_tickets.filter(assignee_id=user_id)
    if queue == "team":
        if sees_all and not teams:
            return open_tickets.filter(team__isnull=False)
        return open_tickets.filter(team__in=teams)
    if queue == "unassigned":
        unassigned = open_tickets.filter(assignee__isnull=True)
        if sees_all:
            return unassigned
        return unassigned.filter(Q(team__in=teams) | Q(team__isnull=True))
    visible = open_tickets if sees_all else open_tickets.filter(
        Q(team__in=teams) | Q(assignee_id=user_id) | Q(team__isnull=True))
    if queue == "at_risk":
        return visible.filter(resolution_due_at__gte=now,
                              resolution_due_at__lt=now + AT_RISK_WINDOW)
    if queue == "breached":
        return visible.filter(resolution_due_at__lt=now)
    if queue == "escalated":
        return visible.exclude(complaint_level=ComplaintLevel.NONE)
    if queue == "waiting_customer":
        return visible.filter(state=TicketState.PENDING_CUSTOMER)
    if queue == "waiting_internal":
        return visible.filter(state=TicketState.PENDING_INTERNAL)
    raise Http404(queue)


# The queues whose rows depend on the time of the request: their query is built each time.
_QUEUES_BY_TIME = ("at_risk", "breached")
# An unfiltered page's rows query, compiled once per shape (core.db.compiled): nearly every
# page view is a queue as it opens, and building and compiling its query cost more Python
# than reading its fifty rows. A shape is what changes the SQL besides the ids.
_COMPILED_PAGES: dict[tuple, CompiledQuery] = {}


def _compiled_page(queue: str, *, sort: str, start: int, sees_all: bool,
                   team_count: int) -> CompiledQuery:
    shape = (queue, sort, start, sees_all, team_count)
    compiled = _COMPILED_PAGES.get(shape)
    if compiled is None:
        team_names = tuple(f"team_{index}" for index in range(team_count))

        def build(**ids: int) -> QuerySet:
            teams = [ids[name] for name in team_names if name in ids]
            return (_queue_filter(queue, user_id=ids.get("user_id", 0), teams=teams,
                                  sees_all=sees_all, now=None)
                    .order_by(*SORTS[sort]).values_list(*QUEUE_ROW_COLUMNS)
                    [start:start + QUEUE_PAGE_SIZE + 1])

        # Prepared, with the states written in: planning the four-table join took longer
        # than running it, and with the states as literals the plan PostgreSQL keeps for
        # any ids still reads the open-ticket partial indexes.
        compiled = _COMPILED_PAGES[shape] = CompiledQuery(
            build, *_page_ids(queue, sees_all, team_names), prepare=True,
            literal_constants=True)
    return compiled


def _page_ids(queue: str, sees_all: bool, team_names: tuple[str, ...]) -> tuple[str, ...]:
    """The ids a queue's query takes, as _queue_filter uses them."""
    if queue == "mine":
        return ("user_id",)
    if queue == "team":
        return team_names
    if sees_all:
        return ()
    return team_names if queue == "unassigned" else ("user_id", *team_names)


# The fields a queue page filters on by equality.
_FILTER_FIELDS = ("priority", "category", "channel", "complaint_level")


def _page_rows(user, queue: str, filters: dict, sort: str, start: int, now) -> list[tuple]:
    """The page's rows (one more than a page, to tell whether another follows)."""
    if not user.has_perm("tickets.view_ticket"):
        return []
    teams = sorted(user_team_ids(user))
    sees_all = user.has_role(*SEE_ALL_ROLES)
    if (queue not in _QUEUES_BY_TIME and not _narrowed(filters)
            and (teams or sees_all or queue != "team")):  # else: no team, no rows to read
        ids = {f"team_{index}": team for index, team in enumerate(teams)} | {"user_id": user.pk}
        compiled = _compiled_page(queue, sort=sort, start=start, sees_all=sees_all,
                                  team_count=len(teams))
        return compiled.rows(**{name: ids[name] for name in compiled.names})
    tickets = _queue_filter(queue, user_id=user.pk, teams=teams, sees_all=sees_all, now=now)
    for key in _FILTER_FIELDS:
        value = filters.get(key)
        if value not in (None, ""):
            tickets = tickets.filter(**{key: value})
    if filters.get("vip"):
        tickets = tickets.filter(customer__tier__in=[CustomerTier.VIP, CustomerTier.SVIP])
    if "tag_id" in filters:
        tickets = tickets.filter(Exists(
            Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"),
                                               tag_id=filters["tag_id"])))
    return list(tickets.order_by(*SORTS[sort]).values_list(*QUEUE_ROW_COLUMNS)
                [start:start + QUEUE_PAGE_SIZE + 1])


def _narrowed(filters: dict) -> bool:
    return (any(filters.get(key) not in (None, "") for key in _FILTER_FIELDS)
            or bool(filters.get("vip")) or "tag_id" in filters)


# A queue tab counts its tickets up to this many; more show as "99+". Counting every open
# ticket of a large queue would read the whole index range on each page view; a LIMIT stops
# each count after a hundred index entries, so the tabs cost the same at any table size.
QUEUE_COUNT_CAP = 100


def capped_counts(querysets: dict[str, QuerySet], cap: int = QUEUE_COUNT_CAP) -> dict[str, int]:
    """Count each queryset's rows up to `cap`, all in one statement.

    SELECT (SELECT COUNT(*) FROM (... LIMIT cap)), ...: each count stops after `cap` rows of
    the index its filter reads, so the cost does not grow with the table.
    """
    parts: list[str] = []
    params: list[Any] = []
    for index, tickets in enumerate(querysets.values()):
        capped = tickets.order_by().values("pk")[:cap]
        try:
            sql, sql_params = capped.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing, such as the teams of nobody
            parts.append("0")
            continue
        # The SQL is Django's own, with every value left to the parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS q{index})")  # noqa: S608
        params.extend(sql_params)
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {key: int(count) for key, count in zip(querysets, row, strict=True)}


def queue_counts(*, user, now=None) -> dict[str, int]:
    """Return how many tickets each queue holds, each at most QUEUE_COUNT_CAP, in one query.

    Each count reads the same filter (and so the same partial index) as its queue, stopping
    at the cap. A count equal to the cap means "that many or more".
    """
    now = now or timezone.now()
    return capped_counts({key: _queue_tickets(user, key, now) for key in QUEUES})


@dataclass
class QueuePage:
    queue: Queue
    tickets: list
    number: int
    has_next: bool
    at_cap: bool
    sort: str

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def ticket_queue_page(*, user, queue: str, filters: dict | None = None, sort: str = "",
                      page: int = 1, now=None) -> QueuePage:
    """Return one page of a queue with what its rows show, in a fixed number of queries.

    No COUNT: one row more than the page is read to know whether another page follows.
    """
    if queue not in QUEUES:
        raise Http404(queue)
    spec = QUEUES[queue]
    now = now or timezone.now()
    filters = filters or {}
    sort = sort if sort in SORTS else spec.default_sort
    page = min(max(page, 1), QUEUE_MAX_PAGES)
    start = (page - 1) * QUEUE_PAGE_SIZE
    rows = [QueueRow(*values) for values in _page_rows(user, queue, filters, sort, start, now)]
    has_more = len(rows) > QUEUE_PAGE_SIZE
    rows = rows[:QUEUE_PAGE_SIZE]
    # Tag labels as plain tuples: no Tag objects to build for fifty rows.
    by_id = {row.pk: row for row in rows}
    language = get_language() or ""
    # By the page's ticket ids: prepared, as its plan is the same for any (core.db.prepared).
    with prepared_statements():
        tag_rows = list(Ticket.tags.through.objects.filter(ticket_id__in=list(by_id))
                        .order_by("tag__name").values_list("ticket_id", "tag__name",
                                                           "tag__label_zh"))
    for ticket_id, name, label_zh in tag_rows:
        by_id[ticket_id].tag_names.append(pick_label(name, label_zh, language))
    return QueuePage(
        queue=spec, tickets=rows, number=page,
        has_next=has_more and page < QUEUE_MAX_PAGES,
        at_cap=has_more and page >= QUEUE_MAX_PAGES, sort=sort,
    )


def _person(first_name: str, last_name: str, username: str) -> str:
    """Name a user as User.__str__ does (full name, else username), from plain values."""
    return person_name(first_name, last_name, username)


# The workspace shows this many of the latest messages; earlier ones load a page at a time.
TIMELINE_PAGE_SIZE = 30
# Ticket history reasons that the timeline already shows as a message.
_SHOWN_AS_MESSAGE = ("reply", "first_response")


def _within(field: str, since, until) -> Q:
    """Return the lookup of `since <= field < until`, either bound left out when None."""
    span = Q()
    if since is not None:
        span &= Q(**{f"{field}__gte": since})
    if until is not None:
        span &= Q(**{f"{field}__lt": until})
    return span


@dataclass
class TimelinePage:
    items: list[dict]  # messages, loose attachments and recorded actions, oldest first
    earlier: int | None  # the `before` of the previous page, None when this one is the first


def ticket_timeline_page(*, ticket: Ticket, before: int | None = None,
                         size: int = TIMELINE_PAGE_SIZE) -> TimelinePage:
    """Return a page of the ticket's timeline: `size` messages before message `before`
    (the latest without it), with the attachments and recorded actions of their time span.

    Messages page by keyset on their id (ids grow with time: messages are only appended).
    A page spans from its oldest message (the beginning of time on the first page) to the
    oldest message of the page after it, so each loose attachment and recorded action
    shows on exactly one page. Three queries, plain dicts: a long conversation would
    otherwise spend more time building model instances than reading rows.
    """
    messages = Message.objects.filter(ticket=ticket)
    if before is not None:
        messages = messages.filter(id__lt=before)
    rows = list(messages.order_by("-id").values(
        "id", "kind", "channel", "body", "created_at", "author_id", "author__first_name",
        "author__last_name", "author__username")[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    # The page's span: from its oldest message (if earlier ones exist) to the next page's.
    since = rows[-1]["created_at"] if more else None
    until = Subquery(Message.objects.filter(ticket=ticket, id=before).values("created_at")[:1]
                     ) if before is not None else None
    files: dict[int | None, list[dict[str, object]]] = {}
    attachments = Attachment.objects.filter(ticket=ticket).filter(
        Q(message_id__in=[row["id"] for row in rows])
        | (Q(message__isnull=True) & _within("created_at", since, until)))
    if not getattr(ticket, "has_attachments", True):  # known to have no files: no read
        attachments = attachments.none()
    for row in attachments.order_by("created_at", "id").values(
            "id", "message_id", "evidence_kind", "file", "label", "size", "created_at"):
        # No storage URL: the page links the console's permission-checked download.
        files.setdefault(row["message_id"], []).append({**row})
    items: list[dict[str, Any]] = []
    for message_row in reversed(rows):
        # The author's name parts become one "author"; the rest of the row is the message.
        message: dict[str, object] = {key: value for key, value in message_row.items()
                                      if not key.startswith("author__")}
        message["author"] = _person(
            message_row["author__first_name"] or "", message_row["author__last_name"] or "",
            message_row["author__username"] or "") if message_row["author_id"] else ""
        message["attachments"] = files.get(message_row["id"], [])
        items.append({"type": "message", "at": message["created_at"], "message": message})
    items += [{"type": "attachment", "at": attachment["created_at"], "attachment": attachment}
              for attachment in files.get(None, [])]
    history = ticket.history.filter(_within("history_date", since, until))
    for record in history.select_related("history_user").order_by("history_date", "history_id"):
        reason = record.history_change_reason or ""
        if reason.split(" — ")[0] not in _SHOWN_AS_MESSAGE:
            items.append({"type": "event", "at": record.history_date, "record": record})
    # A stable sort: messages keep their id order where two entries share a time.
    items.sort(key=lambda item: item["at"])
    return TimelinePage(items=items, earlier=rows[-1]["id"] if more else None)


def active_holds() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(released_at__isnull=True)


def with_legal_hold(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with `on_legal_hold`, in the same query."""
    return tickets.annotate(
        on_legal_hold=Exists(active_holds().filter(ticket_id=OuterRef("pk"))))




def is_held(*, ticket: Ticket | None = None, order_id: int | None = None) -> bool:
    """Return True if the ticket, or the order it is about, is under an active legal hold."""
    condition = Q()
    if ticket is not None:
        condition |= Q(ticket_id=ticket.pk)
        order_id = order_id or ticket.order_id
    if order_id is not None:
        condition |= Q(ticket__order_id=order_id)
    return bool(condition) and active_holds().filter(condition).exists()


def ticket_queue_tickets(*, user, queue: str, now=None) -> QuerySet[Ticket]:
    """Return the open tickets of one queue that the user may read, unordered and unpaged."""
    if queue not in QUEUES:
        raise Http404(queue)
    return _queue_tickets(user, queue, now or timezone.now())


# --- working together: who else is here, who wrote meanwhile -------------------------------
def ticket_viewers(*, ticket: Ticket, exclude_user=None, now=None) -> list[str]:
    """Return the names of the people who have the ticket open now (one query).

    A viewer counts while their page checked in within PRESENCE_TTL; the user asking is left
    out (they know they are here).
    """
    now = now or timezone.now()
    viewers = TicketViewer.objects.filter(ticket=ticket, last_seen__gte=now - PRESENCE_TTL)
    if exclude_user is not None:
        viewers = viewers.exclude(user=exclude_user)
    return [_person(first, last, username) for first, last, username in viewers.order_by(
        "user__last_name", "user__first_name", "user__username").values_list(
        "user__first_name", "user__last_name", "user__username")]


@dataclass(frozen=True)
class NewerReply:
    """A message the customer sees (or wrote) that arrived after what an agent had read."""

    message_id: int
    kind: str
    author: str  # the colleague who replied, or the customer who wrote
    created_at: Any


def ticket_newer_reply(*, ticket: Ticket, after_id: int, user) -> NewerReply | None:
    """Return the latest reply or customer message after message `after_id` by someone else.

    An agent's reply form carries the id of the latest message on their screen; when a
    colleague replied, or the customer wrote, since then, the agent should read it before
    their own reply goes out. Their own messages and internal notes do not count. One query.
    """
    row = (Message.objects.filter(ticket=ticket, id__gt=after_id,
                                  kind__in=[MessageKind.REPLY, MessageKind.INBOUND])
           .exclude(author=user).order_by("-id")
           .values("id", "kind", "created_at", "author__first_name", "author__last_name",
                   "author__username").first())
    if row is None:
        return None
    if row["kind"] == MessageKind.INBOUND:  # written by the channel for the customer
        author = ticket.customer.name if ticket.customer_id else ""
    else:
        author = _person(row["author__first_name"] or "", row["author__last_name"] or "",
                         row["author__username"] or "")
    return NewerReply(message_id=row["id"], kind=row["kind"], author=author,
                      created_at=row["created_at"])
