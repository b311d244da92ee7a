"""The console behind PgBouncer in transaction mode (DATABASE_POOLER=pgbouncer-transaction).

A real PgBouncer, configured by deploy/pgbouncer/pgbouncer.ini, is put in front of the test
database. One
Django connection walks a queryset with iterator() while another holds a transaction: without
the pooler settings iterator() declares a named cursor on one server connection and fetches
its next chunk from whichever server connection PgBouncer hands out next, where the cursor
does not exist. With the settings it reads client-side and works.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROOT = Path(settings.BASE_DIR)
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

WORKLOAD = textwrap.dedent("""
    import json
    import django
    from django.conf import settings
    settings.DATABASES["other"] = dict(settings.DATABASES["default"])
    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections, transaction

    try:
        for _ in range(3):
            # One connection walks a queryset in chunks outside any transaction while the
            # other holds a transaction: PgBouncer gives the second the server connection the
            # first used last, so the first's next chunk comes from another server connection.
            rows = ContentType.objects.using("default").values_list("pk", flat=True)
            walk = rows.iterator(chunk_size=1)
            next(walk)
            with transaction.atomic(using="other"):
                ContentType.objects.using("other").filter(pk__gt=0).count()
                next(walk)
            list(walk)
        print(json.dumps({"ok": True, "options": settings.DATABASES["default"].get("OPTIONS"),
                          "cursors_off": settings.DATABASES["default"].get(
                              "DISABLE_SERVER_SIDE_CURSORS")}))
    except Exception as error:
        print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
    finally:
        for alias in ("default", "other"):
            connections[alias].close()
""")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pgbouncer():
    if not Path(PGBOUNCER).exists():
        pytest.skip("needs PgBouncer (Debian's pgbouncer package; .ci/run installs it)")
    # Not under pytest's own temporary folder: that one is private to root, and PgBouncer
    # runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="cs-pgbouncer-"))
    port = _free_port()
    db = settings.DATABASES["default"]
    (folder / "users.txt").write_text(f'"{db["USER"]}" ""\n')
    # The file `make cluster` and a deployment use, with this test's addresses.
    template = (ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini").read_text()
    values = {
        "DATABASES": f"* = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432}",
        "LISTEN_ADDR": "127.0.0.1", "LISTEN_PORT": str(port), "AUTH_TYPE": "trust",
        "AUTH_FILE": str(folder / "users.txt"), "LOG_FILE": str(folder / "pgbouncer.log"),
        "PID_FILE": str(folder / "pgbouncer.pid"),
    }
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    (folder / "pgbouncer.ini").write_text(template)
    command = [PGBOUNCER, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("PgBouncer did not start")
    yield port
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


def _run_workload(port: int, pooler: str) -> dict:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "cs_console.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{port}/{connection.settings_dict['NAME']}",
        "DATABASE_POOLER": pooler,
        "CONN_MAX_AGE": "0",
    }
    result = subprocess.run([sys.executable, "-c", WORKLOAD], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_transaction_pooling_works_with_the_pooler_settings(pgbouncer):
    outcome = _run_workload(pgbouncer, "pgbouncer-transaction")
    assert outcome["ok"], outcome
    assert outcome["cursors_off"] is True
    assert outcome["options"]["prepare_threshold"] is None


def test_transaction_pooling_breaks_without_them(pgbouncer):
    # The control: the same workload on the same pooler fails without the settings, so the
    # test above shows what they do.
    outcome = _run_workload(pgbouncer, "")
    assert not outcome["ok"]
    assert "cursor" in outcome["error"]


def test_an_unknown_pooler_is_refused():
    env = {**os.environ, "ENV_FILE": "/dev/null", "DATABASE_POOLER": "pgpool"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "cs_console.settings"}, cwd=ROOT,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_POOLER" in result.stderr
