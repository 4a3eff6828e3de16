"""Uploaded files (attachments, assessments): checked for size and type, stored once by
content hash under the ``grants.files_dir`` setting, served only to who may see what
they are attached to.

``store(db, settings, filename=..., data=..., uploaded_by=...)`` keeps one (see
``grants.files.storage``); ``grants.files.views.file_response`` serves one, once the
page that offers it has checked who is asking."""
from .storage import FileRefused, store

__all__ = ["FileRefused", "store"]


def includeme(config):
    config.include(".views")
