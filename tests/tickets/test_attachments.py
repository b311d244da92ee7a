"""Evidence uploads: checked by content, capped in size, stored under a generated name."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from tickets.models import Attachment, TicketState

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def upload(api_as_agent, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)

    def post(name: str, content: bytes, kind: str = "photo"):
        return api_as_agent.post(
            reverse("ticket-attachments", args=[ticket.number]),
            {"file": SimpleUploadedFile(name, content), "evidence_kind": kind},
            format="multipart",
        )

    post.ticket = ticket
    return post


@pytest.fixture
def api_as_agent(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("包装破损.jpg", JPEG, "image/jpeg"),
    ("签收照片.PNG", PNG, "image/png"),
    ("质检报告.pdf", PDF, "application/pdf"),
    ("开箱视频.mp4", MP4, "video/mp4"),
])
def test_allowed_evidence_is_stored_under_a_generated_name(media, upload, name, content, content_type):
    response = upload(name, content)

    assert response.status_code == 201, response.data
    attachment = Attachment.objects.get()
    assert attachment.label == name
    assert attachment.content_type == content_type
    assert name not in attachment.file.name
    assert attachment.file.name.startswith("evidence/")
    assert len(stored_files(media)) == 1


@pytest.mark.parametrize(("name", "content"), [
    ("photo.jpg", EXE),         # a program dressed up as a photo
    ("photo.jpg", HTML),        # markup dressed up as a photo
    ("report.pdf", PNG),        # real PNG content, but it claims to be a PDF
    ("notes.txt", b"hello"),    # simply not an accepted type
])
def test_disguised_or_unaccepted_types_are_refused_and_nothing_is_stored(media, upload, name, content):
    response = upload(name, content)

    assert response.status_code == 400
    assert "file" in response.data
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def raw_multipart(file_name: str, content: bytes, kind: str) -> tuple[bytes, str]:
    """Build a multipart body by hand: test clients strip folders from file names themselves."""
    boundary = "----cs-console-test-boundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="evidence_kind"\r\n\r\n'
        f"{kind}\r\n"
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("name", [
    "../../etc/passwd.png", "..\\..\\boot.png", "/var/www/x.png", "evidence/../x.png",
    "a\x01b.png", "..", ".htaccess",
])
def test_path_traversal_names_are_refused(media, api_as_agent, make_ticket, name):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    body, content_type = raw_multipart(name, PNG, "photo")

    response = api_as_agent.generic(
        "POST", reverse("ticket-attachments", args=[ticket.number]), body, content_type
    )

    assert response.status_code == 400
    assert "not allowed" in str(response.data["file"])
    assert stored_files(media) == []


def test_oversize_files_are_refused_with_the_limit_named(media, upload, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024

    response = upload("big.png", PNG + b"\x00" * 2048)

    assert response.status_code == 400
    assert "limit" in str(response.data["file"])
    assert stored_files(media) == []


def test_an_unknown_evidence_kind_is_refused(media, upload):
    response = upload("a.png", PNG, kind="selfie")

    assert response.status_code == 400
    assert stored_files(media) == []


def test_an_outsider_cannot_attach(media, make_ticket, other_agent):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client = APIClient()
    client.force_authenticate(other_agent)

    response = client.post(reverse("ticket-attachments", args=[ticket.number]),
                           {"file": SimpleUploadedFile("a.png", PNG), "evidence_kind": "photo"},
                           format="multipart")

    assert response.status_code == 403
    assert stored_files(media) == []


def test_evidence_can_be_downloaded_by_who_may_read_the_ticket(media, upload, api_as_agent):
    upload("签收照片.png", PNG)
    attachment = Attachment.objects.get()

    response = api_as_agent.get(
        reverse("ticket-attachment-download", args=[upload.ticket.number, attachment.pk])
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"


def test_uploads_are_audited(media, upload, agent):
    upload("a.png", PNG, kind="logistics_proof")

    record = Attachment.objects.get().history.get()
    assert record.history_user == agent
    assert record.history_change_reason == "attach:logistics_proof"


def test_clean_label_keeps_chinese_names():
    from tickets.services.attachments import clean_label

    assert clean_label("订单TB123 商品破损.jpg") == "订单TB123 商品破损.jpg"
    assert clean_label('bad<name>?.png') == "bad_name__.png"
