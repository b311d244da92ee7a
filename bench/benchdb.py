"""What the million-ticket benchmarks share: a throwaway PostgreSQL database, its data, Django.

A benchmark creates `cs_bench_<pid>` on the server of BENCH_PG_SERVER (default
postgres://postgres@127.0.0.1:5432/postgres), never the database of DATABASE_URL, and drops
it at the end unless told to keep it (`--keep`) or measuring a kept one again (`--reuse`).
"""

import os
import re
import secrets
import subprocess
import sys
import time
import timeit
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_database(keep: bool, reuse: str | None):
    """Yield the URL of a fresh benchmark database (or of the kept one named by `reuse`)."""
    server = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    name = reuse or f"cs_bench_{os.getpid()}"
    if not re.fullmatch(r"cs_bench_\w+", name):
        raise SystemExit("--reuse takes a database a benchmark made (cs_bench_...).")
    if not reuse:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        if keep or reuse:
            print(f"Kept the database {name}.")
        else:
            from django.conf import settings

            if settings.configured:  # a failure before setup_django has nothing to close
                from django.db import connections

                connections.close_all()
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"Dropped the database {name}.")


def environment(url: str) -> dict:
    """Return the environment the console runs with against `url`: production-like, quiet."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url, "DEBUG": "false", "LOG_LEVEL": "WARNING",
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost", "SECURE_COOKIES": "false",
        "DJANGO_SETTINGS_MODULE": "cs_console.settings",
    })
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                   check=True)


def load(env: dict, tickets: int, *, seed: int = 1) -> None:
    """Migrate and load `tickets` tickets with `seed_demo --tickets N --seed SEED`."""
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    command = ["seed_demo", "--tickets", str(tickets), "--seed", str(seed)]
    print("$ python manage.py " + " ".join(command), flush=True)
    started = time.perf_counter()
    manage(env, *command)
    print(f"Loaded {tickets:,} tickets in {time.perf_counter() - started:.0f} s.", flush=True)


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def sql(query: str, params=None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def cpu_reference_ms() -> float:
    """Milliseconds one core takes for `sum(range(1_000_000))`, best of 20.

    Machines of the same kind differ by two or three times in speed: this puts figures
    taken on different machines side by side (a slower core, a larger number).
    """
    return min(timeit.repeat("sum(range(1_000_000))", number=1, repeat=20)) * 1000


def print_versions() -> None:
    """Print the database server, CPU and Python versions the figures were measured on."""
    print(f"PostgreSQL {sql('SHOW server_version')[0][0]}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, CPU reference {cpu_reference_ms():.1f} ms "
          "(sum(range(10**6)), best of 20)")


def ready_console(url: str, *, tickets: int, reuse: str | None) -> dict:
    """Load `tickets` (unless measuring a kept database), collect the static files and set
    Django up in this process; return the console's environment.

    DEBUG is off, so static URLs come from the manifest, as in production.
    """
    env = environment(url)
    if not reuse:
        load(env, tickets)
    manage(env, "collectstatic", "--no-input", "-v", "0")
    setup_django(env)
    print_versions()
    return env
