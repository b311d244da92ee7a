"""The Prometheus endpoint: request metrics from django-prometheus plus the console's own.

Two kinds of metrics end up on /metrics:

- Kept in the process (counters, histograms): django-prometheus's request latency by view,
  the payment-failure counter. Under gunicorn each worker process keeps its own, so with
  PROMETHEUS_MULTIPROC_DIR set prometheus_client writes them to files in that directory and
  the scrape adds up the files of every worker (its "multiprocess mode").
- Computed at scrape time (queue depth, SLA breaches, outbox backlog, failed payments): a
  few indexed counts read from the database when Prometheus asks. The apps that own the data
  hand their collectors in with `register_collector` from their AppConfig.ready(); core reads
  no business table itself. django-q2's queue depth is plumbing, so it lives here.

The endpoint is not public: with METRICS_TOKEN set it wants `Authorization: Bearer <token>`,
without it only a request from this machine that no proxy relayed gets an answer.
"""

import functools
import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

_collectors: list[Collector] = []


def register_collector(collector: Collector) -> None:
    """Add a scrape-time collector (an object with `collect()` yielding metric families)."""
    if collector not in _collectors:
        _collectors.append(collector)


def registered_collectors() -> list[Collector]:
    return list(_collectors)


def multiprocess_dir() -> str | None:
    # prometheus_client decides at import time from the same variable whether counters live
    # in memory or in files; the scrape must read them from the same place.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _Forward:
    """Hand on another registry's metrics (the process-wide one, outside multiprocess mode)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _Guarded:
    """Run a collector so that its failure costs its own metrics, not the whole scrape."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        try:
            metrics = list(self.collector.collect())
        except Exception:
            logger.exception("Metrics collector %s failed", type(self.collector).__name__)
            return iter([_collector_failed(self.collector)])
        return iter(metrics)


def _collector_failed(collector: Collector) -> Metric:
    family = GaugeMetricFamily(
        "cs_metrics_collector_failed", "1 when a collector could not be read at this scrape",
        labels=["collector"])
    family.add_metric([type(collector).__name__], 1)
    return family


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: the processes' metrics plus the scrape-time collectors."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Forward(REGISTRY))
    for collector in [TaskQueueDepth(), *_collectors]:
        registry.register(_Guarded(collector))
    return registry


@functools.cache
def _broker():
    """django-q2's broker, made once: a Redis broker keeps its connection pool between scrapes."""
    from django_q.brokers import get_broker

    return get_broker()


class TaskQueueDepth:
    """Tasks waiting in django-q2's broker (Redis list or the ORM table) for a worker."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("cs_task_queue_depth",
                                   "Tasks queued in django-q2 and not yet taken by a worker")
        family.add_metric([], _broker().queue_size())
        yield family


# --- who may read them ---------------------------------------------------------------------


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _from_this_machine(request: HttpRequest) -> bool:
    # A request relayed by a reverse proxy also comes from 127.0.0.1; the proxy says so with
    # X-Forwarded-For (or Forwarded), and such a request is not local whatever its address.
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def may_read_metrics(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    if expected:
        given = _bearer_token(request)
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())
    return _from_this_machine(request)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def gunicorn_child_exit(server: object, worker: object) -> None:
    """gunicorn `child_exit` hook: drop a dead worker's live gauges from the shared files."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
