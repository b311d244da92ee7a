"""Benchmark: how fast `manage.py seed_demo --tickets N` bulk-generates tickets.

Run it alone, from the project root:

    .venv/bin/python bench/bench_bulk_seed.py                  # 1,000,000 tickets, fresh PostgreSQL DB
    .venv/bin/python bench/bench_bulk_seed.py 100000           # fewer tickets
    .venv/bin/python bench/bench_bulk_seed.py 20000 --sqlite   # fresh SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_bench .venv/bin/python bench/bench_bulk_seed.py

Without DATABASE_URL in the environment it creates a throwaway database, `cs_bench_<pid>`,
on the server of BENCH_PG_SERVER (default postgres://postgres@127.0.0.1:5432/postgres), or
a temporary SQLite file with --sqlite, and removes it afterwards (unless --keep). With
DATABASE_URL it migrates that database and adds the tickets to it, and leaves it in place.

It times the real command in a child process (`manage.py seed_demo --tickets N`), the
demo people and shop included, then prints the elapsed time, tickets per second and the
row counts and sizes of the main tables. DEBUG is off, as in production.
"""

import argparse
import os
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
TABLES = [
    "tickets_ticket",
    "tickets_historicalticket",
    "tickets_message",
    "tickets_historicalmessage",
    "tickets_ticket_tags",
    "shop_customer",
    "shop_order",
    "shop_orderitem",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tickets", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="use a fresh SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


@contextmanager
def fresh_postgres(keep: bool):
    server = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"cs_bench_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if keep:
            print(f"Kept the database {name}.")
        else:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_sqlite(keep: bool):
    folder = Path(tempfile.mkdtemp(prefix="cs_bench_"))
    try:
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
    finally:
        if keep:
            print(f"Kept the database in {folder}.")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def given_database():
    yield os.environ["DATABASE_URL"]


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                   check=True)


def table_stats(url: str) -> tuple[str, list[tuple[str, int, str]]]:
    """The server's name and version, and (table, rows, size) for the main tables."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            rows = [(t, conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0], "")  # noqa: S608
                    for t in TABLES]
            version = conn.execute("SELECT sqlite_version()").fetchone()[0]
        size = os.path.getsize(path) / 2**20
        return f"SQLite {version} (file {size:,.0f} MB)", rows
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        rows = [
            conn.execute(
                f'SELECT %s, COUNT(*), pg_size_pretty(pg_total_relation_size(%s)) FROM "{t}"',  # noqa: S608
                [t, t],
            ).fetchone()
            for t in TABLES
        ]
    return f"PostgreSQL {version}", rows


def main() -> None:
    args = parse_args()
    if "DATABASE_URL" in os.environ:
        database = given_database()
    elif args.sqlite:
        database = fresh_sqlite(args.keep)
    else:
        database = fresh_postgres(args.keep)

    with database as url:
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
        manage(env, "migrate", "--no-input", "--verbosity", "0")

        command = ["seed_demo", "--tickets", str(args.tickets), "--seed", str(args.seed)]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        print("$ python manage.py " + " ".join(command), flush=True)
        started = time.perf_counter()
        manage(env, *command)
        elapsed = time.perf_counter() - started

        server, stats = table_stats(url)
        print()
        print(f"{args.tickets:,} tickets in {elapsed:,.1f} s "
              f"({elapsed / 60:.1f} min) = {args.tickets / elapsed:,.0f} tickets/s")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        print(f"{server}, {os.cpu_count()} CPUs, batch size {args.batch_size or 'default'}, "
              f"seed {args.seed}, peak memory of the command {peak:,.0f} MB")
        for table, count, size in stats:
            print(f"  {table:<28} {count:>12,} rows  {size}")


if __name__ == "__main__":
    main()
