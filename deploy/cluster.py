"""A local cluster of the console on one machine, built from the parts a real deployment uses.

    make cluster          # = python deploy/cluster.py start
    make cluster-stop     # = python deploy/cluster.py stop

What runs (all on 127.0.0.1; the ports can be moved with the CLUSTER_*_PORT variables):

    nginx :8080 ──► gunicorn node 1 :8081, node 2 :8082 (2 workers each)
                      │ DATABASE_URL ──► PgBouncer :6440 (transaction mode) ──► PostgreSQL :5440
                      │ DATABASE_REPLICA_URL ──► streaming replica :5441 (pg_basebackup)
                      │ REDIS_URL / CACHE_URL ──► Redis :6380 (django-q2 broker, shared cache)
                      │ S3_* ──► S3-compatible endpoint :9000 (moto server)
    django-q2 clusters 1 and 2 (`manage.py qcluster`), same settings

Its own PostgreSQL (initdb'd here, with replication allowed), Redis and object store are
started beside the machine's services and touch none of them. Everything it starts records a
pid file under `.cluster/run/`; `stop` stops exactly those processes (each pid is checked
against the command it was started with) and nothing else. The data stays in `.cluster/` for
the next start; `stop --wipe` removes it.

`.cluster/env` holds the environment every node runs with — the same variables a real
deployment sets (deploy/systemd/cs-console.env.example) — so management commands can run
against the cluster: `set -a; . .cluster/env; set +a; .venv/bin/python manage.py ...`.

Faults for load tests (bench/load/): `fault kill-web N`, `fault kill-worker N`,
`fault restart-redis`, `fault cut-replica`; `heal` starts whatever is down again;
`status` prints what is up as JSON.

Needs Debian's nginx, pgbouncer, redis-server and postgresql-15 (it installs the missing ones
with apt-get when run as root), and root: PostgreSQL and PgBouncer run as the `postgres` user.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = Path(os.environ.get("CLUSTER_DIR", ROOT / ".cluster")).resolve()
RUN = CLUSTER / "run"
LOG = CLUSTER / "log"
PYTHON = Path(os.environ.get("CLUSTER_PYTHON", ROOT / ".venv" / "bin" / "python"))
VENV_BIN = PYTHON.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(f"CLUSTER_{name}_PORT", default))


NGINX_PORT = _port("NGINX", 8080)
WEB_PORTS = {1: _port("WEB1", 8081), 2: _port("WEB2", 8082)}
PRIMARY_PORT = _port("PRIMARY", 5440)
REPLICA_PORT = _port("REPLICA", 5441)
PGBOUNCER_PORT = _port("PGBOUNCER", 6440)
REDIS_PORT = _port("REDIS", 6380)
S3_PORT = _port("S3", 9000)
WORKERS = (1, 2)
WEB_WORKERS = int(os.environ.get("CLUSTER_WEB_WORKERS", "2"))
DB_NAME = "cs_cluster"
BUCKET = "cs-console-evidence"

PRIMARY_DIR = CLUSTER / "pg-primary"
REPLICA_DIR = CLUSTER / "pg-replica"
PG_LOG_DIR = CLUSTER / "pg-log"  # owned by postgres: pg_ctl and PgBouncer write here
REDIS_DIR = CLUSTER / "redis"
S3_DIR = CLUSTER / "s3"


# --- small helpers --------------------------------------------------------------------------

def say(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def run(args: list[str | Path], *, env: dict[str, str] | None = None, check: bool = True,
        quiet: bool = False, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(arg) for arg in args]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, env=env, text=True, capture_output=True, cwd=ROOT)
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"[cluster] failed: {' '.join(command)}")
    if not quiet and result.stdout.strip():
        print(result.stdout.rstrip())
    return result


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((HOST, port)) == 0


def wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"[cluster] {what} did not come up within {timeout:.0f} s (logs: {LOG}).")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def read_pid(name: str) -> int | None:
    path = RUN / f"{name}.pid"
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# Which command each pid file's process must be running: a stale pid file whose number the
# system has since given to another process is never signalled.
SIGNATURES = {"nginx": "nginx", "web1": "gunicorn", "web2": "gunicorn",
              "worker1": "qcluster", "worker2": "qcluster", "redis": "redis-server",
              "pgbouncer": "pgbouncer"}


def live_pid(name: str) -> int | None:
    pid = read_pid(name)
    if pid and SIGNATURES[name] in cmdline(pid):
        return pid
    return None


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stop_pid(name: str, sig: int = signal.SIGTERM, timeout: float = 30.0,
             group: bool = False) -> None:
    pid = live_pid(name)
    if pid is None:
        (RUN / f"{name}.pid").unlink(missing_ok=True)
        return
    family = [pid, *children(pid)]
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and cmdline(p)
                                              for p in family):
        time.sleep(0.2)
    for straggler in family:
        if cmdline(straggler):
            with contextlib.suppress(ProcessLookupError):
                os.kill(straggler, signal.SIGKILL)
    (RUN / f"{name}.pid").unlink(missing_ok=True)


def render(template: Path, target: Path, values: dict[str, str]) -> None:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    target.write_text(text)


def chown_postgres(path: Path) -> None:
    shutil.chown(path, "postgres", "postgres")


# --- the environment every node runs with ---------------------------------------------------

def cluster_env() -> dict[str, str]:
    secret_file = CLUSTER / "secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(50))
        secret_file.chmod(0o600)
    metrics_file = CLUSTER / "metrics-token"
    if not metrics_file.exists():
        metrics_file.write_text(secrets.token_urlsafe(24))
        metrics_file.chmod(0o600)
    return {
        "DEBUG": "false",
        "SECRET_KEY": secret_file.read_text().strip(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on the loopback: the cookies cannot be Secure here (production: true).
        "SECURE_COOKIES": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": f"postgres://postgres@{HOST}:{PGBOUNCER_PORT}/{DB_NAME}",
        "DATABASE_POOLER": "pgbouncer-transaction",
        "DATABASE_REPLICA_URL": f"postgres://postgres@{HOST}:{REPLICA_PORT}/{DB_NAME}",
        "REPLICA_MAX_LAG_SECONDS": "5",
        "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
        "CACHE_URL": f"redis://{HOST}:{REDIS_PORT}/1",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": f"http://{HOST}:{S3_PORT}",
        "S3_ACCESS_KEY_ID": "cluster",
        "S3_SECRET_ACCESS_KEY": "cluster-secret",
        "S3_REGION": "us-east-1",
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": metrics_file.read_text().strip(),
        "PUBLIC_BASE_URL": f"http://{HOST}:{NGINX_PORT}",
    }


def process_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_", "S3_", "REDIS_", "CACHE_"))}
    env.update(cluster_env())
    env.update(extra or {})
    return env


def write_env_file() -> None:
    values = cluster_env()
    # Commands run by hand (migrate, check_invariants, backup drill) go to the primary
    # directly, as migrations must: PRIMARY_DATABASE_URL names it.
    values["PRIMARY_DATABASE_URL"] = f"postgres://postgres@{HOST}:{PRIMARY_PORT}/{DB_NAME}"
    lines = [f"{key}={value}" for key, value in values.items()]
    (CLUSTER / "env").write_text("\n".join(lines) + "\n")
    (CLUSTER / "env").chmod(0o600)


# --- the parts --------------------------------------------------------------------------------

def ensure_packages() -> None:
    wanted = {"nginx": "nginx", "pgbouncer": "pgbouncer", "redis-server": "redis-server"}
    missing = [package for binary, package in wanted.items()
               if shutil.which(binary) is None and not Path(f"/usr/sbin/{binary}").exists()]
    if not (PG_BIN / "pg_ctl").exists():
        missing.append("postgresql-15")
    if missing:
        say(f"installing {', '.join(missing)} from Debian's packages")
        run(["apt-get", "update", "-qq"], quiet=True)
        run(["apt-get", "install", "-y", "-qq", *missing],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, quiet=True)


def start_primary() -> None:
    if port_open(PRIMARY_PORT):
        return
    PG_LOG_DIR.mkdir(exist_ok=True)
    chown_postgres(PG_LOG_DIR)
    if not (PRIMARY_DIR / "PG_VERSION").exists():
        say(f"initdb of the primary in {PRIMARY_DIR}")
        PRIMARY_DIR.mkdir(exist_ok=True)
        chown_postgres(PRIMARY_DIR)
        run([PG_BIN / "initdb", "-D", PRIMARY_DIR, "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8"], user="postgres", quiet=True)
        with open(PRIMARY_DIR / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# deploy/cluster.py\n"
                f"listen_addresses = '{HOST}'\nport = {PRIMARY_PORT}\n"
                f"unix_socket_directories = '{PRIMARY_DIR}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = '256MB'\n"
                "hot_standby = on\nhot_standby_feedback = on\nmax_connections = 100\n"
                "shared_buffers = '256MB'\nsynchronous_commit = on\n"
            )
        (PRIMARY_DIR / "pg_hba.conf").write_text(
            "local all all trust\n"
            f"host all all {HOST}/32 trust\n"
            f"host replication all {HOST}/32 trust\n"
        )
    say(f"PostgreSQL primary on :{PRIMARY_PORT}")
    run([PG_BIN / "pg_ctl", "-D", PRIMARY_DIR, "-l", PG_LOG_DIR / "primary.log", "-w", "start"],
        user="postgres", quiet=True)
    exists = run(["psql", "-h", HOST, "-p", str(PRIMARY_PORT), "-U", "postgres", "-tAc",
                  f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"], quiet=True)
    if exists.stdout.strip() != "1":
        run(["createdb", "-h", HOST, "-p", str(PRIMARY_PORT), "-U", "postgres", DB_NAME])


def prepare_database(tickets: int) -> None:
    env = process_env({"DATABASE_URL": f"postgres://postgres@{HOST}:{PRIMARY_PORT}/{DB_NAME}",
                       "DATABASE_POOLER": "", "DATABASE_REPLICA_URL": ""})
    say("migrate (on the primary, not through the pooler)")
    run([PYTHON, "manage.py", "migrate", "--no-input"], env=env, quiet=True)
    marker = CLUSTER / "seeded"
    if not marker.exists():
        say("demo data")
        seed = run([PYTHON, "manage.py", "seed_demo", "--seed", "1", "--tickets", str(tickets)],
                   env=env, quiet=True)
        (CLUSTER / "demo-logins.txt").write_text(seed.stdout)
        token = run([PYTHON, "manage.py", "create_integration_account", "cluster-channel",
                     "--kind", "channel"], env=env, quiet=True)
        (CLUSTER / "integration-token").write_text(token.stdout.strip().splitlines()[-1])
        marker.touch()
    say("collectstatic")
    run([PYTHON, "manage.py", "collectstatic", "--no-input"], env=env, quiet=True)


def start_replica() -> None:
    if port_open(REPLICA_PORT):
        return
    say(f"streaming replica on :{REPLICA_PORT}")
    run([ROOT / "deploy" / "bin" / "pg-replica", "start", "--primary-host", HOST,
         "--primary-port", str(PRIMARY_PORT), "--port", str(REPLICA_PORT), "--dir", REPLICA_DIR])


def start_redis() -> None:
    if live_pid("redis"):
        return
    REDIS_DIR.mkdir(exist_ok=True)
    say(f"Redis on :{REDIS_PORT}")
    # Append-only file, fsync every second: queued tasks survive a restart of Redis.
    run(["redis-server", "--bind", HOST, "--port", str(REDIS_PORT), "--daemonize", "yes",
         "--pidfile", RUN / "redis.pid", "--dir", REDIS_DIR, "--appendonly", "yes",
         "--appendfsync", "everysec", "--save", "", "--logfile", LOG / "redis.log"])
    wait_for(lambda: live_pid("redis") is not None and port_open(REDIS_PORT), "Redis")


def start_s3() -> None:
    if port_open(S3_PORT):
        return
    say(f"S3-compatible endpoint on :{S3_PORT}")
    run([ROOT / "deploy" / "bin" / "s3-local", "start", "--port", str(S3_PORT), "--dir", S3_DIR,
         "--bucket", BUCKET])


def start_pgbouncer() -> None:
    if live_pid("pgbouncer"):
        return
    say(f"PgBouncer (transaction mode) on :{PGBOUNCER_PORT}")
    users = PG_LOG_DIR / "pgbouncer-users.txt"
    users.write_text('"postgres" ""\n')
    ini = PG_LOG_DIR / "pgbouncer.ini"
    pidfile = PG_LOG_DIR / "pgbouncer.pid"
    render(ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini", ini, {
        "DATABASES": f"{DB_NAME} = host={HOST} port={PRIMARY_PORT} dbname={DB_NAME}",
        "LISTEN_ADDR": HOST, "LISTEN_PORT": str(PGBOUNCER_PORT), "AUTH_TYPE": "trust",
        "AUTH_FILE": str(users), "LOG_FILE": str(PG_LOG_DIR / "pgbouncer.log"),
        "PID_FILE": str(pidfile),
    })
    for path in (users, ini):
        chown_postgres(path)
    run(["pgbouncer", "-d", "-u", "postgres", ini])
    wait_for(lambda: pidfile.exists() and port_open(PGBOUNCER_PORT), "PgBouncer")
    shutil.copy(pidfile, RUN / "pgbouncer.pid")


def metrics_dir(node: int) -> Path:
    return CLUSTER / "prometheus" / f"node{node}"


def reset_metrics() -> None:
    """Empty the nodes' metrics folders: at start only, never when one process restarts."""
    for node in WEB_PORTS:
        shutil.rmtree(metrics_dir(node), ignore_errors=True)
        metrics_dir(node).mkdir(parents=True)


