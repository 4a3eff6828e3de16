"""Storing uploaded files: size-limited, type-checked from the bytes, kept once by content.

``store`` is the one way in::

    stored = store(db, settings, filename="C:\\\\Users\\\\amel\\\\budget.xlsx", data=body, uploaded_by=user)
    stored.filename      # "budget.xlsx": what the person called it, without any path
    stored.content_type  # decided here from the bytes, never taken from the browser
    path_for(settings, stored)  # <grants.files_dir>/ab/cd/abcd…: the same bytes twice are kept once

and refuses what we do not accept with :class:`FileRefused`, whose reasons say what to do
("The file is 14 MB; the largest accepted is 10 MB.").

Accepted: PDF, PNG and JPEG images, Word and Excel (.docx, .xlsx) and OpenDocument
(.odt, .ods) files, and plain text or CSV in UTF-8.  A file must be what its name says:
a .pdf that holds a program is refused, and so is a renamed .exe.

Office files are ZIP archives, and a ZIP can be a bomb: a megabyte that inflates to
gigabytes.  Checking one reads its list of entries and at most a few hundred bytes of one
entry, never a whole entry; an archive whose entries claim to inflate beyond what a real
document of the accepted size does (``MAX_ENTRY_BYTES`` each, ``MAX_ARCHIVE_BYTES`` in
all, ``MAX_COMPRESSION_RATIO`` for any sizeable entry, ``MAX_ZIP_ENTRIES`` entries) is
refused, because whoever opens it next — a reviewer's office suite — would inflate it.
Views read an uploaded field with :func:`read_upload`, which stops at the size limit.

Settings: where the bytes live — ``grants.files_dir``, or an S3-compatible object store
(``grants.files_storage = s3``, see ``grants.files.backends``) — and
``grants.max_upload_bytes`` (default 10 MB).  The bytes are written before the
transaction commits; if it rolls back they stay stored unreferenced — harmless, and
reused if the same file comes again.
"""
from __future__ import annotations

import hashlib
import io
import os
import struct
import unicodedata
import zipfile
from pathlib import Path
from sqlalchemy.orm import Session

from grants.i18n import _
from grants.workflow import ProblemsRefused

from .backends import MissingFile, Storage, StorageNotConfigured, storage_for
from .models import StoredFile

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024

#: Extension → the content type we serve it with.
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
ACCEPTED_EXTENSIONS = tuple(CONTENT_TYPES)

#: How each kind is named in messages ("is named like a PDF …").
_KIND_NAMES = {
    "pdf": _("a PDF"), "png": _("a PNG image"), "jpg": _("a JPEG image"), "jpeg": _("a JPEG image"),
    "docx": _("a Word document"), "xlsx": _("an Excel spreadsheet"), "odt": _("an OpenDocument text"),
    "ods": _("an OpenDocument spreadsheet"), "txt": _("a text file"), "csv": _("a CSV file"),
}


#: ZIP bounds (see the module's docstring).  A real 10 MB spreadsheet inflates to a few
#: hundred MB at most, XML compressing about 10:1 and images not at all; zeros compress
#: about 1000:1.  Entries smaller than ``RATIO_FLOOR`` may compress as well as they like.
MAX_ZIP_ENTRIES = 10_000
MAX_ENTRY_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR = 1024 * 1024
#: An OpenDocument ``mimetype`` entry is one short line; this is as much of it as we read.
MIMETYPE_READ_BYTES = 256


class FileRefused(ProblemsRefused):
    """The file was not stored.  ``problems`` is a list of (field name or None, reason)."""


#: The deployment's .ini does not say where uploaded files are kept.
FilesNotConfigured = StorageNotConfigured


# -- settings -----------------------------------------------------------------------------


def max_upload_bytes(settings) -> int:
    value = (settings or {}).get("grants.max_upload_bytes")
    return int(value) if value not in (None, "") else DEFAULT_MAX_UPLOAD_BYTES


def megabytes(size: int) -> str:
    """Sizes as people read them: "14", "10.4", "0.3" (MB, one decimal at most, rounded up
    so a file just over the limit never reads as the limit itself)."""
    tenths = -(-size * 10 // (1024 * 1024))  # ceiling
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


# -- names ----------------------------------------------------------------------------------

_CONTROLS = {"Cc", "Cf"}  # control characters and invisible format marks (bidi overrides included)


def clean_filename(filename: str | None) -> str:
    """What the person called the file, with any folder path, control characters and
    bidi overrides removed (so "invoice\u202efdp.exe" cannot pose as a PDF), NFC, at most
    255 characters with the extension kept."""
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in _CONTROLS)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "document"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + "." + ext) if dot and len(ext) <= 10 else name[:255]
    return name


