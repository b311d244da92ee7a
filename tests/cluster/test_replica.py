"""Reporting reads on a real streaming replica of the test database (PostgreSQL only).

A session fixture copies the primary the tests run on (pg_basebackup, deploy/bin/pg-replica)
into a replica on 127.0.0.1:REPLICA_PORT, after pytest-django has created the test database,
so the replica streams every row the tests commit (hence transactional tests). Pausing the
replica's replay (`pg_wal_replay_pause()`) freezes what it shows: a figure the dashboard
reads from the replica is then visibly older than the primary's.

Needs root (the replica runs as the `postgres` OS user) and a primary that accepts
replication connections from 127.0.0.1 (pg_hba.conf: `host replication all 127.0.0.1/32
trust`); skipped with the reason otherwise.
"""

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.db import health
from core.db.health import replica_status
from core.db.middleware import COOKIE_NAME
from core.db.scope import replica_reads
from core.models.roles import Role
from policies.models import PolicyRule
from policies.services import changesets
from resolutions.models import Resolution
from resolutions.services.backtest import backtest
from resolutions.services.resolutions import _facts_as_json
from tests.factories import TeamFactory, TicketFactory, UserFactory
from tests.resolutions.test_backtest import facts
from tickets.models import OPEN_STATES, Ticket
from tickets.selectors import QUEUES

# Transactional: the replica sees only committed rows. The test's database access starts in
# the `replica` fixture, once the alias exists (see `_django_db_marker` below).
pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, databases=["default", "replica"])]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "bin" / "pg-replica"
REPLICA_PORT = int(os.environ.get("TEST_REPLICA_PORT", "5433"))
WAIT_SECONDS = 15


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


@dataclass
class ReplicaServer:
    data_dir: Path
    port: int

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                              timeout=120, check=False)

    def stop(self) -> None:
        result = self.run("stop", "--dir", str(self.data_dir))
        assert result.returncode == 0, result.stderr

    def start(self) -> None:
        result = self.run("start", "--dir", str(self.data_dir), "--port", str(self.port))
        assert result.returncode == 0, result.stderr

    def control(self) -> psycopg.Connection:
        """A connection of the test's own, outside Django, for pausing and watching replay."""
        primary = connections["default"].settings_dict
        return psycopg.connect(host="127.0.0.1", port=self.port, user=primary["USER"],
                               dbname=primary["NAME"], autocommit=True)


# For this module only: a running replica reports its oldest snapshot to the primary
# (hot_standby_feedback), which keeps VACUUM from marking new rows all-visible for the
# tests that run after these (tests/demo/test_bulk.py checks exactly that).
@pytest.fixture(scope="module")
def replica_server(django_db_setup, django_db_blocker) -> Iterator[ReplicaServer]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the replica streams from it")
    if os.geteuid() != 0:
        pytest.skip("needs root: the replica runs as the postgres OS user")
    primary = connection.settings_dict
    base = Path(tempfile.mkdtemp(prefix="cs_replica-"))
    base.chmod(0o755)  # the postgres user owns the data directory below
    server = ReplicaServer(data_dir=base / "data", port=REPLICA_PORT)
    result = server.run("start", "--primary-host", primary["HOST"] or "127.0.0.1",
                        "--primary-port", str(primary["PORT"] or 5432),
                        "--user", primary["USER"] or "postgres",
                        "--port", str(REPLICA_PORT), "--dir", str(server.data_dir))
    if result.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        if "no pg_hba.conf entry for replication" in result.stderr:
            pytest.skip("the primary refuses replication connections: add `host replication "
                        "all 127.0.0.1/32 trust` to its pg_hba.conf and reload it")
        pytest.fail(f"could not start the replica: {result.stderr}")
    try:
        yield server
    finally:
        server.run("stop", "--dir", str(server.data_dir))
        shutil.rmtree(base, ignore_errors=True)