def start_web(node: int) -> None:
    if live_pid(f"web{node}"):
        return
    port = WEB_PORTS[node]
    say(f"web node {node} (gunicorn, {WEB_WORKERS} workers) on :{port}")
    run([VENV_BIN / "gunicorn", "-c", ROOT / "deploy" / "gunicorn.conf.py", "cs_console.wsgi",
         "--bind", f"{HOST}:{port}", "--workers", str(WEB_WORKERS), "--daemon",
         "--pid", RUN / f"web{node}.pid",
         "--control-socket", RUN / f"web{node}.ctl", "--access-logfile", LOG / f"web{node}-access.log",
         "--error-logfile", LOG / f"web{node}.log", "--capture-output"],
        env=process_env({"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(node)),
                         "CLUSTER_NODE": f"web{node}"}))
    wait_for(lambda: live_pid(f"web{node}") is not None
             and http_ok(f"http://{HOST}:{port}/accounts/login/"), f"web node {node}")


def start_worker(number: int) -> None:
    if live_pid(f"worker{number}"):
        return
    say(f"task worker {number} (django-q2 qcluster)")
    log = open(LOG / f"worker{number}.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [str(PYTHON), "manage.py", "qcluster"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
        # Beside web node N, task worker N shares its metrics folder: the payment failures
        # it counts show on that node's /metrics.
        env=process_env({"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(number)),
                         "CLUSTER_NODE": f"worker{number}"}),
    )
    (RUN / f"worker{number}.pid").write_text(str(process.pid))
    time.sleep(1.0)
    if process.poll() is not None:
        raise SystemExit(f"[cluster] task worker {number} exited at once: see {log.name}")


