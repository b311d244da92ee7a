"""Request rates counted at a fixed cost per request, whatever the rate.

DRF's throttles keep, per key, the list of every request's time in the window: each request
loads that list from the cache and stores it again whole. At the rates a channel
integration needs for intake (hundreds a second, so a per-minute rate of tens of thousands)
that is tens of thousands of timestamps unpickled and pickled per request and per throttle.

These throttles count instead, in fixed windows as long as the rate's period, and estimate
the requests of the last period as the current window's count plus the previous window's,
weighted by how much of it the last period still covers (the "sliding window counter").
A request costs one read of two integers and one increment, and the increment is atomic on
a shared cache (Redis): two workers cannot both take the last request of a rate, as they
can with DRF's read-then-write of the list.
"""

import math
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import BaseCache
from rest_framework import throttling
from rest_framework.exceptions import Throttled

# The anonymous and per-user throttles never look at the view; DRF's signatures still want one.
NO_VIEW: Any = None


class WindowCounterMixin:
    """Replace SimpleRateThrottle's request log by two window counters (the same rates)."""

    cache: BaseCache
    timer: Callable[[], float]
    rate: str | None
    num_requests: int
    duration: int
    key: str | None

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        if self.is_full():
            return False
        self.record()
        return True

    def _windows(self) -> tuple[str, str, float]:
        """Return the cache keys of this window and the last one, and how far into this one."""
        now = self.timer()
        window, elapsed = divmod(now, self.duration)
        return f"{self.key}:{int(window)}", f"{self.key}:{int(window) - 1}", elapsed

    def is_full(self) -> bool:
        """Read the two windows' counts; True when the last period holds the whole rate."""
        current_key, previous_key, elapsed = self._windows()
        counts = self.cache.get_many([current_key, previous_key])
        self._current = counts.get(current_key, 0)
        self._previous = counts.get(previous_key, 0)
        self._elapsed = elapsed
        # The last window's requests are taken as spread evenly over it.
        estimate = self._previous * (1 - elapsed / self.duration) + self._current
        return estimate >= self.num_requests

    def record(self) -> None:
        """Count one request in the current window (kept for two periods)."""
        current_key, _previous_key, _elapsed = self._windows()
        if not self.cache.add(current_key, 1, timeout=2 * self.duration + 1):
            try:
                self.cache.incr(current_key)
            except ValueError:  # the key expired between add and incr
                self.cache.add(current_key, 1, timeout=2 * self.duration + 1)

    def wait(self) -> float:
        """Whole seconds after which the estimate has fallen below the rate again."""
        room = self.num_requests - self._current
        if self.num_requests == 0:  # a rate of none: nothing ever goes through
            seconds = float(self.duration)
        elif room > 0:  # the previous window's share has to shrink to `room`
            seconds = self.duration * (1 - room / self._previous) - self._elapsed
        else:  # this window is full: wait for the next, and for its share of this one
            seconds = (self.duration - self._elapsed
                       + self.duration * (1 - self.num_requests / self._current))
        return max(1, math.floor(seconds) + 1)  # at `seconds` it is only level with it


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    """Per user (per address when anonymous), the `user` rate."""


class ScopedRateThrottle(WindowCounterMixin, throttling.ScopedRateThrottle):
    """Per user and view scope, the view's `throttle_scope` rate."""

    def allow_request(self, request, view) -> bool:
        # DRF's own: the rate is the view's scope's, known only now.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:  # a scope without a rate: no limit
            return True
        self.num_requests, self.duration = num_requests, duration
        return super().allow_request(request, view)


class ScopeRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    """Per user, under a scope named by the caller (console views that are not DRF's)."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()


class AnonymousRequestsThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    """The anonymous rate, per address, checked and counted as two separate steps.

    DRF checks permissions before throttles, so an anonymous request refused with 403 would
    never be counted; token authentication checks and counts it itself.
    """

    def __init__(self, request):
        super().__init__()
        self.key = self.get_cache_key(request, NO_VIEW)

    def refuse_if_full(self) -> None:
        """Raise Throttled if the address has used up its anonymous rate."""
        if self.key is not None and self.rate is not None and self.is_full():
            raise Throttled(wait=self.wait())

    def count(self) -> None:
        """Record one anonymous request of the address."""
        if self.key is not None and self.rate is not None:
            self.record()
