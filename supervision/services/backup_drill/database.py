"""PostgreSQL side of the drill: dump in one snapshot, restore into a new database, count."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import environ
import psycopg
from psycopg import sql

# Debian's wrappers pick the binaries that match the server; else the PostgreSQL 15 ones.
DEFAULT_PG_BIN = next((str(Path(found).parent) for found in [shutil.which("pg_dump")] if found),
                      "/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server and the role the drill connects as."""

    host: str
    port: int
    user: str
    password: str

    @classmethod
    def of(cls, settings_dict: dict) -> "Server":
        return cls(host=settings_dict.get("HOST") or "127.0.0.1",
                   port=int(settings_dict.get("PORT") or 5432),
                   user=settings_dict.get("USER") or "postgres",
                   password=settings_dict.get("PASSWORD") or "")

    @classmethod
    def from_url(cls, url: str) -> tuple["Server", str]:
        """The server and database name of a postgres:// URL."""
        config = environ.Env.db_url_config(url)
        return cls.of(config), config["NAME"]

    def url(self, database: str) -> str:
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return (f"postgres://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/"
                f"{quote(database, safe='')}")

    def connect(self, database: str, **options: Any) -> psycopg.Connection:
        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password or None, dbname=database, **options)

    def client_args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "--no-password"]

    def client_env(self) -> dict[str, str]:
        return {**os.environ, **({"PGPASSWORD": self.password} if self.password else {})}


def table_counts(connection: psycopg.Connection) -> dict[str, int]:
    """Rows of every table of the database ("schema.table": count), as its snapshot sees them."""
    tables = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%%' ORDER BY 1, 2").fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema),
                                                             sql.Identifier(table))
        row = connection.execute(query).fetchone()
        counts[f"{schema}.{table}"] = row[0] if row else 0
    return counts


@contextmanager
def frozen_snapshot(server: Server, database: str) -> Iterator[tuple[str, dict[str, int]]]:
    """Hold one snapshot of the database open: its id (for pg_dump --snapshot) and the row
    counts it sees, so the copy is compared with exactly what was dumped while writes go on."""
    with server.connect(database) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = row[0]
        counts = table_counts(connection)
        try:
            yield snapshot, counts
        finally:
            connection.rollback()


def run(command: list[str], server: Server) -> None:
    # The PostgreSQL client programs, with arguments the drill builds (no shell).
    finished = subprocess.run(command, env=server.client_env(), capture_output=True,  # noqa: S603
                              text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {finished.stderr.strip()[-2000:]}")


def dump(server: Server, database: str, target: Path, *, snapshot: str, pg_bin: str) -> None:
    """pg_dump in custom format, of the given exported snapshot."""
    run([str(Path(pg_bin) / "pg_dump"), *server.client_args(), "--format=custom",
         f"--snapshot={snapshot}", f"--file={target}", database], server)


def create_database(server: Server, database: str) -> None:
    with server.connect("postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def restore(server: Server, database: str, source: Path, *, pg_bin: str) -> None:
    run([str(Path(pg_bin) / "pg_restore"), *server.client_args(), "--no-owner",
         "--exit-on-error", f"--dbname={database}", str(source)], server)


def drop_database(server: Server, database: str) -> None:
    with server.connect("postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                           .format(sql.Identifier(database)))


def attachment_digests(server: Server, database: str) -> list[tuple[str, str]]:
    """(stored file name, SHA-256 recorded at upload) of every evidence file in a database."""
    with server.connect(database) as connection:
        return [(name, digest) for name, digest in connection.execute(
            "SELECT file, sha256 FROM tickets_attachment ORDER BY id").fetchall()]
