"""What the apps above tickets do when a ticket opens, moves or closes.

Routing (team and agent), the SLA clocks (due times, customer updates) and supervision
(the satisfaction survey) read and change tickets, so they sit above this app and tickets
may not import them. Each one registers its part here from its AppConfig.ready(); the ticket
services call it at that point of their work, inside their transaction. The calls are written
out in the services, in order, so reading a service tells everything that happens: no
signals, nothing hidden.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from core.models.user import User
from tickets.models import Team, Ticket


@dataclass(frozen=True)
class Routed:
    """Where a new ticket goes: routing's answer at intake.

    `config` is what routing read to decide (the configuration in memory); the clocks use
    the same one, so an intake reads the configuration once.
    """

    category: str
    priority: int
    team: Team | None = None
    skill: str = ""
    rules: list[str] = field(default_factory=list)
    config: Any = None


@dataclass(frozen=True)
class Staffed:
    """Who works a new ticket: routing's answer inside the creating transaction.

    `team` may differ from the routed one: a team nobody is available in hands its tickets
    to the default team, and `note` says so in the creation history. `taken` when `agent` is the creating user (phone intake: the
    agent on the call keeps a ticket they may work).
    """

    team: Team | None
    agent: User | None = None
    note: str = ""
    taken: bool = False


class Router(Protocol):
    def route(self, *, subject: str, description: str, category: str, channel: str, tier: str,
              priority: int, request_reason: str = "") -> Routed: ...

    def pick_agent(self, *, team: Team, skill: str = "") -> User | None: ...

    def staff(self, *, team: Team | None, skill: str = "", taken_by: User | None = None,
              pick: bool = True, config: Any = None) -> Staffed: ...


class Clocks(Protocol):
    def stamp_due_times(self, ticket: Ticket, *, keep_first_response: bool = False,
                        config: Any = None) -> None: ...

    def plan_update(self, *, ticket: Ticket, due_at: datetime | None) -> None: ...

    def plan_next_update(self, *, ticket: Ticket, after: datetime, config: Any = None) -> None: ...


_router: Router | None = None
_clocks: Clocks | None = None
_on_closed: list[Callable[[Ticket], None]] = []


def register_router(router: Router) -> None:
    global _router
    _router = router


def register_clocks(clocks: Clocks) -> None:
    global _clocks
    _clocks = clocks


def register_on_closed(callback: Callable[[Ticket], None]) -> None:
    """Call `callback(ticket)` whenever a ticket is closed (once per callback)."""
    if callback not in _on_closed:
        _on_closed.append(callback)


def router() -> Router:
    if _router is None:
        raise ImproperlyConfigured("No router registered: add the routing app to INSTALLED_APPS.")
    return _router


def clocks() -> Clocks:
    if _clocks is None:
        raise ImproperlyConfigured("No SLA clocks registered: add the sla app to INSTALLED_APPS.")
    return _clocks


def ticket_closed(ticket: Ticket) -> None:
    for callback in _on_closed:
        callback(ticket)
