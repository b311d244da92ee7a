"""Major incidents: group the tickets of one cause and message every affected customer at once."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history, stamp_history
from core.services.exceptions import Conflict
from notifications.models import OutboxChannel
from notifications.services import delivery as notifications
from supervision.models.incident import Incident, IncidentBroadcast, IncidentKind, IncidentState
from tickets.models import Ticket

BROADCAST_MAX_LENGTH = 500


def _require(actor: User, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(_("Only supervisors manage major incidents."))


def _require_open(incident: Incident) -> None:
    if incident.state != IncidentState.OPEN:
        raise Conflict(_("The incident is closed."), code="incident_closed")


@transaction.atomic
def incident_open(*, actor: User, title: str, kind: str, description: str = "",
                  tickets: Iterable[Ticket | int | str] = ()) -> Incident:
    """Open a major incident (outage, group complaint, ...) with the tickets known so far."""
    _require(actor, "supervision.add_incident")
    errors = {}
    if not title.strip():
        errors["title"] = _("Give the incident a title.")
    if kind not in IncidentKind.values:
        errors["kind"] = _("Choose the kind of incident.")
    if errors:
        raise ValidationError(errors)
    incident = Incident(title=title.strip()[:200], kind=kind, description=description.strip(),
                        opened_by=actor, opened_at=timezone.now())
    save_with_history(incident, actor=actor, reason="incident:open")
    if tickets:
        incident_add_tickets(incident=incident, actor=actor, tickets=tickets)
    return incident


@transaction.atomic
def incident_add_tickets(*, incident: Incident, actor: User,
                         tickets: Iterable[Ticket | int | str]) -> int:
    """Group more tickets under the incident; return how many were new to it."""
    _require(actor, "supervision.change_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_open(incident)
    ids = {int(ticket) if isinstance(ticket, int | str) else ticket.pk for ticket in tickets}
    known = set(Ticket.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if known != ids:
        raise ValidationError({"tickets": _("Some of these tickets do not exist.")})
    new = known - set(incident.tickets.filter(pk__in=known).values_list("pk", flat=True))
    if new:
        stamp_history(incident, actor=actor, reason="incident:add_tickets")
        incident.tickets.add(*sorted(new))
    return len(new)


@transaction.atomic
def incident_close(*, incident: Incident, actor: User) -> Incident:
    """Close the incident; its tickets stay as they are."""
    _require(actor, "supervision.change_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_open(incident)
    incident.state = IncidentState.CLOSED
    incident.closed_at = timezone.now()
    save_with_history(incident, actor=actor, reason="incident:close")
    return incident


@transaction.atomic
def incident_notify_customers(*, incident: Incident, actor: User, body: str) -> IncidentBroadcast:
    """Send one message to every customer with a ticket in the incident, through the outbox.

    Each customer gets it once, by SMS when a phone number is known and in the app
    otherwise; the dedupe key (broadcast, customer) keeps a retried call from sending twice.
    """
    _require(actor, "supervision.change_incident")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_open(incident)
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write the message to the customers.")})
    if len(body) > BROADCAST_MAX_LENGTH:
        raise ValidationError({"body": _("Keep the message under %(limit)d characters.")
                               % {"limit": BROADCAST_MAX_LENGTH}})
    # The customer's oldest ticket in the incident names what the message is about.
    first_ticket: dict[int, Ticket] = {}
    for ticket in incident.tickets.select_related("customer").order_by("created_at", "id"):
        first_ticket.setdefault(ticket.customer_id, ticket)
    if not first_ticket:
        raise Conflict(_("The incident has no tickets, so there is nobody to message."),
                       code="no_tickets")
    broadcast = IncidentBroadcast.objects.create(incident=incident, body=body, sent_by=actor,
                                                 sent_at=timezone.now())
    sent = 0
    for customer_id, ticket in first_ticket.items():
        customer = ticket.customer
        channel = OutboxChannel.SMS if customer.phone else OutboxChannel.APP
        message = notifications.notify(
            template="incident.update", channel=channel, ticket=ticket, customer=customer,
            context={"title": incident.title, "message": body},
            dedupe_key=f"incident:{broadcast.pk}:{customer_id}",
        )
        sent += message is not None
    broadcast.recipients = sent
    broadcast.save(update_fields=["recipients"])
    return broadcast