class Replica:
    """The running replica, known to Django as the "replica" alias for one test."""

    def __init__(self, server: ReplicaServer) -> None:
        self.server = server
        self._control = server.control()

    def query(self, sql: str):
        return self._control.execute(sql).fetchone()[0]

    def wait_until_replayed(self) -> None:
        """Wait until the replica shows everything committed on the primary so far."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            lsn = cursor.fetchone()[0]
        wait_for(lambda: self.query(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'"),
                 "the replica replays the primary's writes")

    def wait_until_received(self) -> None:
        """Wait until the replica has the primary's writes, received but not replayed."""
        wait_for(lambda: self.query("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"),
                 "the replica receives the primary's writes")

    def pause(self) -> None:
        self.query("SELECT pg_wal_replay_pause()::text")
        wait_for(lambda: self.query("SELECT pg_get_wal_replay_pause_state()") == "paused",
                 "replay pauses")

    def resume(self) -> None:
        self.query("SELECT pg_wal_replay_resume()::text")

    def close(self) -> None:
        if not self._control.closed:
            self.resume()
            self._control.close()


@pytest.fixture(autouse=True)
def _django_db_marker():
    """Replace pytest-django's own, which opens the test's database access before any other
    fixture: the test case refuses an alias that is not configured yet, and the "replica"
    alias is configured only while a replica runs. The `replica` fixture opens it instead."""


@pytest.fixture
def replica(request, replica_server, settings) -> Iterator[Replica]:
    """Register the "replica" alias (the test database, on the replica's port) for one test.

    Then the test's database access, on both aliases: the test case is set up once the alias
    exists and torn down before it goes. "replica" mirrors "default": it is never flushed.
    """
    primary = connections["default"].settings_dict
    settings.DATABASES["replica"] = {
        **primary, "HOST": "127.0.0.1", "PORT": str(replica_server.port),
        "OPTIONS": {**primary["OPTIONS"], "connect_timeout": 2},
        "TEST": {**primary["TEST"], "MIRROR": "default"},
    }
    request.getfixturevalue("transactional_db")
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.READ_YOUR_WRITES_SECONDS = 10
    health.forget_replica_status()
    replica = Replica(replica_server)
    try:
        yield replica
    finally:
        replica.close()
        connections["replica"].close()
        del connections["replica"]
        del settings.DATABASES["replica"]
        health.forget_replica_status()