def start_nginx() -> None:
    if live_pid("nginx"):
        return
    say(f"nginx on :{NGINX_PORT}")
    nginx_dir = CLUSTER / "nginx"
    nginx_dir.mkdir(exist_ok=True)
    site = nginx_dir / "cs-console.conf"
    upstreams = "\n".join(f"    server {HOST}:{port} max_fails=1 fail_timeout=10s;"
                          for port in WEB_PORTS.values())
    render(ROOT / "deploy" / "nginx" / "cs-console.conf", site, {
        "UPSTREAM_SERVERS": "    least_conn;\n" + upstreams,
        "LISTEN": f"{HOST}:{NGINX_PORT}", "LOG_DIR": str(LOG),
    })
    # The outer file only places nginx's own files under .cluster/; the site is the deployed one.
    (nginx_dir / "nginx.conf").write_text(
        "user root;\nworker_processes 1;\n"
        f"pid {RUN / 'nginx.pid'};\nerror_log {LOG / 'nginx-error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n    include /etc/nginx/mime.types;\n"
        f"    client_body_temp_path {nginx_dir}/body;\n    proxy_temp_path {nginx_dir}/proxy;\n"
        f"    fastcgi_temp_path {nginx_dir}/fastcgi;\n    uwsgi_temp_path {nginx_dir}/uwsgi;\n"
        f"    scgi_temp_path {nginx_dir}/scgi;\n"
        f"    include {site};\n}}\n"
    )
    run(["nginx", "-c", nginx_dir / "nginx.conf", "-p", nginx_dir], quiet=True)
    wait_for(lambda: http_ok(f"http://{HOST}:{NGINX_PORT}/accounts/login/"), "nginx")


