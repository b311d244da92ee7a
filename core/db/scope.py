"""Which reads may be served by the read replica: those inside a reporting-read scope.

A scope is a context variable, so it holds for the code that entered it and nothing else:
another thread, a task in the worker, a request served beside it all start outside any scope
and read from the primary. Inside one, the router still keeps reads on the primary after a
write: one of this request or scope, or one of the same user within READ_YOUR_WRITES_SECONDS
(set by `core.db.middleware.ReadYourWritesMiddleware`).
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError

from core.db import health

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Writes:
    """Whether the code running now has written, or follows a recent write of its user."""

    recent: bool = False


@dataclass
class ReplicaScope:
    """A reporting-read scope; `used_replica` once the router sent one of its reads there."""

    used_replica: bool = False


_writes: ContextVar[Writes | None] = ContextVar("core_db_writes", default=None)
_scope: ContextVar[ReplicaScope | None] = ContextVar("core_db_replica_scope", default=None)


def current_scope() -> ReplicaScope | None:
    return _scope.get()


def wrote_recently() -> bool:
    writes = _writes.get()
    return writes is not None and writes.recent


def note_write() -> None:
    """Keep the rest of this request or scope on the primary: it has just written."""
    writes = _writes.get()
    if writes is not None:
        writes.recent = True


@contextmanager
def tracking_writes(*, recent: bool) -> Iterator[Writes]:
    """Track the writes of a request; `recent`: its user wrote a moment ago."""
    writes = Writes(recent=recent)
    token = _writes.set(writes)
    try:
        yield writes
    finally:
        _writes.reset(token)


@contextmanager
def replica_reads() -> Iterator[ReplicaScope]:
    """Let the reads inside go to the read replica when the router finds it fit.

    Only for reads whose result may be a few seconds old and is not written back. A nested
    scope is the outer one.
    """
    outer = _scope.get()
    if outer is not None:
        yield outer
        return
    scope = ReplicaScope()
    scope_token = _scope.set(scope)
    # Outside a request (a task, a command) the scope tracks its own writes.
    writes_token = _writes.set(Writes()) if _writes.get() is None else None
    try:
        yield scope
    finally:
        if writes_token is not None:
            _writes.reset(writes_token)
        _scope.reset(scope_token)


def reads_from_replica(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in a reporting-read scope; on the primary again if the replica fails.

    For pure reads only: when the replica is lost halfway (its connection refused or broken),
    the replica is marked unreachable and `function` runs once more, from the start, on the
    primary, so a report still answers when the replica goes away.
    """

    @functools.wraps(function)
    def in_scope(*args: P.args, **kwargs: P.kwargs) -> R:
        if _scope.get() is not None:
            return function(*args, **kwargs)  # the outer scope decides, and retries
        with replica_reads() as scope:
            try:
                return function(*args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                if not scope.used_replica:
                    raise
                health.replica_unreachable(error)
        return function(*args, **kwargs)

    return in_scope
