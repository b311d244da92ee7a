"""Error reports go to Sentry only when SENTRY_DSN is set, with the environment's values."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from core.observability.sentry import init_error_reporting

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import sys, django; django.setup(); print('sentry_sdk' in sys.modules)"


def test_without_a_dsn_sentry_is_neither_imported_nor_started():
    env = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    env.update({"DJANGO_SETTINGS_MODULE": "cs_console.settings", "ENV_FILE": os.devnull,
                "DEBUG": "true"})

    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_start_sentry_with_the_environments_values():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cs_console.settings",
           "ENV_FILE": os.devnull, "DEBUG": "true",
           # A DSN nobody listens on: init only records it; nothing is sent at start-up.
           "SENTRY_DSN": "https://public@127.0.0.1:9119/1",
           "SENTRY_ENVIRONMENT": "staging", "SENTRY_TRACES_SAMPLE_RATE": "0.25"}
    probe = ("import django; django.setup(); import sentry_sdk; "
             "client = sentry_sdk.get_client(); o = client.options; "
             "print(client.is_active(), o['environment'], o['traces_sample_rate'], "
             "o['send_default_pii'], 'django' in {i.identifier for i in client.integrations.values()})")

    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "staging", "0.25", "False", "True"]


def test_init_is_called_with_the_values_and_no_personal_data():
    with mock.patch("sentry_sdk.init") as init:
        init_error_reporting(dsn="https://public@errors.example/1", environment="production",
                             traces_sample_rate=0.0)

    (call,) = init.call_args_list
    assert call.kwargs["dsn"] == "https://public@errors.example/1"
    assert call.kwargs["environment"] == "production"
    assert call.kwargs["traces_sample_rate"] == 0.0
    assert call.kwargs["send_default_pii"] is False
    assert [type(i).__name__ for i in call.kwargs["integrations"]] == ["DjangoIntegration"]


def test_an_empty_environment_leaves_sentrys_default():
    with mock.patch("sentry_sdk.init") as init:
        init_error_reporting(dsn="https://public@errors.example/1", environment="",
                             traces_sample_rate=0.0)

    assert init.call_args.kwargs["environment"] is None
