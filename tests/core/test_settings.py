"""Settings come from the environment; these run Django in a subprocess with a chosen one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), 'host': db.get('HOST', ''),"
    " 'debug': settings.DEBUG, 'tz': settings.TIME_ZONE, 'use_tz': settings.USE_TZ,"
    " 'hosts': settings.ALLOWED_HOSTS, 'languages': [c for c, _ in settings.LANGUAGES],"
    " 'broker': 'redis' if 'redis' in settings.Q_CLUSTER else 'orm'}))"
)


def run_settings(**env_overrides) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "TIME_ZONE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "cs_console.settings", "ENV_FILE": os.devnull})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )


def read_settings(**env_overrides) -> dict:
    result = run_settings(**env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_database_url_the_default_is_a_sqlite_file_in_the_project():
    probe = read_settings(DEBUG="true")

    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["name"] == str(ROOT / "db.sqlite3")


def test_database_url_selects_postgresql():
    probe = read_settings(DEBUG="true", DATABASE_URL="postgres://cs:secret@db.internal:5433/console")

    assert probe["engine"] == "core.db.postgresql"  # Django's, health check changed
    assert probe["name"] == "console"
    assert probe["host"] == "db.internal"


def test_time_zone_defaults_to_shanghai_with_aware_datetimes():
    probe = read_settings(DEBUG="true")

    assert probe["tz"] == "Asia/Shanghai"
    assert probe["use_tz"] is True
    assert probe["languages"] == ["zh-hans", "en"]


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_secret_key_and_hosts_from_the_environment():
    probe = read_settings(
        DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="cs.example.com,admin.example.com"
    )

    assert probe["debug"] is False
    assert probe["hosts"] == ["cs.example.com", "admin.example.com"]


@pytest.mark.parametrize("value", ["false", "0", "no"])
def test_debug_is_off_unless_asked_for(value):
    probe = read_settings(DEBUG=value, SECRET_KEY="y" * 50)

    assert probe["debug"] is False


def test_the_task_broker_is_the_database_unless_redis_is_configured():
    assert read_settings(DEBUG="true")["broker"] == "orm"
    assert read_settings(DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")["broker"] == "redis"


@pytest.mark.redis
@pytest.mark.django_db
def test_the_redis_broker_reaches_the_local_redis(settings):
    """Queue and take back a task through django-q2's Redis broker (Redis runs in CI)."""
    from django_q.brokers.redis_broker import Redis

    broker = Redis(list_key="cs_console_test_queue")
    broker.connection = Redis.get_connection({"host": "127.0.0.1", "port": 6379, "db": 15})
    broker.purge_queue()
    broker.enqueue("payload")
    assert broker.queue_size() == 1
    ((_task_id, payload),) = broker.dequeue()
    assert payload == b"payload"
    broker.purge_queue()
