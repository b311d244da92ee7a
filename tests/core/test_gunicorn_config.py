"""A web node as deploy/gunicorn.conf.py runs it: workers forked from a loaded master.

The master imports the project (and warms the URLs and catalogues) before it forks; each
worker must still open its own database connection, and a worker that reaches max_requests
is replaced by a new fork that serves as well.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _get(port: int, path: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http, the node started here
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _database_sockets(pid: int, port: int) -> int:
    """How many TCP connections process `pid` holds to `port` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                count += 1
    return count


@pytest.fixture
def node(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "false",
           "SECRET_KEY": "gunicorn-config-test-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
           "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "cs_console.settings",
           "PREPARED_STATEMENTS": "true"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "cs_console.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--max-requests", "3", "--max-requests-jitter", "0", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=tmp_path.joinpath("err").open("w"))
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start: " + tmp_path.joinpath("err").read_text())
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_forked_workers_read_the_database_and_are_replaced_after_max_requests(node, agent):
    server, port = node
    token = Token.objects.create(user=agent).key
    workers = set()
    for _ in range(8):
        status, body = _get(port, "/api/v1/tickets/", token)
        assert status == 200, body[:500]
        workers |= _children(server.pid)

    # Three requests each, then replaced: at least three workers served the eight.
    assert len(workers) >= 3
    # The master itself never holds a database connection its workers would share.
    assert _database_sockets(server.pid, int(settings.DATABASES["default"]["PORT"] or 5432)) == 0
