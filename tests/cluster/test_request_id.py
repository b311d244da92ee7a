"""Every request has an id: in the answer, in each log line, and in the tasks it queues."""

import io
import json
import logging
import queue
import re
from multiprocessing import Value

import pytest
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.utils.module_loading import import_string

from core.observability import request_id
from core.observability.log_config import with_request_context

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

logger = logging.getLogger("tests.cluster.request_id")
GENERATED = re.compile(r"[0-9a-f]{32}")
seen_in_task: list[tuple[str | None, str]] = []


def log_and_queue(request):
    """A page that logs a line and queues a task, as the console's pages do."""
    from django_q.tasks import async_task

    logger.info("handling the request")
    async_task("tests.cluster.test_request_id.task_that_logs")
    return HttpResponse("ok")


def task_that_logs():
    logger.info("running the task")
    seen_in_task.append((request_id.current_request_id(), "ran"))


def refuse(request):
    return HttpResponseForbidden("no")


urlpatterns = [path("probe/", log_and_queue), path("refused/", refuse)]


@pytest.fixture
def json_log():
    """The JSON handler LOG_FORMAT=json configures, built from the same dictionary."""
    config = with_request_context(
        {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}}},
        log_format="json")
    formatter_config = dict(config["formatters"]["json"])
    formatter = import_string(formatter_config.pop("()"))(**formatter_config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(request_id.RequestContextFilter())
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_a_request_without_an_id_gets_a_new_one(signed_in):
    first = signed_in.get("/probe/")["X-Request-ID"]
    second = signed_in.get("/probe/")["X-Request-ID"]

    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("incoming", [
    "0f8fad5bd9cb469fa16570867728950e",       # nginx's $request_id
    "4f1c2a3e-9b7d-4c1e-8f00-1234567890ab",   # a UUID
    "lb-node2:42.7",
])
def test_the_id_from_the_proxy_is_kept_and_echoed(signed_in, incoming):
    assert signed_in.get("/probe/", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize("malformed", [
    "short",                          # too short to be anyone's id
    "x" * 129,                        # too long
    "two words",
    'quote"d-request-id',
    "line\nbreak-request-id",
    "-leading-dash-id",
    "中文请求编号中文请求编号",
])
def test_a_malformed_id_is_replaced(signed_in, malformed):
    answered = signed_in.get("/probe/", HTTP_X_REQUEST_ID=malformed)["X-Request-ID"]

    assert GENERATED.fullmatch(answered)


def test_probes_carry_an_id_too(client):
    assert GENERATED.fullmatch(client.get("/health/live/", HTTP_X_REQUEST_ID="")["X-Request-ID"])


def test_json_log_lines_carry_the_request_and_the_user(signed_in, agent, json_log):
    response = signed_in.get("/probe/", HTTP_X_REQUEST_ID="trace-0001-abcd")

    (line,) = [entry for entry in json_log() if entry["message"] == "handling the request"]
    assert line["request_id"] == response["X-Request-ID"] == "trace-0001-abcd"
    assert line["user_id"] == agent.pk
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.cluster.request_id"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", line["timestamp"])


def test_outside_a_request_there_is_no_id(json_log):
    logger.info("between requests")

    (line,) = json_log()
    assert line["request_id"] is None
    assert line["user_id"] is None


def test_every_record_of_the_request_carries_the_id(signed_in, caplog):
    """The filter every configured handler has stamps records of any logger (caplog here)."""
    caplog.handler.addFilter(request_id.RequestContextFilter())
    with caplog.at_level(logging.INFO):
        response = signed_in.get("/probe/")

    ours = [record for record in caplog.records if record.name.startswith("tests.")]
    assert ours
    assert {record.request_id for record in ours} == {response["X-Request-ID"]}


@pytest.mark.parametrize(("url", "status"), [("/refused/", 403), ("/no-such-page/", 404)])
def test_djangos_own_line_about_an_error_answer_carries_the_id(signed_in, agent, caplog, url,
                                                              status):
    """A view's 403 ("Forbidden: /x") is logged after the middleware is done with the request."""
    caplog.handler.addFilter(request_id.RequestContextFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = signed_in.get(url, HTTP_X_REQUEST_ID="trace-4xx-000001")

    assert response.status_code == status
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.request_id == "trace-4xx-000001"
    # An address nothing answers is refused before the user is looked up.
    assert record.user_id == (agent.pk if status == 403 else None)


@pytest.mark.django_db(transaction=True)
def test_the_id_travels_into_the_task_and_its_log_lines(signed_in, settings, json_log):
    """Queued through the ORM broker and run by django-q2's own worker loop, after the request."""
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage
    from django_q.worker import worker

    seen_in_task.clear()
    response = signed_in.get("/probe/", HTTP_X_REQUEST_ID="trace-into-task-01")
    assert request_id.current_request_id() is None  # the request is over

    tasks_to_run, results = queue.Queue(), queue.Queue()
    for ack_id, packed in get_broker().dequeue():
        task = SignedPackage.loads(packed)
        task["ack_id"] = ack_id
        tasks_to_run.put(task)
    tasks_to_run.put("STOP")
    worker(tasks_to_run, results, Value("f", -1))

    assert results.get_nowait()["success"] is True
    assert seen_in_task == [(response["X-Request-ID"], "ran")]
    lines = {entry["message"]: entry for entry in json_log()}
    assert lines["running the task"]["request_id"] == "trace-into-task-01"
    assert lines["handling the request"]["request_id"] == "trace-into-task-01"
    # The worker forgets the id once the task is done.
    assert request_id.current_request_id() is None


def test_a_task_from_a_schedule_runs_without_an_id():
    request_id.restore_in_worker(sender="django_q", task={"id": "x"})

    assert request_id.current_request_id() is None


def test_a_forged_id_in_a_task_package_is_not_used():
    request_id.restore_in_worker(sender="django_q", task={"request_id": "bad id\nwith break"})

    assert request_id.current_request_id() is None


def test_json_is_chosen_by_log_format_and_text_stays_the_default(settings):
    assert "formatters" not in settings.LOGGING or "json" not in settings.LOGGING["formatters"]
    assert all("request_context" in handler["filters"]
               for handler in settings.LOGGING["handlers"].values())
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        with_request_context(settings.LOGGING, log_format="xml")
