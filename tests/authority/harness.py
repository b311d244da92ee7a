"""Running one row of the permission matrix: every role × relation, each in a savepoint."""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib import messages as django_messages
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from tests.authority.world import ROLES, World
from tickets.models import Ticket

# A console action that redirects but put an error message on the page refused the request
# (bad input or the wrong state); the matrix records it as this status.
REFUSED_ON_PAGE = 400
NO_RELATION = "-"
# Expected "as if it did not exist": the request must be refused exactly as when the ticket
# it names (cell.extra["target"]) does not exist: same status (a 4xx), same text.
LIKE_MISSING = "like missing"
MISSING_NUMBER = "CS19700101-000000"


@dataclass(frozen=True)
class Row:
    """One operation of the matrix.

    `setup(cell)` creates what the operation acts on and returns it (cell.obj);
    `url(cell)` and `payload(cell)` build the request; `expected(role, relation)` is the
    status the TARGET rules give; `check(cell, response)` may return a further mismatch
    (a side effect that must or must not have happened).
    """

    op: str
    client: str  # "api" or "console"
    method: str
    url_name: str
    url: Callable
    expected: Callable
    relations: tuple = (NO_RELATION,)
    setup: Callable | None = None
    payload: Callable | None = None
    format: str = "json"
    check: Callable | None = None
    # For LIKE_MISSING cells: the payload with the named ticket replaced by a missing one.
    missing_payload: Callable | None = None
    roles: tuple = ROLES
    id: str = field(default="")

    @property
    def key(self) -> str:
        return self.id or f"{self.client} {self.method.upper()} {self.url_name} {self.op}"


def _queued_messages(response) -> list:
    return list(getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", []))


def _console_status(response) -> int:
    errors = [message for message in _queued_messages(response)
              if message.level >= django_messages.ERROR]
    return REFUSED_ON_PAGE if response.status_code == 302 and errors else response.status_code


def _status(row: Row, response) -> int:
    return response.status_code if row.client == "api" else _console_status(response)


def _text(row: Row, response) -> str:
    """What the user reads: the API's body, or the console's messages."""
    if row.client == "console" and response.status_code == 302:
        return " | ".join(str(message) for message in _queued_messages(response))
    return response.content.decode(errors="replace")


def _like_missing(row: Row, cell, client, url: str, data) -> str | None:
    """Send the request once naming a missing ticket, then as given; compare the answers."""
    savepoint = transaction.savepoint()
    try:
        missing = _send(row, client, url, row.missing_payload(cell, data, MISSING_NUMBER))
    finally:
        transaction.savepoint_rollback(savepoint)
    response = _send(row, client, url, data)
    target = cell.extra["target"].number
    got = (_status(row, response), _text(row, response).replace(target, "<number>"))
    want = (_status(row, missing), _text(row, missing).replace(MISSING_NUMBER, "<number>"))
    if got[0] < 400 or got != want:
        return (f"expected the answer for a missing ticket {want[0]} {want[1][:100]!r}, "
                f"got {got[0]} {got[1][:100]!r}")
    return None


def _client_for(row: Row, user):
    if row.client == "api":
        client = APIClient()
        client.force_authenticate(user)
    else:
        client = Client()
        client.force_login(user)
    return client


def _send(row: Row, client, url: str, data):
    call = getattr(client, row.method)
    if row.client == "api":
        if row.method in ("get", "delete") and not data:
            return call(url)
        return call(url, data, format=row.format)
    return call(url, data or {})


def _normalised_body(response, number: str | None) -> str:
    body = response.content.decode(errors="replace")
    return body.replace(number, "<number>") if number else body


def _number_of(obj) -> str | None:
    return getattr(obj, "number", None) if isinstance(obj, Ticket) else None


def run_row(row: Row, world: World) -> list[str]:
    """Send the row's request as every role in every relation; return every mismatch."""
    mismatches = []
    not_found_bodies = []
    for role in row.roles:
        user = world.user(role)
        client = _client_for(row, user)
        for relation in row.relations:
            cell = SimpleNamespace(world=world, role=role, user=user, relation=relation,
                                   obj=None, extra={})
            savepoint = transaction.savepoint()
            try:
                cell.obj = row.setup(cell) if row.setup else None
                url = row.url(cell)
                data = row.payload(cell) if row.payload else None
                want = row.expected(role, relation)
                where = f"{role} × {relation} × {row.key}"
                if want == LIKE_MISSING:
                    if problem := _like_missing(row, cell, client, url, data):
                        mismatches.append(f"{where}: {problem}")
                    continue
                response = _send(row, client, url, data)
                got = _status(row, response)
                if got != want:
                    mismatches.append(f"{where}: expected {want} got {got}")
                elif row.check is not None and (problem := row.check(cell, response)):
                    mismatches.append(f"{where}: {problem}")
                if got == 404 and _number_of(cell.obj):
                    not_found_bodies.append(
                        (role, where, _normalised_body(response, cell.obj.number)))
            finally:
                transaction.savepoint_rollback(savepoint)
    if not_found_bodies:
        mismatches += _compare_with_a_missing_ticket(row, world, not_found_bodies)
    return mismatches


def _compare_with_a_missing_ticket(row: Row, world: World, bodies) -> list[str]:
    """A ticket the user may not see must answer exactly like one that does not exist.

    Each role that got a 404 asks once more for a ticket that does not exist.
    """
    mismatches = []
    missing = {}
    for role, where, body in bodies:
        if role not in missing:
            missing[role] = _missing_ticket_answer(row, world, role)
        status, text = missing[role]
        if status != 404:
            mismatches.append(f"{role} × missing ticket × {row.key}: expected 404 got {status}")
        elif body != text:
            mismatches.append(f"{where}: the 404 differs from a missing ticket's "
                              f"({body[:120]!r} vs {text[:120]!r})")
    return mismatches


def _missing_ticket_answer(row: Row, world: World, role) -> tuple[int, str]:
    cell = SimpleNamespace(world=world, role=role, user=world.user(role),
                           relation=row.relations[0], obj=None, extra={})
    savepoint = transaction.savepoint()
    try:
        cell.obj = row.setup(cell)
        url = row.url(cell)
        data = row.payload(cell) if row.payload else None
        number = cell.obj.number
        Ticket.objects.filter(pk=cell.obj.pk).update(number=f"{number}-gone")
        response = _send(row, _client_for(row, cell.user), url, data)
        return response.status_code, _normalised_body(response, number)
    finally:
        transaction.savepoint_rollback(savepoint)
