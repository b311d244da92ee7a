"""Object-store side of the drill: copy every stored file out, and into a fresh store."""

import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from storages.backends.s3 import S3Storage

from tickets.services.evidence_files import CHUNK_BYTES, open_stream


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name in the store, folder by folder."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # an empty MEDIA_ROOT that was never created
        return
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for sub in folders:
        yield from stored_names(storage, f"{folder}/{sub}" if folder else sub)


def _local_path(root: Path, name: str) -> Path:
    parts = PurePosixPath(name).parts
    if not parts or ".." in parts or PurePosixPath(name).is_absolute():
        raise ValueError(f"unsafe stored name {name!r}")
    return root.joinpath(*parts)


def _copy_out(storage: Storage, name: str, path: Path) -> int:
    stream = open_stream(storage, name)
    size = 0
    try:
        with path.open("wb") as out:
            for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                out.write(chunk)
                size += len(chunk)
    finally:
        stream.close()
    return size


def dump_objects(storage: Storage, target: Path) -> tuple[int, int]:
    """Copy every stored file under `target`; return (files, bytes)."""
    files = size = 0
    for name in stored_names(storage):
        path = _local_path(target, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        size += _copy_out(storage, name, path)
        files += 1
    return files, size


def fresh_store(storage: Storage, *, suffix: str, folder: Path) -> tuple[Storage, str]:
    """A new, empty store of the same kind: a new bucket on the same endpoint, or `folder`.

    Returns the store and a name for it (the bucket, or the folder's path).
    """
    if isinstance(storage, S3Storage):
        bucket = f"{storage.bucket_name}-{suffix}"[:63].rstrip("-")
        options: dict[str, Any] = {"bucket_name": bucket}
        for setting in ("endpoint_url", "access_key", "secret_key", "region_name",
                        "default_acl", "signature_version", "addressing_style"):
            options[setting] = getattr(storage, setting)
        fresh = S3Storage(**options, file_overwrite=False)
        client = fresh.connection.meta.client
        region = storage.region_name
        if region and region != "us-east-1":
            client.create_bucket(Bucket=bucket,
                                 CreateBucketConfiguration={"LocationConstraint": region})
        else:
            client.create_bucket(Bucket=bucket)
        return fresh, bucket
    folder.mkdir(parents=True, exist_ok=False)
    return FileSystemStorage(location=folder), str(folder)


def restore_objects(source: Path, storage: Storage) -> int:
    """Store every file under `source` into `storage` under the same name."""
    restored = 0
    for path in sorted(item for item in source.rglob("*") if item.is_file()):
        name = path.relative_to(source).as_posix()
        with path.open("rb") as handle:
            saved = storage.save(name, File(handle))
        if saved != name:
            raise RuntimeError(f"the fresh store renamed {name} to {saved}")
        restored += 1
    return restored


def drop_store(storage: Storage) -> None:
    """Remove a store the drill made, with everything in it."""
    if isinstance(storage, S3Storage):
        client = storage.connection.meta.client
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket_name)
        for page in pages:
            for item in page.get("Contents", []):
                client.delete_object(Bucket=storage.bucket_name, Key=item["Key"])
        client.delete_bucket(Bucket=storage.bucket_name)
    elif isinstance(storage, FileSystemStorage):
        shutil.rmtree(storage.location, ignore_errors=True)
