"""Serving stored files.  There is no URL of its own here: a file is served by a view on
the object it is attached to (an application's ``@@attachment/<id>``), protected by that
object's permission, which then calls :func:`file_response`."""
from __future__ import annotations

from urllib.parse import quote

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import FileResponse, Response

from .backends import MissingFile
from .models import StoredFile
from .storage import blob_key, storage_for


def content_disposition(filename: str) -> str:
    """``attachment`` with the name as typed (RFC 6266 / 5987) and a plain ASCII fallback
    for old clients; quotes and backslashes cannot break out of the header."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(request, stored: StoredFile, *, filename: str | None = None):
    """The file as a download: never shown inline, never sniffed into another type, and
    not kept by shared caches.  404 when the bytes are missing.  ``filename`` is the name
    to offer instead of the one it was uploaded with (blind review)."""
    storage = storage_for(request.registry.settings)
    key = blob_key(stored.sha256)
    path = storage.local_path(key)
    content_type = stored.content_type.split(";")[0]
    if path is not None:  # a local folder: the server streams the file
        if not path.is_file():
            raise HTTPNotFound()
        response = FileResponse(str(path), request=request, content_type=content_type)
    else:  # an object store: uploads are at most grants.max_upload_bytes, read whole
        try:
            response = Response(body=storage.get(key), content_type=content_type)
        except MissingFile:
            raise HTTPNotFound() from None
    if stored.content_type.startswith("text/"):
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = content_disposition(filename or stored.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def includeme(config):
    config.scan(__name__)
