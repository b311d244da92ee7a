"""`check --deploy` with the production environment docs/operations.md documents finds nothing."""

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
# Stand-ins for the values the documentation leaves to the reader ("...").
PLACEHOLDERS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    # Never connected to: the deploy checks read settings, not the database.
    "DATABASE_URL": "postgres://cs@db.internal:5432/cs_console",
}


def documented_production_environment() -> dict[str, str]:
    """Return the variables the `export` lines of "Running in production" set."""
    section = OPERATIONS.read_text(encoding="utf-8").split("## Running in production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "docs/operations.md lost its production commands"
    environment = {}
    for line in block.group(1).splitlines():
        if not line.startswith("export "):
            continue
        for assignment in shlex.split(line, comments=True)[1:]:
            name, value = assignment.split("=", 1)
            environment[name] = PLACEHOLDERS[name] if value.endswith("...") else value
    return environment


def run_deploy_check(environment: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the documented variables: nothing from this machine's environment or .env.
    inherited = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**inherited, "ENV_FILE": os.devnull, **environment},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_documented_production_environment_is_complete():
    environment = documented_production_environment()

    assert environment["DEBUG"] == "false"
    assert environment["SECURE_SSL_REDIRECT"] == "true"
    assert int(environment["SECURE_HSTS_SECONDS"]) >= 31536000


def test_check_deploy_with_the_documented_production_environment_finds_no_issues():
    result = run_deploy_check(documented_production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout
    # drf-spectacular prints its schema warnings to stderr as well.
    assert "Warning" not in result.stderr, result.stderr
