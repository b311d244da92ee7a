"""The OpenAPI schema says what the API answers: nullable fields, binary uploads, error
statuses with their bodies; and only signed-in callers read it unless a setting opens it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _properties(schema: dict, component: str) -> dict:
    return schema["components"]["schemas"][component]["properties"]


def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
         "--file", str(target)],
        cwd=ROOT, env={**os.environ, "ENV_FILE": str(ROOT / ".env.example")},
        capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "/api/v1/tickets/" in yaml.safe_load(target.read_text())["paths"]


@pytest.mark.parametrize(("component", "field"), [
    ("TicketList", "assignee"), ("TicketList", "team"), ("TicketList", "order_number"),
    ("TicketList", "next_update_due_at"), ("TicketDetail", "merged_into"),
    ("TicketDetail", "order_item_sku"), ("Message", "author"),
    ("Resolution", "order_item_sku"), ("Resolution", "approved_by"),
])
def test_fields_that_can_be_empty_are_nullable(schema, component, field):
    assert _properties(schema, component)[field].get("nullable") is True


def test_the_attachment_upload_is_binary(schema):
    body = schema["paths"]["/api/v1/tickets/{number}/attachments/"]["post"]["requestBody"]

    assert set(body["content"]) == {"multipart/form-data"}
    assert _properties(schema, "AttachmentIn")["file"] == {
        "type": "string", "format": "binary", "minLength": 1}  # an empty file is refused


def test_every_operation_documents_the_errors_anyone_can_meet(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert {"400", "403", "429", "503"} <= set(operation["responses"]), (method, path)
            for code in ("403", "429", "503"):
                body = operation["responses"][code]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}
            assert "Retry-After" in operation["responses"]["503"]["headers"]


def test_detail_routes_and_writes_document_404_and_writes_409_and_415(schema):
    detail = schema["paths"]["/api/v1/tickets/{number}/"]["get"]["responses"]
    transition = schema["paths"]["/api/v1/tickets/{number}/transitions/"]["post"]["responses"]
    intake = schema["paths"]["/api/v1/tickets/"]["post"]["responses"]
    search = schema["paths"]["/api/v1/knowledge/search/"]["get"]["responses"]

    assert detail["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotFoundErrors"}
    assert {"404", "409", "415"} <= set(transition)
    assert {"404", "409", "415"} <= set(intake)  # a field can name a missing order
    assert transition["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FieldErrors"}
    assert not {"404", "409", "415"} & set(search)


def test_an_error_a_view_declares_gets_the_error_body(schema):
    responses = schema["paths"]["/api/v1/knowledge/suggestions/"]["get"]["responses"]

    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotFoundErrors"}


def test_the_error_bodies_match_the_answers(agent):
    client = APIClient()
    client.force_authenticate(agent)

    missing = client.get("/api/v1/tickets/T-NO-SUCH/")

    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_need_a_signed_in_user(url, agent):
    assert APIClient().get(url).status_code == 403

    client = APIClient()
    client.force_login(agent)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_a_setting_makes_the_schema_and_docs_public(url, settings):
    settings.API_SCHEMA_PUBLIC = True

    assert APIClient().get(url).status_code == 200


def test_an_empty_cursor_reads_the_first_page(agent):
    client = APIClient()
    client.force_authenticate(agent)

    assert client.get("/api/v1/tickets/", {"cursor": ""}).status_code == 200


def test_required_text_fields_refuse_blanks_in_the_schema(schema):
    assert _properties(schema, "Intake")["subject"]["minLength"] == 1
