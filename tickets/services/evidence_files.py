"""Evidence bytes in whichever storage holds them: MEDIA_ROOT or an S3-compatible bucket.

The console serves a file only through its own permission-checked views, so reading goes
through here as a stream (an S3 object is not first copied whole into memory or a
temporary file), and nothing here ever builds a URL to the storage.
"""

import hashlib
from typing import IO, Any

from botocore.exceptions import ClientError
from django.core.files.storage import Storage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK_BYTES = 64 * 1024


def _s3_key(storage: S3Storage, name: str) -> str:
    # The storage's own mapping of a file name to a key (its `location` prefix included).
    return str(storage._normalize_name(clean_name(name)))


def open_stream(storage: Storage, name: str) -> IO[bytes] | Any:
    """Open a stored file for reading from the start; FileNotFoundError if it is gone."""
    if not name:
        raise FileNotFoundError("no stored file")
    if isinstance(storage, S3Storage):
        try:
            return storage.bucket.Object(_s3_key(storage, name)).get()["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(name) from error
            raise
    return storage.open(name, "rb")


def stored_sha256(storage: Storage, name: str) -> str:
    """Return the SHA-256 of a stored file's bytes, read in chunks."""
    digest = hashlib.sha256()
    stream = open_stream(storage, name)
    try:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    finally:
        stream.close()
    return digest.hexdigest()
