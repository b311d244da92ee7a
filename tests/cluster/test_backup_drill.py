"""The backup and restore drill, on a small database with evidence in S3 (moto).

It restores into a fresh database and bucket, proves the copy whole, reports each step,
notices a file that did not make it, and drops everything it made.
"""

import json

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.cluster.s3 import s3_endpoint
from tickets.models import Attachment
from tickets.services.attachments import attachment_add

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
       b"\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STEPS = ["dump database", "dump object store", "restore database", "restore object store",
         "check row counts", "check evidence files", "verify audit chains"]


@pytest.fixture(scope="module")
def endpoint():
    with s3_endpoint() as running:
        yield running


@pytest.fixture
def bucket(endpoint, settings):
    name = endpoint.new_bucket("cs-drill")
    settings.STORAGES = {**settings.STORAGES, "default": endpoint.storage_settings(name)}
    yield name
    endpoint.drop_bucket(name)


@pytest.fixture
def evidence(bucket, make_ticket, agent):
    """Three tickets, with four evidence files between them (committed: the dump sees them)."""
    files = []
    for count in (1, 2, 1):
        ticket = make_ticket()
        for number in range(count):
            content = PNG if number == 0 else PDF
            name = "照片.png" if number == 0 else "报告.pdf"
            files.append(attachment_add(ticket=ticket, actor=agent, evidence_kind="photo",
                                        upload=SimpleUploadedFile(name, content)))
    return files


def _databases_named_like(prefix: str) -> list[str]:
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432,
                         user=settings["USER"], dbname="postgres") as server:
        return [name for (name,) in server.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{prefix}%"])]


def _drill(tmp_path):
    report_file = tmp_path / "report.json"
    failed = None
    with (tmp_path / "out.txt").open("w") as out:
        try:
            call_command("backup_drill", "--backup-dir", str(tmp_path / "backup"),
                         "--json", str(report_file), stdout=out)
        except CommandError as error:
            failed = error
    return json.loads(report_file.read_text()) if report_file.exists() else None, failed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_a_whole_copy_and_cleans_up(endpoint, bucket, evidence, tmp_path):
    report, failed = _drill(tmp_path)

    assert failed is None
    assert report["ok"] is True
    assert [step["name"] for step in report["steps"]] == STEPS
    assert all(step["seconds"] >= 0 for step in report["steps"])
    assert report["total_seconds"] == pytest.approx(sum(s["seconds"] for s in report["steps"]),
                                                    abs=0.01)
    assert report["tables_differing"] == {}
    assert report["tables"] > 50  # every table of the schema, not only the evidence
    assert report["rows"] > 0
    assert (report["objects"], report["attachments"]) == (4, 4)
    assert report["attachments_missing"] == report["attachments_changed"] == []
    assert report["audit_verified"] is True
    assert "Audit trail verified." in report["audit_output"]
    # The backup holds the dump and every object, byte for byte.
    backup = tmp_path / "backup"
    assert (backup / "database.dump").stat().st_size > 0
    for attachment in Attachment.objects.all():
        assert (backup / "objects" / attachment.file.name).read_bytes() in (PNG, PDF)
    assert "Backup restored and verified." in (tmp_path / "out.txt").read_text()
    # The fresh database and bucket are gone again; the original bucket is untouched.
    assert report["restored_database"].startswith(connection.settings_dict["NAME"])
    assert _databases_named_like(report["restored_database"]) == []
    buckets = [b["Name"] for b in endpoint.client().list_buckets()["Buckets"]]
    assert report["restored_store"] not in buckets
    assert len(endpoint.keys(bucket)) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_drill_notices_an_evidence_file_that_is_not_in_the_store(
        endpoint, bucket, evidence, tmp_path):
    lost = evidence[1].file.name
    endpoint.client().delete_object(Bucket=bucket, Key=lost)

    report, failed = _drill(tmp_path)

    assert isinstance(failed, CommandError)
    assert report["ok"] is False
    assert report["attachments_missing"] == [lost]
    assert report["audit_verified"] is True
    assert _databases_named_like(report["restored_database"]) == []


@pytest.mark.django_db
def test_the_drill_says_it_needs_postgresql(tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on SQLite")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("backup_drill", "--backup-dir", str(tmp_path / "backup"))
    assert not (tmp_path / "backup").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_drill_copies_media_root_when_files_stay_on_disk(settings, make_ticket, agent,
                                                             tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ticket = make_ticket()
    for name, content in (("照片.png", PNG), ("报告.pdf", PDF)):
        attachment_add(ticket=ticket, actor=agent, evidence_kind="photo",
                       upload=SimpleUploadedFile(name, content))

    report, failed = _drill(tmp_path)

    assert failed is None
    assert report["ok"] is True
    assert (report["objects"], report["attachments"]) == (2, 2)
    assert report["restored_store"] == str(tmp_path / "backup" / "restored-media")
    assert not (tmp_path / "backup" / "restored-media").exists()
    assert _databases_named_like(report["restored_database"]) == []