def extension_of(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


# -- what the bytes are --------------------------------------------------------------------


class ArchiveTooLarge(Exception):
    """An archive that would inflate beyond the ZIP bounds: a ZIP bomb, or near enough."""


def sniff(data: bytes) -> str | None:
    """The kind of file the bytes are (an extension from ``ACCEPTED_EXTENSIONS``, with
    "txt" for any UTF-8 text), or None when they are nothing we accept.
    :class:`ArchiveTooLarge` for a ZIP beyond the bounds."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    return "txt" if _is_text(data) else None


def _office_kind(data: bytes) -> str | None:
    """Office Open XML and OpenDocument files are ZIP archives; what is inside says which.
    Only the names, the sizes the archive declares and the start of ``mimetype`` are read."""
    if _zip_entry_count(data) > MAX_ZIP_ENTRIES:  # before zipfile builds an object per entry
        raise ArchiveTooLarge()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_inflated_sizes(entries)
            names = {e.filename for e in entries}
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    # read(n) inflates about n bytes however large the entry claims or turns out to be
                    head = entry.read(MIMETYPE_READ_BYTES + 1)
                if len(head) > MIMETYPE_READ_BYTES:
                    return None
                mimetype = head.decode("ascii", "replace").strip()
                return {CONTENT_TYPES["odt"]: "odt", CONTENT_TYPES["ods"]: "ods"}.get(mimetype)
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return "docx"
                if "xl/workbook.xml" in names:
                    return "xlsx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, EOFError,
            RuntimeError, struct.error, UnicodeDecodeError):
        # Damaged, encrypted (RuntimeError) or otherwise unreadable: not a document we accept.
        return None
    return None


def _zip_entry_count(data: bytes) -> int:
    """How many entries the archive's end record says it has (0 when there is none).
    ZIP64 archives count as too many: a document of the accepted size never needs one."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        return 0
    on_this_disk, total = struct.unpack_from("<HH", data, end + 8)
    if 0xFFFF in (on_this_disk, total):
        return MAX_ZIP_ENTRIES + 1
    return max(on_this_disk, total)


def _check_inflated_sizes(entries) -> None:
    """Refuse an archive whose entries claim to inflate beyond the bounds.  The claims can
    lie the other way (a small size over a huge stream); reading is bounded for that."""
    total = 0
    for entry in entries:
        size = entry.file_size
        total += size
        if size > MAX_ENTRY_BYTES or total > MAX_ARCHIVE_BYTES:
            raise ArchiveTooLarge()
        if size > RATIO_FLOOR and size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1):
            raise ArchiveTooLarge()


def _is_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    # Tabs, line ends and form feeds are text; other control characters mean a binary file.
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text)


def check_upload(filename: str, data: bytes, settings=None) -> str:
    """The content type to store ``data`` with, or FileRefused saying why not."""
    limit = max_upload_bytes(settings)
    if len(data) > limit:
        raise _too_large(len(data), limit)
    if not data:
        raise FileRefused([(None, _("The file “${name}” is empty: choose the file again.", mapping={"name": filename}))])
    ext = extension_of(filename)
    try:
        found = sniff(data)
    except ArchiveTooLarge:
        raise FileRefused([(None, _(
            "The file “${name}” would expand to far more than a real document when opened, so it was not "
            "accepted: save it again from your office program, or as a PDF, and choose it again.",
            mapping={"name": filename}))]) from None
    not_accepted = _("The file “${name}” is not a PDF, image, spreadsheet or document we accept.",
                     mapping={"name": filename})
    if ext not in CONTENT_TYPES or found is None:
        raise FileRefused([(None, not_accepted)])
    same = found == ext or (found == "jpg" and ext == "jpeg") or (found == "txt" and ext == "csv")
    if not same:
        raise FileRefused([(None, _(
            "The file “${name}” is named like ${expected} but is not one: save it again as ${expected}, "
            "or choose another file.", mapping={"name": filename, "expected": _KIND_NAMES[ext]}))])
    return CONTENT_TYPES[ext]


def _too_large(size: int, limit: int) -> FileRefused:
    return FileRefused([(None, _("The file is ${size} MB; the largest accepted is ${limit} MB.",
                                 mapping={"size": megabytes(size), "limit": megabytes(limit)}))])


def read_upload(upload, settings=None) -> bytes:
    """The bytes of an uploaded form field (``request.POST[name]``), read no further than
    the size limit: a larger file is refused, naming its size, without being held in
    memory whole.  The field is read once, so its temporary file is closed here."""
    limit = max_upload_bytes(settings)
    stream = upload.file
    try:
        data = stream.read(limit + 1)
        if len(data) > limit:
            try:
                size = stream.seek(0, os.SEEK_END)
            except (AttributeError, OSError, ValueError):  # a stream that cannot tell its length
                size = len(data)
            raise _too_large(size, limit)
        return data
    finally:
        stream.close()


# -- stored ----------------------------------------------------------------------------------


def blob_key(sha256: str) -> str:
    """The storage key of the bytes with this hash: two folder levels keep any one folder small."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def path_for(settings, stored: StoredFile) -> Path | None:
    """The file holding ``stored``'s bytes, when they are kept in a local folder."""
    return storage_for(settings).local_path(blob_key(stored.sha256))


def store(dbsession: Session, settings, *, filename: str, data: bytes, uploaded_by=None) -> StoredFile:
    """Check and keep an uploaded file; a new row each time (each upload has its own name
    and uploader), the bytes stored once per content."""
    name = clean_filename(filename)
    content_type = check_upload(name, data, settings)
    sha256 = hashlib.sha256(data).hexdigest()
    storage_for(settings).put(blob_key(sha256), data)
    stored = StoredFile(sha256=sha256, filename=name, content_type=content_type, size=len(data),
                        uploaded_by_id=None if uploaded_by is None else uploaded_by.id)
    dbsession.add(stored)
    dbsession.flush()
    return stored


def read(settings, stored: StoredFile) -> bytes:
    """The bytes of ``stored``; :class:`MissingFile` when the storage has none."""
    return storage_for(settings).get(blob_key(stored.sha256))


