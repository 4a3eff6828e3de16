"""The test plugin's own data: a panel member's vote on an application.  Its table belongs
to the plugin (the model lives in the plugin's package) and comes from the plugin's own
migrations (grants_testplugin/migrations/versions), on the branch "testplugin"."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import Base, UTCDateTime


class PanelVote(Base):
    __tablename__ = "testplugin_panel_votes"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    vote: Mapped[str] = mapped_column(String(10))  # "for", "against" or "abstain"
    cast_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
