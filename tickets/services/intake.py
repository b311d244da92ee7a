"""Intake from a channel: find or create the customer, link the order, open the ticket.

An Idempotency-Key makes a retried request (a timeout, a double submit) return the ticket
the first request created instead of opening a second one.
"""

import hashlib
import json
from collections.abc import Callable, Sequence

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.db.compiled import CompiledQuery, concrete_columns
from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict, NotFound
from shop.models import Customer, Order
from tickets.models import IntakeKey, Ticket
from tickets.services.tickets import ticket_create

# Every intake looks both up by their unique key: compiled once (core.db.compiled).
_CUSTOMER_BY_EXTERNAL_ID = CompiledQuery(
    lambda external_id: Customer.objects.filter(external_id=external_id).order_by(),
    texts=("external_id",))
_ORDER_BY_NUMBER = CompiledQuery(
    lambda number: Order.objects.filter(number=number).order_by(), texts=("number",))
# Nearly every channel request names a known customer and one of their orders: both are read
# in one statement. Any other case (a new customer, another customer's order, no such
# order) finds no row and takes the two lookups above, which tell the cases apart.
_ORDER_WITH_ITS_CUSTOMER = CompiledQuery(
    lambda number, external_id: Order.objects.filter(
        number=number, customer__external_id=external_id).order_by().values_list(
        *concrete_columns(Order), *concrete_columns(Customer, "customer")),
    texts=("number", "external_id"))


def request_fingerprint(payload: dict) -> str:
    """Return a stable digest of an intake payload, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _normalised_phone(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def customer_match_or_create(*, actor: User, external_id: str, name: str, phone: str = "",
                             tier: str = "") -> tuple[Customer, dict]:
    """Return the customer with this external id and what the caller said differently.

    A new customer is created from what the caller says. An existing one is matched, never
    changed: its name, phone and tier feed routing, VIP handling and text messages, and
    only the shop sync or a holder of change_customer may change them (customer_update).
    The differences come back as the ticket's reported_* fields, for the agent to see.
    """
    found = _CUSTOMER_BY_EXTERNAL_ID.instances(external_id=external_id)
    customer = found[0] if found else None
    if customer is None:
        customer = Customer(external_id=external_id, name=name, phone=phone)
        if tier:
            customer.tier = tier
        # The external id's uniqueness is the database's to check: two intakes for the same
        # new customer at once (a client retrying) both find none; the second INSERT waits
        # for the first and then matches the customer it made.
        customer.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                save_with_history(customer, actor=actor, reason="intake:create_customer")
        except IntegrityError:
            customer = Customer.objects.get(external_id=external_id)
        else:
            return customer, {}
    return customer, _reported_differences(customer, name=name, phone=phone, tier=tier)


def _reported_differences(customer: Customer, *, name: str, phone: str, tier: str) -> dict:
    """What the caller said about the customer that their record says otherwise."""
    reported = {}
    if name and name.strip() != customer.name:
        reported["reported_name"] = name.strip()
    if phone and _normalised_phone(phone) != _normalised_phone(customer.phone):
        reported["reported_phone"] = phone.strip()
    if tier and tier != customer.tier:
        reported["reported_tier"] = tier
    return reported


def _find_existing(actor: User, key: str, fingerprint: str) -> Ticket | None:
    # Two columns only: nearly every key is new, and the ticket is read only for a retry.
    existing = (IntakeKey.objects.filter(user=actor, key=key)
                .values_list("fingerprint", "ticket_id").first())
    if existing is None:
        return None
    if existing[0] != fingerprint:
        raise Conflict(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    ticket: Ticket = Ticket.objects.get(pk=existing[1])
    return ticket


def ticket_intake(*, actor: User, payload: dict, idempotency_key: str = "") -> tuple[Ticket, bool]:
    """Open a ticket from a channel request; return (ticket, created)."""
    if not actor.has_perm("tickets.add_ticket"):
        raise PermissionDenied(_("You may not open tickets."))
    fingerprint = request_fingerprint(payload)
    # Nearly every key is new, so the key is not looked up first: its INSERT, written with
    # the ticket's own rows, meets the unique constraint when the key was used before (or
    # is being used by a concurrent retry, whose COMMIT it waits for). Then everything is
    # rolled back (the ticket number too, so numbers stay gap-free) and the earlier ticket
    # answers.
    def intake_key(ticket: Ticket) -> list[IntakeKey]:
        return [IntakeKey(user=actor, key=idempotency_key, fingerprint=fingerprint,
                          ticket=ticket)]

    try:
        with transaction.atomic():
            ticket = _open_ticket(actor, payload,
                                  rows_of_new_ticket=intake_key if idempotency_key else None)
    except IntegrityError:
        existing = _find_existing(actor, idempotency_key, fingerprint) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return ticket, True


def _open_ticket(actor: User, payload: dict,
                 rows_of_new_ticket: Callable[[Ticket], Sequence[IntakeKey]] | None) -> Ticket:
    customer_data = payload["customer"]
    contact = {"name": customer_data["name"], "phone": customer_data.get("phone", ""),
               "tier": customer_data.get("tier", "")}
    order_number = payload.get("order_number")
    both = _ORDER_WITH_ITS_CUSTOMER.joined_instances(
        Order, Customer, number=order_number,
        external_id=customer_data["external_id"]) if order_number else []
    if both:
        order, customer = both[0]
        reported = _reported_differences(customer, **contact)
    else:
        customer, reported = customer_match_or_create(
            actor=actor, external_id=customer_data["external_id"], **contact)
        order = None
    order_item = None
    if order_number:
        if order is None:
            found = _ORDER_BY_NUMBER.instances(number=order_number)
            order = found[0] if found else None
        if order is None:
            raise NotFound(_("No order with this number exists."), field="order_number")
        if payload.get("sku"):
            order_item = order.items.filter(sku=payload["sku"]).first()
            if order_item is None:
                raise NotFound(_("The order has no item with this SKU."), field="sku")
    elif payload.get("sku"):
        # An item is found within its order: without one, the SKU names nothing.
        raise NotFound(_("Give the order number together with the SKU."), field="sku")
    return ticket_create(
        actor=actor,
        channel=payload["channel"],
        customer=customer,
        order=order,
        order_item=order_item,
        subject=payload["subject"],
        description=payload.get("description", ""),
        ticket_type=payload.get("ticket_type", ""),
        category=payload.get("category", ""),
        priority=payload.get("priority"),
        request_reason=payload.get("request_reason", ""),
        item_condition=payload.get("item_condition", ""),
        requested_resolution=payload.get("requested_resolution", ""),
        claims_statutory=bool(payload.get("claims_statutory", False)),
        reported_contact=reported,
        savepoint=False,  # ticket_intake's transaction is rolled back whole on any error
        rows_of_new_ticket=rows_of_new_ticket,
    )