def stop_replica() -> None:
    if (REPLICA_DIR / "PG_VERSION").exists():
        run([ROOT / "deploy" / "bin" / "pg-replica", "stop", "--dir", REPLICA_DIR], check=False)


def stop_primary() -> None:
    if (PRIMARY_DIR / "postmaster.pid").exists():
        run([PG_BIN / "pg_ctl", "-D", PRIMARY_DIR, "-m", "fast", "-w", "stop"],
            user="postgres", check=False, quiet=True)


def stop_s3() -> None:
    if S3_DIR.exists():
        run([ROOT / "deploy" / "bin" / "s3-local", "stop", "--dir", S3_DIR], check=False)


def stop_redis() -> None:
    if live_pid("redis"):
        # SHUTDOWN flushes the append-only file first.
        run(["redis-cli", "-h", HOST, "-p", str(REDIS_PORT), "shutdown"], check=False,
            quiet=True)
        stop_pid("redis", timeout=10)


# --- commands ---------------------------------------------------------------------------------

def status() -> dict[str, dict[str, object]]:
    parts: dict[str, dict[str, object]] = {
        "nginx": {"port": NGINX_PORT, "up": live_pid("nginx") is not None},
        "primary": {"port": PRIMARY_PORT, "up": port_open(PRIMARY_PORT)},
        "replica": {"port": REPLICA_PORT, "up": port_open(REPLICA_PORT)},
        "pgbouncer": {"port": PGBOUNCER_PORT, "up": live_pid("pgbouncer") is not None},
        "redis": {"port": REDIS_PORT, "up": live_pid("redis") is not None},
        "s3": {"port": S3_PORT, "up": port_open(S3_PORT)},
    }
    for node, port in WEB_PORTS.items():
        parts[f"web{node}"] = {"port": port, "up": live_pid(f"web{node}") is not None}
    for number in WORKERS:
        parts[f"worker{number}"] = {"up": live_pid(f"worker{number}") is not None}
    return parts


