"""A real S3-compatible HTTP endpoint for the object-storage tests (moto, in this process)."""

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

# The ports the storage tests may use.
PORTS = range(9100, 9110)
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@dataclass
class Endpoint:
    url: str

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def new_bucket(self, prefix: str = "cs-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def drop_bucket(self, bucket: str) -> None:
        client = self.client()
        for key in self.keys(bucket):
            client.delete_object(Bucket=bucket, Key=key)
        client.delete_bucket(Bucket=bucket)

    def storage_settings(self, bucket: str) -> dict[str, Any]:
        """The STORAGES "default" entry the settings build for this endpoint and bucket."""
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": self.url, "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY, "region_name": REGION, "default_acl": "private",
            "file_overwrite": False, "signature_version": "s3v4",
            "addressing_style": "path", "max_memory_size": 2 * 1024 * 1024}}


@contextmanager
def s3_endpoint() -> Iterator[Endpoint]:
    """Run moto's S3 server on a free port of the range for the duration of the block."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield Endpoint(url=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
