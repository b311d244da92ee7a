"""The per-request health check of a kept PostgreSQL connection (core/db/postgresql)."""

import socket
import time

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, connections

from core.db.postgresql.base import has_nothing_to_read


def test_a_socket_with_a_message_or_its_end_waiting_is_not_quiet():
    ours, server = socket.socketpair()
    with ours, server:
        assert has_nothing_to_read(ours.fileno())
        server.sendall(b"E")
        assert not has_nothing_to_read(ours.fileno())
    ours, server = socket.socketpair()
    with ours:
        server.close()  # the peer went away: the end of the stream is readable
        assert not has_nothing_to_read(ours.fileno())


@pytest.fixture
def kept_connection():
    """The test's connection, kept and checked between requests as in production."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connection")
    assert connection.settings_dict["ENGINE"] == "core.db.postgresql"
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.settings_dict.update({"CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True})
    connection.close()
    connection.ensure_connection()
    yield connection
    connection.settings_dict.update(saved)
    connection.close()


def next_request():
    """What Django does between two requests: finish one (keep the connection), start one."""
    request_finished.send(sender=None)
    request_started.send(sender=None)


def count_select_one(monkeypatch) -> list:
    asked = []
    wrapper = type(connections["default"])
    real = wrapper.is_usable

    def is_usable(self):
        asked.append(True)
        return real(self)

    monkeypatch.setattr(wrapper, "is_usable", is_usable)
    return asked


@pytest.mark.django_db(transaction=True)
def test_a_quiet_idle_connection_is_kept_without_asking_the_server(kept_connection, monkeypatch):
    asked = count_select_one(monkeypatch)
    kept = connection.connection
    next_request()

    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
    assert connection.connection is kept
    assert asked == []


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_request_s_first_query(
        kept_connection, monkeypatch):
    asked = count_select_one(monkeypatch)
    kept = connection.connection
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [kept.info.backend_pid])
    deadline = time.monotonic() + 5
    while has_nothing_to_read(kept.pgconn.socket) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's farewell is on its way
    next_request()

    with connection.cursor() as cursor:  # no error: the request never sees the dead one
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
    assert connection.connection is not kept
    assert asked == [True]  # the socket was not quiet, so Django's own check decided


@pytest.mark.django_db(transaction=True)
def test_a_connection_left_inside_a_transaction_is_asked_as_before(kept_connection, monkeypatch):
    asked = count_select_one(monkeypatch)
    connection.connection.execute("BEGIN")  # not idle: only the server can tell its state
    connection.health_check_done = False

    connection.close_if_health_check_failed()

    assert asked == [True]
    connection.connection.execute("ROLLBACK")
