"""Liveness and readiness: what a load balancer and an orchestrator ask each node.

The readiness checks run for real against the test database, the test storage and Redis;
the failures are real failures (a closed port, a file where the media folder should be, a
connection refused) except the unapplied migration, which is a migration the code claims.
"""

import socket
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.urls import reverse

from core.db.health import ReplicaStatus
from core.observability import health

pytestmark = pytest.mark.django_db

# A port of this test's own range with nothing listening on it.
CLOSED_PORT = 9111


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", CLOSED_PORT)) != 0, "something listens on 9111"
    return CLOSED_PORT


@pytest.fixture(autouse=True)
def _one_node_configuration(settings):
    """Start from the single-process set-up (ORM broker, local cache) whatever the environment
    says; the tests that want Redis configure it themselves."""
    settings.Q_CLUSTER = {**{key: value for key, value in settings.Q_CLUSTER.items()
                             if key != "redis"}, "orm": "default"}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def ready(client):
    response = client.get(reverse("health-ready"))
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("health-live"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_answers_while_the_database_is_down(client):
    with mock.patch.object(type(connections["default"]), "ensure_connection",
                           side_effect=OperationalError("connection refused")):
        assert client.get(reverse("health-live")).status_code == 200


def test_a_healthy_node_is_ready(client):
    status, body = ready(client)

    assert status == 200
    assert body == {"status": "ok",
                    "checks": {"database": "ok", "migrations": "ok", "storage": "ok"}}


def test_probes_need_no_log_in(client):
    # An anonymous request elsewhere is sent to the log-in page; the probes answer.
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("health-live")).status_code == 200
    assert client.get(reverse("health-ready")).status_code == 200


def test_probes_over_plain_http_are_answered_where_pages_are_sent_to_https(client, settings):
    """The load balancer probes each node directly, without TLS or X-Forwarded-Proto."""
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(reverse("home")).status_code == 301
    assert client.get(reverse("health-live")).status_code == 200
    assert client.get(reverse("health-ready")).status_code == 200
    assert client.get(reverse("metrics"), REMOTE_ADDR="127.0.0.1").status_code == 200


def test_an_unreachable_database_makes_the_node_unready_without_saying_where_it_is(client):
    refusal = OperationalError('connection to server at "10.1.2.3", port 5432 failed: '
                               'FATAL: password authentication failed for user "cs_secret"')
    with mock.patch.object(type(connections["default"]), "temporary_connection", side_effect=refusal):
        status, body = ready(client)

    assert status == 503
    assert body["status"] == "unavailable"
    assert "database" in body["failed"]
    assert body["checks"]["database"] == "unavailable"
    assert body["checks"]["storage"] == "ok"
    text = str(body)
    assert "10.1.2.3" not in text
    assert "cs_secret" not in text
    assert "5432" not in text


def test_an_unreachable_redis_broker_makes_the_node_unready(client, settings, closed_port):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": f"redis://127.0.0.1:{closed_port}/9"}
    del settings.Q_CLUSTER["orm"]

    status, body = ready(client)

    assert status == 503
    assert body["failed"] == ["redis"]
    assert body["checks"]["redis"] == "broker unreachable"
    assert str(closed_port) not in str(body)


@pytest.mark.redis
def test_a_reachable_redis_broker_is_checked_and_ready(client, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:6379/9"}
    del settings.Q_CLUSTER["orm"]

    status, body = ready(client)

    assert status == 200
    assert body["checks"]["redis"] == "ok"


def test_without_redis_neither_broker_nor_cache_is_checked(client):
    checks = ready(client)[1]["checks"]

    assert "redis" not in checks
    assert "cache" not in checks


@pytest.mark.redis
def test_a_redis_cache_is_checked(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/9"}}

    status, body = ready(client)

    assert status == 200
    assert body["checks"]["cache"] == "ok"


def test_an_unreachable_redis_cache_makes_the_node_unready(client, settings, closed_port):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port}/9"}}

    status, body = ready(client)
    # Back to a cache that answers before the shared fixtures clear it.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert status == 503
    assert body["failed"] == ["cache"]
    assert str(closed_port) not in str(body)


def test_storage_that_cannot_be_written_makes_the_node_unready(client, settings, tmp_path):
    # A file where the media folder should be: nothing can be saved under it.
    blocked = tmp_path / "media"
    blocked.write_text("not a folder")
    settings.MEDIA_ROOT = blocked

    status, body = ready(client)

    assert status == 503
    assert body["failed"] == ["storage"]
    assert body["checks"]["storage"] == "unknown error"
    assert str(tmp_path) not in str(body)


def test_the_storage_probe_leaves_no_file_behind(client, settings):
    assert ready(client)[0] == 200

    leftovers = list(settings.MEDIA_ROOT.rglob("*")) if settings.MEDIA_ROOT.exists() else []
    assert leftovers == []


def test_an_unapplied_migration_makes_the_node_unready(client, monkeypatch):
    in_code = dict(health._migrations_in_code())
    in_code[("cs_console", "9999_not_applied_yet")] = ()
    monkeypatch.setattr(health, "_migrations_in_code", lambda: in_code)

    status, body = ready(client)

    assert status == 503
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == "1 migration(s) not applied"


def test_the_migrations_in_code_are_all_applied_in_the_test_database():
    assert health.unapplied_migrations() == []


def test_a_squashed_migration_counts_as_applied_when_what_it_replaces_is(monkeypatch):
    applied = next(iter(health._migrations_in_code()))
    squash = ("cs_console", "0001_squashed")
    monkeypatch.setattr(health, "_migrations_in_code", lambda: {squash: (applied,)})

    assert health.unapplied_migrations() == []


# --- the read replica ----------------------------------------------------------------------


@pytest.fixture
def with_replica(settings):
    # Safe here despite Django's warning: the replica's status is replaced, no connection opens.
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    settings.REPLICA_MAX_LAG_SECONDS = 5


def _status(available=True, lag=None):
    return ReplicaStatus(configured=True, available=available, lag_seconds=lag)


def test_without_a_replica_its_lag_is_not_checked(client):
    assert "replica" not in ready(client)[1]["checks"]


@pytest.mark.usefixtures("with_replica")
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_replica_within_its_lag_limit_is_fine(client):
    with mock.patch.object(health, "replica_status", return_value=_status(lag=1.5)) as status:
        code, body = ready(client)

    status.assert_called_once_with()
    assert code == 200
    assert body["checks"]["replica"] == "ok"


@pytest.mark.usefixtures("with_replica")
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize(("status", "reason"), [
    (_status(lag=30.0), "replica 30 s behind (limit 5 s)"),
    (_status(lag=None), "replica lag unknown"),
    (_status(available=False), "replica unreachable"),
])
def test_a_lagging_or_lost_replica_is_reported_but_the_node_stays_in_rotation(client, status,
                                                                               reason):
    """Every node reads the same replica and falls back to the primary: no reason to drain them."""
    with mock.patch.object(health, "replica_status", return_value=status):
        code, body = ready(client)

    assert code == 200
    assert body["status"] == "degraded"
    assert body["degraded"] == ["replica"]
    assert body["checks"]["replica"] == reason