@pytest.fixture
def supervisor(replica):
    user = UserFactory(username="supervisor_sun", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    return user


@pytest.fixture
def supervisor_client(supervisor, client):
    client.force_login(supervisor)
    return client


@pytest.fixture
def team(replica):
    return TeamFactory(code="after_sales", name="售后组")


def open_tickets() -> int:
    return Ticket.objects.filter(state__in=list(OPEN_STATES)).count()


def dashboard_backlog(client) -> int:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.context["backlog"].total


@pytest.fixture
def frozen_replica(replica, supervisor_client, team) -> Replica:
    """One open ticket on both; then replay paused and a second ticket on the primary only."""
    TicketFactory(team=team)
    replica.wait_until_replayed()
    replica.pause()
    TicketFactory(team=team)
    replica.wait_until_received()
    assert open_tickets() == 2
    return replica


def test_the_dashboard_reads_from_the_replica(frozen_replica, supervisor_client, settings):
    # The replica is as old as its last replayed transaction; allow that for this test.
    settings.REPLICA_MAX_LAG_SECONDS = 3600

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert dashboard_backlog(supervisor_client) == 1  # the replica's figure, not the primary's

    assert any("tickets_ticket" in query["sql"] for query in on_replica.captured_queries)
    assert replica_status().available


@pytest.mark.parametrize("page", [("dashboard-scorecard", {}), ("dashboard-export", {}),
                                  ("dashboard-export", {"format": "xlsx"})])
def test_the_ranking_and_the_report_downloads_read_from_the_replica(replica, supervisor_client,
                                                                    page):
    name, params = page
    replica.wait_until_replayed()

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert supervisor_client.get(reverse(name), params).status_code == 200

    assert any("reporting_dailyagentmetrics" in query["sql"]
               for query in on_replica.captured_queries)


def test_a_backtest_replays_the_replicas_decisions(replica, supervisor, team, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    PolicyRule.objects.all().delete()
    rule = PolicyRule.objects.create(
        name="R1", kind="refund_only", priority=10, max_item_amount=Decimal("100"),
        verdict="allow", refund_rule="item_remaining", auto_execute=True, source="test",
        reasons=["quality_defect"])
    change_set = changesets.propose_rule(actor=supervisor, rule=rule, values={
        **changesets.values_of(rule), "max_item_amount": Decimal("50")}).change_set

    def decide(amount: str) -> None:
        at = timezone.now()
        Resolution.objects.create(ticket=TicketFactory(team=team), kind="refund_only",
                                  created_at=at, facts=_facts_as_json(facts(amount, at)))

    decide("40.00")
    replica.wait_until_replayed()
    replica.pause()
    decide("88.00")  # changed by the draft, but not on the replica yet
    replica.wait_until_received()

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        result = backtest(change_set, days=90)

    assert (result.decisions, result.changed) == (1, 0)  # the replica's one decision
    assert Resolution.objects.count() == 2
    assert any("resolutions_resolution" in query["sql"] for query in on_replica.captured_queries)


def test_a_user_who_just_wrote_reads_from_the_primary(frozen_replica, supervisor_client,
                                                      settings):
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    bystander = Client()
    colleague = UserFactory(username="supervisor_qian", is_staff=True)
    colleague.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    bystander.force_login(colleague)

    response = supervisor_client.post(reverse("console-new-ticket"), {
        "external_id": "TEL-0001", "name": "王女士", "phone": "13900001111",
        "ticket_type": "consultation", "subject": "会员积分怎么用", "hand_over": "after_sales"})

    assert response.status_code == 302
    assert COOKIE_NAME in response.cookies
    assert open_tickets() == 3
    assert dashboard_backlog(supervisor_client) == 3  # their own write, from the primary
    assert dashboard_backlog(bystander) == 1  # everyone else: the replica, a moment behind


def test_a_replica_too_far_behind_is_not_read(frozen_replica, supervisor_client, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0

    assert dashboard_backlog(supervisor_client) == 2
    assert replica_status().lag_seconds > 0

    frozen_replica.resume()
    frozen_replica.wait_until_replayed()
    health.forget_replica_status()
    # Caught up: no delay at all, however long the primary has been idle.
    assert replica_status() == (True, True, 0.0)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert dashboard_backlog(supervisor_client) == 2
    assert any("tickets_ticket" in query["sql"] for query in on_replica.captured_queries)


def test_a_stopped_replica_sends_reads_to_the_primary(replica, supervisor_client, team, caplog,
                                                     monkeypatch):
    TicketFactory(team=team)
    replica.wait_until_replayed()
    assert dashboard_backlog(supervisor_client) == 1  # read from the replica, which is trusted
    monkeypatch.setattr(health, "CHECK_EVERY_SECONDS", 3600)  # ... for the next queries too
    caplog.set_level(logging.WARNING, logger="core.db.health")
    replica.close()
    replica.server.stop()
    try:
        TicketFactory(team=team)
        # The trusted replica fails halfway: the page is read again from the primary.
        assert dashboard_backlog(supervisor_client) == 2
        assert replica_status() == (True, False, None)
        # Measured again: refused at once, and said once, not on every request.
        monkeypatch.setattr(health, "CHECK_EVERY_SECONDS", 0)
        assert dashboard_backlog(supervisor_client) == 2
        assert dashboard_backlog(supervisor_client) == 2
        assert [record.levelname for record in caplog.records] == ["WARNING"]
        assert "unreachable" in caplog.records[0].getMessage()
    finally:
        replica.server.start()
    wait_for(lambda: replica_status().available, "the replica answers again")


def test_other_pages_never_touch_the_replica(replica, supervisor_client, team):
    ticket = TicketFactory(team=team)
    replica.wait_until_replayed()

    with CaptureQueriesContext(connections["replica"]) as on_replica:
        for url in (reverse("home"), reverse("console-queue", args=[next(iter(QUEUES))]),
                    reverse("console-ticket", args=[ticket.number])):
            assert supervisor_client.get(url).status_code in (200, 302), url

    assert on_replica.captured_queries == []


def test_writes_never_go_to_the_replica(replica, team):
    with CaptureQueriesContext(connections["replica"]) as on_replica, replica_reads():
        assert open_tickets() == 0  # read from the replica
        ticket = TicketFactory(team=team)  # a write inside the scope: the primary
        assert open_tickets() == 1  # and the scope's reads after it: the primary too

    assert Ticket.objects.filter(pk=ticket.pk).exists()
    sql = [query["sql"].split()[0].upper() for query in on_replica.captured_queries]
    assert "SELECT" in sql
    assert not {"INSERT", "UPDATE", "DELETE"} & set(sql)
