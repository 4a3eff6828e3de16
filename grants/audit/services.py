"""Writing and reading the audit of configuration."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ConfigurationChange


def record_change(dbsession: Session, obj, what: str, before: Any, after: Any, *, user=None,
                  now: dt.datetime | None = None) -> ConfigurationChange:
    """Remember that ``what`` on ``obj`` went from ``before`` to ``after``, by ``user``."""
    change = ConfigurationChange(object_type=obj.__tablename__, object_id=obj.id, what=what, before=before,
                                 after=after, user_id=getattr(user, "id", None),
                                 at=now or dt.datetime.now(dt.timezone.utc))
    dbsession.add(change)
    return change


def changes_of(dbsession: Session, obj) -> list[ConfigurationChange]:
    """Every recorded change of ``obj``, oldest first."""
    return list(dbsession.scalars(
        select(ConfigurationChange)
        .where(ConfigurationChange.object_type == obj.__tablename__, ConfigurationChange.object_id == obj.id)
        .order_by(ConfigurationChange.id)))