def start(tickets: int) -> None:
    for directory in (CLUSTER, RUN, LOG):
        directory.mkdir(parents=True, exist_ok=True)
    ensure_packages()
    start_primary()
    # Seeding queues tasks and may store files: the broker and the store come first.
    start_redis()
    start_s3()
    prepare_database(tickets)
    start_replica()
    start_pgbouncer()
    write_env_file()
    reset_metrics()
    for node in WEB_PORTS:
        start_web(node)
    for number in WORKERS:
        start_worker(number)
    start_nginx()
    token = (CLUSTER / "integration-token").read_text().strip()
    say(f"up: http://{HOST}:{NGINX_PORT}/  (environment in {CLUSTER / 'env'})")
    say(f"channel integration token: {token}")
    logins = (CLUSTER / "demo-logins.txt").read_text()
    print(logins[logins.find("Demo"):] if "Demo" in logins else logins)


def stop(wipe: bool = False) -> None:
    stop_pid("nginx", signal.SIGQUIT, timeout=10)
    for node in WEB_PORTS:
        stop_pid(f"web{node}", signal.SIGTERM)
    for number in WORKERS:
        # The whole process group: the sentinel, its pusher, monitor and workers.
        stop_pid(f"worker{number}", signal.SIGTERM, timeout=40, group=True)
    stop_pid("pgbouncer", signal.SIGINT, timeout=10)
    stop_redis()
    stop_s3()
    stop_replica()
    stop_primary()
    say("stopped")
    if wipe:
        shutil.rmtree(CLUSTER, ignore_errors=True)
        say(f"removed {CLUSTER}")


def fault(kind: str, number: int | None) -> None:
    if kind == "kill-web":
        stop_pid(f"web{number or 2}", signal.SIGKILL, timeout=5)
    elif kind == "kill-worker":
        stop_pid(f"worker{number or 2}", signal.SIGKILL, timeout=5, group=True)
    elif kind == "restart-redis":
        stop_redis()
        start_redis()
    elif kind == "cut-replica":
        stop_replica()
    else:
        raise SystemExit(f"unknown fault {kind!r}")
    say(f"fault injected: {kind} {number or ''}".rstrip())


def heal() -> None:
    start_redis()
    if not port_open(REPLICA_PORT) and (REPLICA_DIR / "PG_VERSION").exists():
        say(f"restarting the replica on :{REPLICA_PORT}")
        run([ROOT / "deploy" / "bin" / "pg-replica", "start", "--primary-host", HOST,
             "--primary-port", str(PRIMARY_PORT), "--port", str(REPLICA_PORT),
             "--dir", REPLICA_DIR])
    for node in WEB_PORTS:
        start_web(node)
    for number in WORKERS:
        start_worker(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start")
    start_parser.add_argument("--tickets", type=int, default=0, metavar="N",
                              help="on the first start, also generate N tickets (seed_demo)")
    stop_parser = commands.add_parser("stop")
    stop_parser.add_argument("--wipe", action="store_true", help="also remove .cluster/")
    commands.add_parser("status")
    commands.add_parser("heal")
    fault_parser = commands.add_parser("fault")
    fault_parser.add_argument("kind", choices=["kill-web", "kill-worker", "restart-redis",
                                               "cut-replica"])
    fault_parser.add_argument("number", nargs="?", type=int)
    args = parser.parse_args()
    if args.command == "start":
        start(args.tickets)
    elif args.command == "stop":
        stop(wipe=args.wipe)
    elif args.command == "status":
        print(json.dumps(status(), indent=2))
    elif args.command == "heal":
        heal()
    else:
        fault(args.kind, args.number)


if __name__ == "__main__":
    main()
