"""/metrics: who may read it, the console's live numbers, request latency by view, workers."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core.observability import metrics
from notifications.models import OutboxMessage, OutboxStatus
from resolutions import services as resolution_services
from resolutions.models import ResolutionState
from tests.factories import TeamFactory, TicketFactory, UserFactory
from tests.resolutions.money import order_with_items, ready_resolution, ticket_about
from tickets.models import TicketState

pytestmark = pytest.mark.django_db


def orm_broker() -> bool:
    from django_q.conf import Conf

    return Conf.ORM is not None  # django-q2 reads its broker once, from the start-up settings


needs_orm_broker = pytest.mark.skipif(
    not orm_broker(), reason="counts the ORM broker's queue; this run uses Redis (REDIS_URL)")

FROM_ELSEWHERE = "10.0.0.8"


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    """Read /metrics as Prometheus would: {(sample name, sorted labels): value}."""
    response = client.get(reverse("metrics"), REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


# --- who may read them ---------------------------------------------------------------------


def test_without_a_token_only_this_machine_may_read(client, settings):
    settings.METRICS_TOKEN = ""
    url = reverse("metrics")

    assert client.get(url, REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get(url, REMOTE_ADDR="::1").status_code == 200
    assert client.get(url, REMOTE_ADDR=FROM_ELSEWHERE).status_code == 403


def test_a_request_relayed_by_the_proxy_is_not_local(client, settings):
    """nginx connects from 127.0.0.1 too; the address it relays for is what counts."""
    settings.METRICS_TOKEN = ""

    response = client.get(reverse("metrics"), REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_with_a_token_the_bearer_may_read_from_anywhere_and_nobody_else(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    url = reverse("metrics")

    allowed = client.get(url, REMOTE_ADDR=FROM_ELSEWHERE,
                         HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert allowed.status_code == 200
    assert b"cs_queue_unassigned_tickets" in allowed.content
    # With a token set, being on this machine is not enough.
    assert client.get(url, REMOTE_ADDR="127.0.0.1").status_code == 403
    for wrong in ("Bearer s3cret-scrape-tokenX", "Bearer ", "Basic s3cret-scrape-token",
                  "s3cret-scrape-token"):
        refused = client.get(url, REMOTE_ADDR=FROM_ELSEWHERE, HTTP_AUTHORIZATION=wrong)
        assert refused.status_code == 403, wrong
        assert b"cs_" not in refused.content


def test_the_metrics_need_no_log_in_but_a_user_gets_no_more(client, settings, agent):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    client.force_login(agent)

    assert client.get(reverse("metrics"), REMOTE_ADDR=FROM_ELSEWHERE).status_code == 403


# --- the console's live numbers ------------------------------------------------------------


@pytest.fixture
def operations(settings):
    """Two teams with known queues, breaches, an outbox backlog and failed payments."""
    now = timezone.now()
    returns = TeamFactory(code="returns")
    logistics = TeamFactory(code="logistics")
    TeamFactory(code="retired", is_active=False)
    agent = UserFactory(username="metrics_agent")
    # returns: 2 unassigned open tickets, 1 assigned, 1 unassigned but closed.
    TicketFactory(team=returns, state=TicketState.NEW)
    TicketFactory(team=returns, state=TicketState.PENDING_INTERNAL)
    TicketFactory(team=returns, state=TicketState.IN_PROGRESS, assignee=agent)
    TicketFactory(team=returns, state=TicketState.CLOSED)
    # No team: 1 unassigned open ticket, past both its due times (first response not given).
    TicketFactory(team=None, state=TicketState.NEW, created_at=now - timedelta(days=3))
    # logistics: nothing unassigned; one assigned ticket past its resolution time only.
    TicketFactory(team=logistics, state=TicketState.IN_PROGRESS, assignee=agent,
                  first_response_at=now - timedelta(days=2),
                  resolution_due_at=now - timedelta(minutes=5))
    # A closed ticket long past its due times is no breach any more.
    TicketFactory(team=logistics, state=TicketState.CLOSED, assignee=agent,
                  resolution_due_at=now - timedelta(days=9))

    def message(status, age):
        return OutboxMessage.objects.create(
            channel="internal", template="ticket.assigned", recipient_user=agent,
            body="…", status=status, created_at=now - age)

    message(OutboxStatus.PENDING, timedelta(minutes=10))
    message(OutboxStatus.PENDING, timedelta(minutes=1))
    message(OutboxStatus.FAILED, timedelta(days=1))
    message(OutboxStatus.SENT, timedelta(days=2))

    _order, (item,) = order_with_items("50.00")
    ticket = ticket_about(lambda state, **fields: TicketFactory(
        team=logistics, state=state, assignee=agent, **fields), item)
    ready_resolution(ticket, refund="10.00", state=ResolutionState.FAILED)
    ready_resolution(ticket, refund="10.00", state=ResolutionState.MANUAL_REVIEW)
    ready_resolution(ticket, refund="10.00", state=ResolutionState.MANUAL_REVIEW)
    ready_resolution(ticket, refund="10.00", state=ResolutionState.COMPLETED)
    return now


@needs_orm_broker
def test_the_live_numbers_match_the_data(client, operations):
    values = scrape(client)

    def value(name, **labels):
        return values[(name, tuple(sorted(labels.items())))]

    assert value("cs_queue_unassigned_tickets", team="returns") == 2
    assert value("cs_queue_unassigned_tickets", team="logistics") == 0
    assert value("cs_queue_unassigned_tickets", team="none") == 1
    assert ("cs_queue_unassigned_tickets", (("team", "retired"),)) not in values
    assert value("cs_sla_breached_tickets", clock="resolution") == 2
    assert value("cs_sla_breached_tickets", clock="first_response") == 1
    assert value("cs_outbox_messages", status="pending") == 2
    assert value("cs_outbox_messages", status="failed") == 1
    # The oldest pending message waited ten minutes when the fixture wrote it, and a little
    # more by the time of the scrape.
    assert 600 <= value("cs_outbox_oldest_pending_age_seconds") < 3600
    assert value("cs_payment_failed_resolutions", state="failed") == 1
    assert value("cs_payment_failed_resolutions", state="manual_review") == 2
    assert value("cs_task_queue_depth") == 0


def test_with_nothing_waiting_the_numbers_are_zero(client):
    values = scrape(client)

    assert values[("cs_outbox_messages", (("status", "pending"),))] == 0
    assert values[("cs_outbox_oldest_pending_age_seconds", ())] == 0
    assert values[("cs_sla_breached_tickets", (("clock", "resolution"),))] == 0


@needs_orm_broker
def test_queued_tasks_count_in_the_queue_depth(client):
    from django_q.tasks import async_task

    async_task("core.tasks.ensure_schedules")
    async_task("core.tasks.ensure_schedules")

    assert scrape(client)[("cs_task_queue_depth", ())] == 2


def test_a_collector_that_fails_costs_only_its_own_numbers(client, monkeypatch):
    class Broken:
        def collect(self):
            raise RuntimeError("lost")

    monkeypatch.setattr(metrics, "_collectors", [Broken(), *metrics._collectors])

    values = scrape(client)

    assert values[("cs_metrics_collector_failed", (("collector", "Broken"),))] == 1
    assert ("cs_outbox_messages", (("status", "pending"),)) in values


def test_a_refused_payment_is_counted(make_ticket, agent, settings):
    order, (item,) = order_with_items("80.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="30.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    before = REGISTRY.get_sample_value("cs_payment_failures_total", {"kind": "refund"}) or 0

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    resolution.refresh_from_db()
    assert resolution.state == ResolutionState.FAILED
    assert REGISTRY.get_sample_value("cs_payment_failures_total", {"kind": "refund"}) == before + 1


# --- request latency by view ---------------------------------------------------------------


def test_request_latency_is_measured_by_view(client):
    key = ("django_http_requests_latency_seconds_by_view_method_count",
           (("method", "GET"), ("view", "health-live")))
    before = scrape(client).get(key, 0)

    client.get(reverse("health-live"))
    client.get(reverse("health-live"))

    assert scrape(client)[key] == before + 2


# --- several worker processes --------------------------------------------------------------


def test_in_multiprocess_mode_a_scrape_adds_up_every_worker(tmp_path, monkeypatch):
    """Two processes count into the shared folder; one scrape reports their sum."""
    count_once = ("from prometheus_client import Counter; "
                  "Counter('cs_probe_events', 'test', ['node']).labels(node='a').inc()")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _worker in range(2):
        subprocess.run([sys.executable, "-c", count_once], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    registry = metrics.scrape_registry()

    assert registry.get_sample_value("cs_probe_events_total", {"node": "a"}) == 2


def test_a_dead_workers_live_gauges_are_dropped(tmp_path, monkeypatch):
    """gunicorn's child_exit hook: a worker that died no longer counts in the live gauges."""
    from types import SimpleNamespace

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")

    metrics.gunicorn_child_exit(None, SimpleNamespace(pid=4242))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["gauge_livesum_4343.db"]


def test_settings_refuse_a_multiprocess_folder_that_does_not_exist(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cs_console.settings",
           "ENV_FILE": os.devnull, "DEBUG": "true",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")}

    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                            cwd=Path(__file__).resolve().parents[2], capture_output=True,
                            text=True, timeout=60, check=False)

    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR" in result.stderr
