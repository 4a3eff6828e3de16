"""Where the bytes of uploaded files are kept: a storage is anything with ``put``,
``get``, ``delete`` and ``exists`` by key (keys look like ``ab/cd/abcd…``, a SHA-256 in
two folder levels, see ``grants.files.storage``).

- :class:`LocalStorage`, the default: a folder (``grants.files_dir``).  With several
  processes on one host they share it as it is; with several hosts it must be one shared
  folder (NFS, a mounted volume) — or use the object store.
- :class:`S3Storage`: a bucket of an S3-compatible object store (Amazon S3, MinIO, Ceph,
  Garage, a cloud provider's), through boto3 — ``pip install "grants[s3]"``.

Chosen by ``grants.files_storage`` = ``local`` (default) or ``s3``; the object store's
settings are ``grants.s3_bucket`` (required), ``grants.s3_endpoint_url`` (empty for
Amazon), ``grants.s3_region``, ``grants.s3_prefix`` (a folder inside the bucket) and
``grants.s3_access_key_id`` / ``grants.s3_secret_access_key`` (empty: boto3's usual
places, the environment or an instance role).

Since a key is the hash of its bytes, a key once written never changes: ``put`` of a key
that exists does nothing, and two processes writing the same key at once write the same
bytes.
"""
from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Protocol


class StorageNotConfigured(RuntimeError):
    """The deployment's .ini does not say, or not completely, where uploaded files are kept."""


class MissingFile(LookupError):
    """No bytes under that key."""


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...  # MissingFile when absent
    def delete(self, key: str) -> None: ...  # nothing happens when absent
    def exists(self, key: str) -> bool: ...
    def local_path(self, key: str) -> Path | None: ...  # a file to serve directly, when there is one


def _check_key(key: str) -> str:
    # Keys are made by us from a hash; refusing anything else keeps a key from leaving the
    # folder ("../") whatever a caller passes.
    parts = key.split("/")
    if not key or any(not p or p in (".", "..") or not p.isalnum() for p in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def local_path(self, key: str) -> Path:
        return self.directory / _check_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Atomically: a reader never sees half a file, and two writers of the same key at
        once both end with the one complete file."""
        path = self.local_path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.local_path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise MissingFile(key) from None

    def delete(self, key: str) -> None:
        try:
            self.local_path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()


class S3Storage:
    """Objects named ``<prefix><key>`` in one bucket.  ``client`` is a boto3 S3 client."""

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def local_path(self, key: str) -> None:
        return None

    def put(self, key: str, data: bytes) -> None:
        if self.exists(key):
            return
        # One PUT: an object store never shows a half-written object.
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise MissingFile(key) from None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))  # absent: S3 answers 204 all the same

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def storage_for(settings) -> Storage:
    """The storage the settings choose (one per distinct configuration, made once)."""
    settings = settings or {}
    kind = (settings.get("grants.files_storage") or "local").strip()
    if kind == "local":
        directory = settings.get("grants.files_dir")
        if not directory:
            raise StorageNotConfigured("grants.files_dir is not set: add e.g. `grants.files_dir = %(here)s/var/files` "
                                       "to the .ini")
        return _local(str(directory))
    if kind == "s3":
        bucket = settings.get("grants.s3_bucket")
        if not bucket:
            raise StorageNotConfigured("grants.files_storage = s3 needs grants.s3_bucket")
        return _s3(bucket, *(settings.get(f"grants.s3_{name}") or None for name in (
            "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key")))
    raise StorageNotConfigured(f"grants.files_storage must be local or s3, not {kind!r}")


@functools.lru_cache(maxsize=None)
def _local(directory: str) -> LocalStorage:
    return LocalStorage(directory)


@functools.lru_cache(maxsize=None)
def _s3(bucket, prefix, endpoint_url, region, access_key_id, secret_access_key) -> S3Storage:
    try:
        import boto3
    except ImportError:
        raise StorageNotConfigured('grants.files_storage = s3 needs boto3: pip install "grants[s3]"') from None
    # A client is safe to share between threads; making one costs tens of milliseconds.
    client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                          aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key)
    return S3Storage(client, bucket, prefix or "")
