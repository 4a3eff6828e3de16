"""A stored file.  The bytes live on disk (``grants.files.storage``), named by their
SHA-256, so the same document uploaded twice is kept once; the row keeps what the person
called it and what it is."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import Base, UTCDateTime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, cleaned of any path
    content_type: Mapped[str] = mapped_column(String(100))  # decided by us from the bytes, not the browser
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
