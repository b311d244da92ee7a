"""Evidence files in S3-compatible object storage, against a real HTTP endpoint (moto).

Uploads keep their content checks, the object lands under a generated name in a private
bucket, downloads go only through the console's permission-checked views, and retention
deletes the object only once its deletion is committed, never under a legal hold.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models.roles import Role
from tests.cluster.s3 import s3_endpoint
from tests.factories import TeamFactory, UserFactory
from tickets.models import Attachment, TicketState
from tickets.services.attachments import attachment_add
from tickets.services.evidence_retention import evidence_purge
from tickets.services.legal_holds import legal_hold_place

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture(scope="module")
def endpoint():
    with s3_endpoint() as running:
        yield running


@pytest.fixture
def bucket(endpoint, settings):
    """A fresh private bucket as the default storage for one test, removed afterwards."""
    name = endpoint.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": endpoint.storage_settings(name)}
    yield name
    endpoint.drop_bucket(name)


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


@pytest.fixture
def outsider(db):
    """An agent of another team: may not read the after-sales team's tickets."""
    user = UserFactory(username="agent_elsewhere")
    user.groups.add(Group.objects.get(name=Role.AGENT))
    TeamFactory(code="elsewhere").members.add(user)
    return user


def _upload(ticket, actor, name="签收照片.png", content=PNG):
    return attachment_add(ticket=ticket, actor=actor, evidence_kind="photo",
                          upload=SimpleUploadedFile(name, content))


def _close(ticket, *, days_ago: int):
    type(ticket).objects.filter(pk=ticket.pk).update(
        state=TicketState.CLOSED, closed_at=timezone.now() - timedelta(days=days_ago))


def test_the_settings_choose_the_s3_backend_only_when_a_bucket_is_named():
    show = ("import json; from django.conf import settings; "
            "print(json.dumps(settings.STORAGES['default']))")

    def default_storage_with(**extra):
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith("S3_")}
        environment.update(DJANGO_SETTINGS_MODULE="cs_console.settings", ENV_FILE="/dev/null",
                           DEBUG="true", **extra)
        out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {show}"],
                             env=environment, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    assert default_storage_with()["BACKEND"].endswith("FileSystemStorage")
    s3 = default_storage_with(S3_BUCKET="cs-evidence", S3_ENDPOINT_URL="http://127.0.0.1:9000",
                              S3_ACCESS_KEY_ID="key", S3_SECRET_ACCESS_KEY="secret")
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] | {
        "bucket_name": "cs-evidence", "endpoint_url": "http://127.0.0.1:9000",
        "access_key": "key", "default_acl": "private", "file_overwrite": False,
        "signature_version": "s3v4", "addressing_style": "path"} == s3["OPTIONS"]


def test_an_upload_through_the_service_is_stored_in_the_bucket_under_a_generated_name(
        endpoint, bucket, make_ticket, agent):
    attachment = _upload(make_ticket(), agent)

    assert endpoint.keys(bucket) == [attachment.file.name]
    assert attachment.file.name.startswith("evidence/")
    assert "签收照片" not in attachment.file.name
    assert endpoint.read(bucket, attachment.file.name) == PNG


