"""Uploaded files (attachments, assessments): checked for size and type, stored once by
content hash under the ``grants.files_dir`` setting, served only to who may see what
they are attached to.

``read_upload(request.POST[name], settings)`` reads an uploaded field no further than the
size limit; ``store(db, settings, filename=..., data=..., uploaded_by=...)`` keeps one (see
``grants.files.storage``); ``grants.files.views.file_response`` serves one, once the
page that offers it has checked who is asking."""
import io

from .storage import FileRefused, read_upload, store

__all__ = ["FileRefused", "read_upload", "store"]


def _close_spooled_body(request) -> None:
    # WebOb copies a large request body (an upload) to a temporary file of its own, marks
    # the body seekable and never closes the file; close it when the request is done
    # rather than whenever the garbage collector gets to it.  A server's own input stream
    # is never marked so, and is the server's to close.
    body = request.environ.get("wsgi.input")
    if request.environ.get("webob.is_body_seekable") and isinstance(body, io.BufferedRandom):
        body.close()


def _on_new_request(event) -> None:
    event.request.add_finished_callback(_close_spooled_body)


def includeme(config):
    from pyramid.events import NewRequest

    config.add_subscriber(_on_new_request, NewRequest)
    config.include(".views")
