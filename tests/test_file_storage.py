"""Where uploaded bytes are kept: the storage interface (put, get, delete, exists by key),
the local folder fully, and the S3-compatible object store against moto's S3 server (a
third-party stand-in for a real object store, run on loopback) when moto is installed."""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

import factories as f
from grants.files.backends import LocalStorage, MissingFile, StorageNotConfigured, storage_for
from grants.files.models import StoredFile
from grants.files.storage import blob_key, read, store

KEY = blob_key(hashlib.sha256(b"budget").hexdigest())


def test_the_local_folder_puts_gets_tells_and_deletes_by_key(tmp_path):
    storage = LocalStorage(tmp_path)
    assert not storage.exists(KEY)
    with pytest.raises(MissingFile):
        storage.get(KEY)
    storage.put(KEY, b"budget")
    assert storage.exists(KEY) and storage.get(KEY) == b"budget"
    assert storage.local_path(KEY) == tmp_path / KEY[:2] / KEY[3:5] / KEY[6:]
    written = storage.local_path(KEY).stat()
    storage.put(KEY, b"budget")  # a key names its bytes: written once
    assert storage.local_path(KEY).stat().st_mtime_ns == written.st_mtime_ns
    storage.delete(KEY)
    assert not storage.exists(KEY)
    storage.delete(KEY)  # gone already: nothing to do


@pytest.mark.parametrize("key", ["", "../etc/passwd", "ab//cd", "ab/../cd", "/abs", "ab/c d", "ab\\cd"])
def test_a_key_that_is_not_ours_is_refused_before_touching_the_folder(tmp_path, key):
    storage = LocalStorage(tmp_path / "files")
    for action in (lambda: storage.put(key, b"x"), lambda: storage.get(key), lambda: storage.exists(key),
                   lambda: storage.delete(key)):
        with pytest.raises(ValueError, match="not a storage key"):
            action()
    assert not (tmp_path / "files").exists()


def test_writers_of_the_same_key_at_once_leave_one_complete_file(tmp_path):
    storage, data = LocalStorage(tmp_path), b"%PDF-" + b"x" * 1_000_000
    key = blob_key(hashlib.sha256(data).hexdigest())
    workers = [threading.Thread(target=storage.put, args=(key, data)) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert storage.get(key) == data
    assert [p for p in Path(tmp_path).rglob("*") if p.is_file()] == [storage.local_path(key)]  # no temporary left


def test_the_setting_chooses_the_storage_and_says_what_is_missing(tmp_path):
    assert isinstance(storage_for({"grants.files_dir": str(tmp_path)}), LocalStorage)
    assert storage_for({"grants.files_dir": str(tmp_path)}) is storage_for({"grants.files_dir": str(tmp_path)})
    with pytest.raises(StorageNotConfigured, match="grants.files_dir is not set"):
        storage_for({})
    with pytest.raises(StorageNotConfigured, match="needs grants.s3_bucket"):
        storage_for({"grants.files_storage": "s3"})
    with pytest.raises(StorageNotConfigured, match="must be local or s3, not 'ftp'"):
        storage_for({"grants.files_storage": "ftp"})


def test_store_and_read_go_through_the_chosen_storage(db, settings):
    stored = store(db, settings, filename="budget.pdf", data=f.PDF)
    assert storage_for(settings).exists(blob_key(stored.sha256))
    assert read(settings, stored) == f.PDF


# -- an S3-compatible object store --------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a free loopback port, for this module."""
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed: no S3-compatible "
                                                              "server to test against (pip install 'moto[server]')")
    pytest.importorskip("boto3", reason="boto3 (grants[s3]) is not installed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_settings(s3_endpoint, settings, monkeypatch, tmp_path):
    import uuid

    import boto3

    # Credentials for the stand-in server only; nothing here reaches a real provider.
    bucket = f"grants-{uuid.uuid4().hex[:12]}"
    s3 = {"grants.files_storage": "s3", "grants.s3_bucket": bucket, "grants.s3_endpoint_url": s3_endpoint,
          "grants.s3_region": "us-east-1", "grants.s3_prefix": "uploads/",
          "grants.s3_access_key_id": "testing", "grants.s3_secret_access_key": "testing"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    settings.update(s3)
    settings["grants.files_dir"] = str(tmp_path / "must-stay-empty")
    return settings


def test_the_object_store_puts_gets_tells_and_deletes_by_key(s3_settings):
    storage = storage_for(s3_settings)
    assert storage.local_path(KEY) is None
    assert not storage.exists(KEY)
    with pytest.raises(MissingFile):
        storage.get(KEY)
    storage.put(KEY, b"budget")
    assert storage.exists(KEY) and storage.get(KEY) == b"budget"
    listed = storage.client.list_objects_v2(Bucket=s3_settings["grants.s3_bucket"])["Contents"]
    assert [o["Key"] for o in listed] == [f"uploads/{KEY}"]  # under the prefix
    storage.delete(KEY)
    assert not storage.exists(KEY)
    storage.delete(KEY)


def test_an_upload_kept_in_the_object_store_is_downloaded_through_the_app(s3_settings, testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        rnd = f.round_(db, registry)
        app = f.application(db, registry, rnd, f.organisation(db, amel), state="submitted")
        budget = {a.kind: a for a in app.attachments}["budget"]
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{app.id}/@@attachment/{budget.id}"
        sha256 = db.scalars(select(StoredFile.sha256).where(StoredFile.id == budget.file_id)).one()
    assert storage_for(s3_settings).get(blob_key(sha256)) == f.PDF
    assert not Path(s3_settings["grants.files_dir"]).exists()  # nothing went to the local folder
    f.sign_in(testapp, "amel@example.org")
    response = testapp.get(url)
    assert response.body == f.PDF and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="budget.pdf"')
    storage_for(s3_settings).delete(blob_key(sha256))
    testapp.get(url, status=404)
