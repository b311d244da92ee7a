"""The read-replica router's decisions, on any database: no replica is needed to run these.

Where a replica is "configured" here, its alias copies the primary's settings and its health
is stubbed (`health._measure`), so these check the rules, not PostgreSQL;
tests/cluster/test_replica.py shows the same rules on a real streaming replica.
"""

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import time_machine
from django.db import OperationalError, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core.db import health, scope
from core.db.health import ReplicaStatus, replica_status
from core.db.middleware import COOKIE_NAME, ReadYourWritesMiddleware
from core.db.router import ReplicaRouter
from core.db.scope import reads_from_replica, replica_reads
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
router = ReplicaRouter()


class Clock:
    """time.monotonic as health sees it, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(health, "time", fake)
    return fake


def read_db() -> str:
    return router.db_for_read(Ticket)


@pytest.fixture(autouse=True)
def _fresh_status():
    health.forget_replica_status()
    yield
    health.forget_replica_status()


class StubReplica:
    """A configured replica whose measured state the test sets."""

    def __init__(self) -> None:
        self.status = ReplicaStatus(configured=True, available=True, lag_seconds=0.0)
        self.error: OperationalError | None = None
        self.measured = 0

    def measure(self):
        self.measured += 1
        return self.status, self.error

    def lagging(self, seconds: float | None) -> None:
        self.status = ReplicaStatus(configured=True, available=True, lag_seconds=seconds)
        health.forget_replica_status()

    def down(self) -> None:
        self.status = health.UNREACHABLE
        self.error = OperationalError("connection refused")
        health.forget_replica_status()


@pytest.fixture
def replica(settings, monkeypatch):
    """A configured replica (the primary's settings under the "replica" alias), healthy."""
    stub = StubReplica()
    monkeypatch.setitem(settings.DATABASES, "replica",
                        {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}})
    monkeypatch.setattr(health, "_measure", stub.measure)
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.READ_YOUR_WRITES_SECONDS = 10
    return stub


# --- without a replica: everything as before --------------------------------------------------
def test_without_a_replica_every_read_goes_to_the_primary():
    assert replica_status() == (False, False, None)
    assert read_db() == "default"
    with replica_reads():
        assert read_db() == "default"
    assert router.db_for_write(Ticket) == "default"


@pytest.mark.django_db
def test_without_a_replica_the_dashboard_answers_and_no_write_mark_is_set(client, supervisor):
    client.force_login(supervisor)

    assert client.get(reverse("dashboard")).status_code == 200
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert COOKIE_NAME not in response.cookies


def run_settings(**env_overrides) -> dict:
    probe = ("import json, django; from django.conf import settings; django.setup(); "
             "print(json.dumps({'aliases': sorted(settings.DATABASES), "
             "'replica': {k: v for k, v in settings.DATABASES.get('replica', {}).items() "
             "if k in ('HOST', 'PORT', 'NAME', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'TEST', "
             "'OPTIONS')}, 'routers': settings.DATABASE_ROUTERS, "
             "'lag': settings.REPLICA_MAX_LAG_SECONDS, 'ryw': settings.READ_YOUR_WRITES_SECONDS,"
             "'middleware': 'core.db.middleware.ReadYourWritesMiddleware' in settings.MIDDLEWARE}))")
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REPLICA_MAX_LAG_SECONDS",
                          "READ_YOUR_WRITES_SECONDS"}}
    env.update({"DJANGO_SETTINGS_MODULE": "cs_console.settings", "ENV_FILE": os.devnull,
                "DEBUG": "true", **env_overrides})
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_replica_alias_exists_only_when_its_url_is_set():
    plain = run_settings()
    with_replica = run_settings(
        DATABASE_URL="postgres://cs@db.internal:5432/console",
        DATABASE_REPLICA_URL="postgres://cs@replica.internal:5432/console",
        REPLICA_MAX_LAG_SECONDS="2.5", READ_YOUR_WRITES_SECONDS="30")

    assert plain["aliases"] == ["default"]
    assert plain["routers"] == ["core.db.router.ReplicaRouter"]
    assert plain["middleware"]
    assert (plain["lag"], plain["ryw"]) == (5.0, 10)
    assert with_replica["aliases"] == ["default", "replica"]
    replica = with_replica["replica"]
    assert (replica["HOST"], replica["NAME"]) == ("replica.internal", "console")
    # Kept and checked like the primary's connections; tests read the primary's database.
    assert (replica["CONN_MAX_AGE"], replica["CONN_HEALTH_CHECKS"]) == (60, True)
    assert replica["TEST"]["MIRROR"] == "default"
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert (with_replica["lag"], with_replica["ryw"]) == (2.5, 30)


# --- the rules, with a replica -------------------------------------------------------------------
def test_reads_go_to_the_replica_only_inside_a_reporting_scope(replica):
    assert read_db() == "default"
    with replica_reads():
        assert read_db() == "replica"
    assert read_db() == "default"


def test_a_scope_does_not_reach_other_threads(replica):
    seen = []
    with replica_reads():
        worker = threading.Thread(target=lambda: seen.append(read_db()))
        worker.start()
        worker.join()
        assert read_db() == "replica"
    assert seen == ["default"]


def test_writes_and_migrations_go_to_the_primary(replica):
    with replica_reads():
        assert router.db_for_write(Ticket) == "default"
    assert router.allow_migrate("default", "tickets") is True
    assert router.allow_migrate("replica", "tickets") is False


def test_a_row_from_the_replica_may_point_at_one_from_the_primary(replica):
    from_replica, from_primary = Ticket(), Ticket()
    from_replica._state.db, from_primary._state.db = "replica", "default"

    assert router.allow_relation(from_replica, from_primary) is True