def test_an_api_upload_is_checked_by_content_and_downloads_through_the_api_and_the_page(
        endpoint, bucket, make_ticket, agent, api, client):
    ticket = make_ticket()
    response = api.post(reverse("ticket-attachments", args=[ticket.number]),
                        {"file": SimpleUploadedFile("质检报告.pdf", PDF),
                         "evidence_kind": "inspection_report"}, format="multipart")
    assert response.status_code == 201, response.data
    attachment = Attachment.objects.get(pk=response.data["id"])
    assert endpoint.keys(bucket) == [attachment.file.name]

    download = api.get(reverse("ticket-attachment-download", args=[ticket.number, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Length"] == str(len(PDF))

    client.force_login(agent)
    page = client.get(reverse("console-attachment", args=[ticket.number, attachment.pk]))
    assert page.status_code == 200
    assert b"".join(page.streaming_content) == PDF
    assert "质检报告.pdf" in page["Content-Disposition"] or "filename*" in page["Content-Disposition"]


def test_a_disguised_file_is_refused_and_nothing_reaches_the_bucket(
        endpoint, bucket, make_ticket, agent, api):
    ticket = make_ticket()
    response = api.post(reverse("ticket-attachments", args=[ticket.number]),
                        {"file": SimpleUploadedFile("photo.jpg", EXE), "evidence_kind": "photo"},
                        format="multipart")
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        _upload(ticket, agent, name="photo.png", content=EXE)
    assert endpoint.keys(bucket) == []
    assert not Attachment.objects.exists()


def test_someone_who_may_not_see_the_ticket_cannot_download(
        bucket, make_ticket, agent, outsider, client):
    ticket = make_ticket()
    attachment = _upload(ticket, agent)
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get(reverse("ticket-attachment-download",
                           args=[ticket.number, attachment.pk])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("console-attachment",
                              args=[ticket.number, attachment.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("console-attachment",
                              args=[ticket.number, attachment.pk])).status_code in (302, 403)


def test_no_page_or_api_answer_carries_a_bucket_url(
        endpoint, bucket, make_ticket, agent, api, client):
    ticket = make_ticket()
    attachment = _upload(ticket, agent)

    client.force_login(agent)
    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()
    detail = api.get(reverse("ticket-detail", args=[ticket.number])).content.decode()
    for answer in (page, detail):
        assert endpoint.url not in answer
        assert bucket not in answer
        assert attachment.file.name not in answer
        assert "X-Amz-" not in answer
    assert reverse("console-attachment", args=[ticket.number, attachment.pk]) in page


def test_the_retention_purge_deletes_the_object_and_records_who_and_why(
        endpoint, bucket, make_ticket, agent, supervisor, django_capture_on_commit_callbacks):
    old, recent = make_ticket(), make_ticket()
    old_file, recent_file = _upload(old, agent), _upload(recent, agent)
    _close(old, days_ago=400)
    _close(recent, days_ago=10)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_evidence_files", "--before",
                     (timezone.localdate() - timedelta(days=365)).isoformat(),
                     "--reason", "一年保存期满", "--by", supervisor.username)

    assert endpoint.keys(bucket) == [recent_file.file.name]
    assert list(Attachment.objects.values_list("pk", flat=True)) == [recent_file.pk]
    record = Attachment.history.filter(id=old_file.pk).latest("history_id")
    assert record.history_type == "-"
    assert record.history_user == supervisor
    assert record.history_change_reason == "evidence_retention — 一年保存期满"
    assert record.sha256 == old_file.sha256

    # Idempotent: a second run finds nothing more to delete.
    with django_capture_on_commit_callbacks(execute=True):
        again = evidence_purge(before=timezone.now() - timedelta(days=365), reason="again")
    assert again.deleted == 0
    assert endpoint.keys(bucket) == [recent_file.file.name]


def test_the_retention_purge_uses_the_configured_period(
        endpoint, bucket, make_ticket, agent, settings, django_capture_on_commit_callbacks):
    ticket = make_ticket()
    _upload(ticket, agent)
    _close(ticket, days_ago=40)

    settings.EVIDENCE_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="EVIDENCE_RETENTION_DAYS"):
        call_command("purge_evidence_files", "--reason", "period")
    settings.EVIDENCE_RETENTION_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_evidence_files", "--reason", "period")
    assert endpoint.keys(bucket) == []


def test_a_legal_hold_keeps_the_evidence(
        endpoint, bucket, make_ticket, agent, risk_officer, django_capture_on_commit_callbacks):
    ticket = make_ticket()
    attachment = _upload(ticket, agent)
    _close(ticket, days_ago=400)
    legal_hold_place(ticket=ticket, actor=risk_officer, reason="消费者协会投诉调查")
    before = (timezone.localdate() - timedelta(days=365)).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        result = evidence_purge(before=timezone.now() - timedelta(days=365), reason="retention")
    assert (result.deleted, result.held) == (0, 1)
    # Named explicitly, a held ticket refuses the whole run.
    with pytest.raises(CommandError), django_capture_on_commit_callbacks(execute=True):
        call_command("purge_evidence_files", "--before", before, "--reason", "retention",
                     "--ticket", ticket.number)

    assert endpoint.keys(bucket) == [attachment.file.name]
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_purge_that_does_not_commit_keeps_the_object(
        endpoint, bucket, make_ticket, agent, django_capture_on_commit_callbacks):
    ticket = make_ticket()
    attachment = _upload(ticket, agent)
    _close(ticket, days_ago=400)

    class Interrupted(Exception):
        pass

    def purge_then_fail():
        with transaction.atomic():
            result = evidence_purge(before=timezone.now() - timedelta(days=365),
                                    reason="retention")
            assert result.deleted == 1
            raise Interrupted

    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(Interrupted):
        purge_then_fail()
    assert callbacks == []
    assert endpoint.keys(bucket) == [attachment.file.name]
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_the_purge_also_works_on_the_file_system(
        settings, tmp_path, make_ticket, agent, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    ticket = make_ticket()
    attachment = _upload(ticket, agent)
    path = tmp_path / attachment.file.name
    assert path.read_bytes() == PNG
    _close(ticket, days_ago=400)

    with django_capture_on_commit_callbacks(execute=True):
        evidence_purge(before=timezone.now() - timedelta(days=365), reason="retention")
    assert not path.exists()
