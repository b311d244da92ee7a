"""The layers of docs/architecture.md are the ones import-linter enforces."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(contract["layers"] for contract in config["contracts"]
                  if contract["type"] == "layers")
    return [" | ".join(part.strip() for part in layer.split("|")) for layer in layers]


def documented_layers() -> list[str]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text[text.index("## Apps"):]
    picture = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    layers = []
    for line in picture.splitlines():
        if line and not line.startswith(" "):
            name = re.match(r"([a-z_]+(?: \| [a-z_]+)*)", line).group(1)
            layers.append(name)
    return layers


def test_the_documented_layers_are_the_enforced_ones():
    assert documented_layers() == contract_layers()


def test_every_app_is_in_a_layer():
    from django.apps import apps

    project_apps = {config.name for config in apps.get_app_configs()
                    if (ROOT / config.name).is_dir()}
    layered = {name for layer in contract_layers() for name in layer.split(" | ")}
    assert project_apps | {"cs_console"} == layered


STANDARD = {"__init__", "apps", "migrations", "management", "templatetags", "templates", "static",
            "models", "services", "selectors", "views", "api", "serializers", "admin", "tasks",
            "urls"}
# The pure decision engine stands alone: the rules, their tests and the benchmarks name it.
# core/db (the router, the read replica's health, the read-your-writes middleware) and
# core/observability (probes, metrics endpoint, request ids, log set-up) are plumbing named
# in settings that serves every app, not a layer of core's own.
STANDS_ALONE = {"policies/engine", "core/db", "core/observability"}
PROJECT_PACKAGE = {"__init__", "settings", "urls", "wsgi", "asgi"}


def test_every_app_keeps_to_the_standard_module_names():
    odd = []
    for layer in contract_layers():
        for app in layer.split(" | "):
            allowed = PROJECT_PACKAGE if app == "cs_console" else STANDARD
            for entry in (ROOT / app).iterdir():
                name = entry.stem if entry.suffix == ".py" else entry.name
                if entry.name == "__pycache__" or (entry.is_file() and entry.suffix != ".py"):
                    continue
                if name not in allowed and f"{app}/{name}" not in STANDS_ALONE:
                    odd.append(f"{app}/{entry.name}")
    assert odd == []