def test_after_a_write_the_scope_reads_from_the_primary(replica):
    with replica_reads():
        assert read_db() == "replica"
        router.db_for_write(Ticket)
        assert read_db() == "default"
    with replica_reads():  # a new scope starts clean
        assert read_db() == "replica"


def test_a_user_who_wrote_recently_reads_from_the_primary(replica):
    with scope.tracking_writes(recent=True), replica_reads():
        assert read_db() == "default"
    with scope.tracking_writes(recent=False), replica_reads():
        assert read_db() == "replica"


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_reads_stay_on_the_primary(replica):
    with replica_reads():
        assert read_db() == "replica"
        with transaction.atomic():
            assert read_db() == "default"


@pytest.mark.parametrize(("lag", "expected"), [
    (0.0, "replica"), (5.0, "replica"), (5.1, "default"), (None, "default")])
def test_a_replica_too_far_behind_is_not_read(replica, lag, expected):
    replica.lagging(lag)

    with replica_reads():
        assert read_db() == expected
    assert replica_status() == (True, True, lag)


def test_the_status_is_measured_once_for_many_queries(replica):
    with replica_reads():
        for _ in range(50):
            read_db()

    assert replica.measured == 1


def test_the_status_is_measured_again_after_a_moment(replica, clock):
    assert replica_status().lag_seconds == 0.0
    replica.status = ReplicaStatus(configured=True, available=True, lag_seconds=60.0)

    clock.advance(health.CHECK_EVERY_SECONDS / 2)
    assert replica_status().lag_seconds == 0.0
    clock.advance(health.CHECK_EVERY_SECONDS / 2)
    assert replica_status().lag_seconds == 60.0
    assert replica.measured == 2


def test_an_unreachable_replica_sends_reads_to_the_primary_and_is_logged_once(
        replica, clock, caplog):
    replica.down()
    caplog.set_level(logging.INFO, logger="core.db.health")

    for _ in range(3):
        with replica_reads():
            assert read_db() == "default"
        clock.advance(health.CHECK_EVERY_SECONDS)
    assert replica_status() == (True, False, None)
    assert replica.measured == 4
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "unreachable" in caplog.records[0].getMessage()

    replica.status, replica.error = ReplicaStatus(True, True, 0.0), None
    clock.advance(health.CHECK_EVERY_SECONDS)
    with replica_reads():
        assert read_db() == "replica"
    assert [record.levelname for record in caplog.records] == ["WARNING", "INFO"]


# --- the decorator: the primary again when the replica fails halfway ---------------------------
def test_a_report_that_loses_the_replica_runs_again_on_the_primary(replica, caplog):
    served_by = []

    @reads_from_replica
    def report():
        database = read_db()
        served_by.append(database)
        if database == "replica":
            raise OperationalError("server closed the connection unexpectedly")
        return "figures"

    assert report() == "figures"
    assert served_by == ["replica", "default"]
    assert replica_status() == (True, False, None)  # until it is measured again


def test_an_error_of_the_primary_is_not_retried(replica):
    calls = []

    @reads_from_replica
    def report():
        calls.append(1)
        raise OperationalError("the primary is gone")

    with scope.tracking_writes(recent=True), pytest.raises(OperationalError):
        report()
    assert calls == [1]


# --- the read-your-writes mark ------------------------------------------------------------------
def _respond_with(status: int, seen: list):
    def view(request):
        with replica_reads():
            seen.append(read_db())
        return HttpResponse(status=status)
    return ReadYourWritesMiddleware(view)


@pytest.mark.parametrize(("method", "status", "marked"), [
    ("post", 200, True), ("post", 302, True), ("delete", 204, True), ("patch", 200, True),
    ("post", 400, False), ("post", 403, False), ("get", 200, False), ("head", 200, False)])
def test_a_successful_unsafe_request_marks_the_user_as_having_written(
        replica, settings, method, status, marked):
    response = _respond_with(status, [])(getattr(RequestFactory(), method)("/"))

    assert (COOKIE_NAME in response.cookies) is marked
    if marked:
        cookie = response.cookies[COOKIE_NAME]
        assert cookie["max-age"] == settings.READ_YOUR_WRITES_SECONDS
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"


def _marked_request(factory: RequestFactory, value: str):
    request = factory.get("/dashboard/")
    request.COOKIES[COOKIE_NAME] = value
    return request


def _mark() -> str:
    response = _respond_with(200, [])(RequestFactory().post("/"))
    return response.cookies[COOKIE_NAME].value


def test_the_marked_user_reads_from_the_primary_until_the_window_passes(replica):
    with time_machine.travel("2026-12-01 10:00:00Z", tick=False) as clock:
        mark = _mark()
        seen = []
        _respond_with(200, seen)(_marked_request(RequestFactory(), mark))
        clock.shift(9)
        _respond_with(200, seen)(_marked_request(RequestFactory(), mark))
        clock.shift(2)
        _respond_with(200, seen)(_marked_request(RequestFactory(), mark))

    assert seen == ["default", "default", "replica"]


def test_a_forged_mark_is_ignored(replica):
    seen = []
    _respond_with(200, seen)(_marked_request(RequestFactory(), "1"))

    assert seen == ["replica"]


def test_a_write_in_the_request_keeps_its_later_reads_on_the_primary(replica):
    seen = []

    def view(request):
        router.db_for_write(Ticket)  # e.g. a service saved a ticket before the report
        with replica_reads():
            seen.append(read_db())
        return HttpResponse()

    ReadYourWritesMiddleware(view)(RequestFactory().get("/"))

    assert seen == ["default"]
