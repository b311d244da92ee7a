"""deploy/cluster.py: it stops only what it started, and the files it deploys are valid."""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_DIR", str(tmp_path / "cluster"))
    spec = importlib.util.spec_from_file_location("cluster_script", ROOT / "deploy" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.RUN.mkdir(parents=True)
    module.LOG.mkdir(parents=True)
    return module


def _sleeper(mark: str) -> subprocess.Popen:
    # A process whose command line carries `mark`, as a started part's would (once it has
    # exec'd: until then it shows its parent's command line).
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", mark])
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 5
    while mark.encode() not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    return process


def _gone(process: subprocess.Popen) -> bool:
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_stop_signals_the_process_its_pid_file_names(cluster):
    started = _sleeper("gunicorn")
    (cluster.RUN / "web1.pid").write_text(str(started.pid))

    cluster.stop_pid("web1", timeout=5)

    assert _gone(started)
    assert not (cluster.RUN / "web1.pid").exists()


def test_a_stale_pid_file_never_kills_another_process(cluster):
    # The pid now belongs to something else (no "gunicorn" in its command line).
    bystander = _sleeper("not-ours")
    (cluster.RUN / "web1.pid").write_text(str(bystander.pid))
    try:
        cluster.stop_pid("web1", timeout=1)
        time.sleep(0.2)
        assert bystander.poll() is None
        assert not (cluster.RUN / "web1.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_status_reports_every_part_down_before_a_start(cluster, monkeypatch):
    monkeypatch.setattr(cluster, "port_open", lambda port: False)
    parts = cluster.status()
    assert set(parts) == {"nginx", "primary", "replica", "pgbouncer", "redis", "s3", "web1",
                          "web2", "worker1", "worker2"}
    assert not any(part["up"] for part in parts.values())


def test_the_environment_names_every_part_and_keeps_secrets_out_of_git(cluster):
    env = cluster.cluster_env()
    assert env["DATABASE_POOLER"] == "pgbouncer-transaction"
    assert env["DATABASE_URL"].endswith(f":{cluster.PGBOUNCER_PORT}/{cluster.DB_NAME}")
    assert env["DATABASE_REPLICA_URL"].endswith(f":{cluster.REPLICA_PORT}/{cluster.DB_NAME}")
    for name in ("S3_BUCKET", "REDIS_URL", "CACHE_URL", "METRICS_TOKEN", "SECRET_KEY"):
        assert env[name], name
    assert env["DEBUG"] == "false"
    # Generated once, kept beside the data (which git ignores), readable by root only.
    assert cluster.cluster_env()["SECRET_KEY"] == env["SECRET_KEY"]
    assert oct((cluster.CLUSTER / "secret-key").stat().st_mode & 0o777) == "0o600"
    assert ".cluster/" in (ROOT / ".gitignore").read_text()


@pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(),
                    reason="needs nginx (Debian's package; .ci/run installs it)")
def test_the_nginx_site_it_deploys_is_valid(cluster, tmp_path):
    site = tmp_path / "site.conf"
    cluster.render(ROOT / "deploy" / "nginx" / "cs-console.conf", site, {
        "UPSTREAM_SERVERS": "    least_conn;\n    server 127.0.0.1:1;\n    server 127.0.0.1:2;",
        "LISTEN": "127.0.0.1:1", "LOG_DIR": str(tmp_path),
    })
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    "events {}\nhttp {\n"
                    f"    include {site};\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(tmp_path)],
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PATH": os.environ.get("PATH", "")})
    assert result.returncode == 0, result.stderr
    assert not [line for line in site.read_text().splitlines()
                if "{{" in line and not line.lstrip().startswith("#")]
