"""People, organisations, memberships, and the local roles granted on objects."""
from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import (Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, bindparam, event,
                        literal, literal_column, select, union_all)
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import Mapped, Session, aliased, declared_attr, mapped_column, object_session, relationship

from grants.db import Base, UTCDateTime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="en")  # mail goes out in this language
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Organisation(Base):
    """A civil-society organisation (or any applicant body).  Registered, edited and given
    members through ``grants.accounts.organisations``."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))  # Latin or Arabic script, NFC
    # The same name in another script ("Association Afek" beside "جمعية أفق"), if it has one.
    alternative_name: Mapped[str | None] = mapped_column(String(300))
    registration_number: Mapped[str | None] = mapped_column(String(100))  # Western digits
    legal_form: Mapped[str | None] = mapped_column(String(100))  # a key of organisations.LEGAL_FORMS
    country: Mapped[str] = mapped_column(String(2), default="TN")  # ISO 3166-1 alpha-2
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    region_links: Mapped[list["OrganisationRegion"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="OrganisationRegion.region_code"
    )
    # ISO 3166-2 codes of the regions it works in (``grants.regions``): ["TN-73", "TN-81"]
    regions = association_proxy("region_links", "region_code",
                                creator=lambda code: OrganisationRegion(region_code=code))

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.legal_name!r}>"


class OrganisationRegion(Base):
    """A region an organisation works in.  The catalogue of regions is code
    (``grants.regions``), so the code is kept without a foreign key."""

    __tablename__ = "organisation_regions"
    __table_args__ = (Index("ix_organisation_regions_region_code", "region_code"),)

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    region_code: Mapped[str] = mapped_column(String(10), primary_key=True)  # "TN-73", "GB-LND"

    organisation: Mapped[Organisation] = relationship(back_populates="region_links")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    # "owner" may manage members; every member applies on the organisation's behalf
    kind: Mapped[str] = mapped_column(String(20), default="member")

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class LocalRole(Base):
    """A role granted to a user on one object (Plone's local roles): programme officer on a
    programme, evaluator on a round, reviewer on an application.  Objects below inherit."""

    __tablename__ = "local_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "object_type", "object_id"),
        Index("ix_local_roles_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)


def granted_roles_query(user_id, object_type: str, object_id):
    """The roles granted to a user on one object, as one SELECT of role names."""
    return select(LocalRole.role).where(
        LocalRole.user_id == user_id, LocalRole.object_type == object_type, LocalRole.object_id == object_id)


def role_if(role: str, condition):
    """A SELECT answering ``role`` when ``condition`` (an EXISTS) holds, else nothing: a
    role that follows from other rows (a membership, a review assignment) asked in the same
    statement as the granted ones."""
    return select(literal(str(role), String(40)).label("role")).where(condition)


ROLE_CACHE = "grants.local_roles"


def _role_cache(session) -> dict | None:
    """The session's remembered roles, or None while it holds unflushed changes (a role
    granted a moment ago must not be missed)."""
    if session.new or session.dirty or session.deleted:
        return None
    return session.info.setdefault(ROLE_CACHE, {})


def cached_roles(local_roles_for):
    """Remember a model's ``local_roles_for(user)`` in its session until the next write.

    A page checks permissions on the same objects many times (a list of applications,
    each with its round and programme above it), and each check walks the lineage asking
    every node.  Each answer is kept in ``session.info`` and the cache is emptied whenever
    the session flushes, commits or rolls back; while it holds unflushed changes it is not
    used at all, so a role granted a moment ago is never missed."""

    @functools.wraps(local_roles_for)
    def cached(self, user):
        session = object_session(self)
        cache = None if user is None or session is None else _role_cache(session)
        if cache is None:
            return local_roles_for(self, user)
        key = (type(self).__name__, self.id, user.id)
        if key not in cache:
            cache[key] = frozenset(local_roles_for(self, user))
        return set(cache[key])

    return cached


# One statement per shape of lineage ((Application, Round, Programme), …), built on first
# use and then only given new values: building the SQL expression costs more than
# running it.  Shapes are few (one per kind of object), so this never grows past a handful.
_ROLE_STATEMENTS: dict[tuple[type, ...], tuple] = {}


def _roles_statement(classes: tuple[type, ...]):
    """The UNION ALL asking the roles of a lineage of ``classes`` at once, and the
    (node, attribute) whose values its parameters take.  Each model says its roles as
    SELECTs through ``local_roles_query(user_id, this)``, where ``this(name)`` stands for
    the object's own attribute ``name``; each row also says which node granted it.
    ``this(name)`` may also be a column of the objects' table (``remember_roles`` asks
    many objects at once): it is correlated only where used in a SELECT's own WHERE or in
    an EXISTS directly within it, so a query joins what it needs there rather than nesting
    a scalar subquery that uses ``this``."""
    known = _ROLE_STATEMENTS.get(classes)
    if known is None:
        needed: set[tuple[int, str]] = set()

        def this_of(i):
            def this(name):
                needed.add((i, name))
                return bindparam(f"node{i}_{name}", type_=Integer)
            return this

        user_id = bindparam("user_id", type_=Integer)
        selects = [query.add_columns(literal_column(str(i)).label("node"))
                   for i, cls in enumerate(classes) for query in cls.local_roles_query(user_id, this_of(i))]
        known = _ROLE_STATEMENTS[classes] = (union_all(*selects), sorted(needed))
    return known


def _ask_roles(session, nodes, user) -> list[set[str]]:
    """The roles each of ``nodes`` gives ``user``, in one statement."""
    statement, needed = _roles_statement(tuple(type(node) for node in nodes))
    values = {f"node{i}_{name}": getattr(nodes[i], name) for i, name in needed}
    found: list[set[str]] = [set() for _node in nodes]
    for role, i in session.execute(statement, {"user_id": user.id, **values}):
        found[int(i)].add(role)
    return found


def queried_roles(obj, user) -> set[str]:
    """The roles ``obj`` gives ``user``, asked through its ``local_roles_query``."""
    session = object_session(obj)
    if user is None or session is None:
        return set()
    return _ask_roles(session, [obj], user)[0]


def lineage_roles(nodes, user) -> set[str]:
    """Every role ``nodes`` (an object and the objects above it) give ``user``, asking the
    database once for all the nodes not yet remembered (``cached_roles``) instead of once
    or more per node: firing a transition on an application would otherwise ask its
    application, round and programme in turn.  Nodes that can say their roles as SELECTs
    (``local_roles_query``) are asked together; others through ``local_roles_for``."""
    roles: set[str] = set()
    pending, keys, caches = [], [], []  # the nodes to ask, their cache keys, their caches
    batch_session = None  # the session every node asked together belongs to
    for node in nodes:
        session = object_session(node) if user is not None and hasattr(node, "local_roles_query") else None
        if session is None or batch_session not in (None, session):
            roles.update(node.local_roles_for(user))
            continue
        batch_session = session
        cache = _role_cache(session)
        key = (type(node).__name__, node.id, user.id)
        if cache is not None and key in cache:
            roles.update(cache[key])
        else:
            pending.append(node)
            keys.append(key)
            caches.append(cache)
    if pending:
        for found, key, cache in zip(_ask_roles(batch_session, pending, user), keys, caches):
            if cache is not None:  # remembered per node, as ``cached_roles`` does
                cache[key] = frozenset(found)
            roles.update(found)
    return roles


# One statement per set of kinds of node asked together by ``remember_roles``, built on
# first use (as ``_ROLE_STATEMENTS``): the kinds are few, so their sets are too.
_MANY_ROLE_STATEMENTS: dict[tuple[type, ...], object] = {}


def _many_roles_statement(classes: tuple[type, ...]):
    """The UNION ALL asking the roles of any number of objects of ``classes`` at once.
    Each model's ``local_roles_query(user_id, this)`` is given, for ``this(name)``, the
    column of an alias of its own table restricted to the ids asked (``ids0``, ``ids1``,
    …), instead of one object's value: each row says the kind (its index in ``classes``)
    and the id of the object that grants the role."""
    known = _MANY_ROLE_STATEMENTS.get(classes)
    if known is None:
        user_id = bindparam("user_id", type_=Integer)
        selects = []
        for i, cls in enumerate(classes):
            node = aliased(cls, name=f"node{i}")
            ids = bindparam(f"ids{i}", expanding=True)
            selects += [query.add_columns(literal_column(str(i)).label("kind"), node.id.label("node"))
                        .where(node.id.in_(ids))
                        for query in cls.local_roles_query(user_id, lambda name, node=node: getattr(node, name))]
        known = _MANY_ROLE_STATEMENTS[classes] = union_all(*selects)
    return known


def remember_roles(nodes, user) -> None:
    """Ask the roles ``user`` holds on each of ``nodes`` not yet remembered, all in one
    statement, and remember each answer in the session's cache as ``cached_roles`` and
    ``lineage_roles`` do.  A page listing many objects calls it with all of them (and the
    nodes above them) before checking permissions on each, which then asks nothing:
    otherwise every object listed costs a statement of its own.

    The objects' columns are read from their rows rather than from the objects, which is
    the same thing here: the cache is only used while the session holds no unflushed
    change, and nothing is asked otherwise (each object is then asked on its own, as
    before).  Nodes that cannot say their roles as SELECTs, or that belong to another
    session than the first node's, are left to be asked one by one."""
    if user is None:
        return
    session = cache = None
    pending: dict[tuple, object] = {}  # cache key -> node
    for node in nodes:
        node_session = object_session(node) if hasattr(node, "local_roles_query") else None
        if node_session is None or session not in (None, node_session):
            continue
        if session is None:
            session, cache = node_session, _role_cache(node_session)
            if cache is None:
                return
        key = (type(node).__name__, node.id, user.id)
        if key not in cache:
            pending.setdefault(key, node)
    if not pending:
        return
    classes = tuple(sorted({type(node) for node in pending.values()}, key=lambda cls: (cls.__module__, cls.__name__)))
    ids = {f"ids{i}": sorted({node.id for node in pending.values() if type(node) is cls})
           for i, cls in enumerate(classes)}
    found: dict[tuple, set[str]] = {key: set() for key in pending}
    for role, i, node_id in session.execute(_many_roles_statement(classes), {"user_id": user.id, **ids}):
        found[(classes[int(i)].__name__, node_id, user.id)].add(role)
    for key, roles in found.items():
        cache[key] = frozenset(roles)


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_roles(session, *_args) -> None:
    session.info.pop(ROLE_CACHE, None)


def roles_on(object_type: str, user):
    """A subquery: ids of ``object_type`` rows on which ``user`` holds some local role."""
    return select(LocalRole.object_id).where(LocalRole.object_type == object_type, LocalRole.user_id == user.id)


class EmailToken(Base):
    """A single-use token mailed to a person: verify an address, or reset a password.
    Only its hash is stored, so a database leak does not hand out working links."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))  # "verify" or "reset"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInThrottle(Base):
    """Failed sign-ins counted per key, to slow down password guessing: one row per
    account ("account:amel@example.org") and one per client ("client:203.0.113.7", an IPv6
    client by its /64).  ``attempts`` counts within a fixed window that starts at the first
    attempt; ``grants.accounts.throttling`` changes it with single statements only, so
    concurrent guesses, in any process, cannot slip past the limit."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class WebSession(Base):
    """A signed-in or anonymous browser session (``grants.accounts.sessions``).  The cookie
    carries a signed random id; only its hash is stored here, with the data (JSON: who is
    signed in, the CSRF token, flash messages).  Deleting a user's rows ends every session
    they have, on every device and in every process."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)  # however active it is


#: The columns recording how an invitation ended.
INVITATION_ANSWERS = ("accepted_at", "declined_at", "cancelled_at")


class InvitationMixin:
    """The columns every kind of invitation has (see ``grants.accounts.invitations``)."""

    email: Mapped[str] = mapped_column(String(254))  # lower-cased
    locale: Mapped[str] = mapped_column(String(8), default="en")  # of the mail, when the address has no account
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # At most one of these is set: how the invitation ended.
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def invited_by(cls) -> Mapped[User | None]:
        return relationship("User", foreign_keys=[cls.invited_by_id])

    @property
    def answered(self) -> bool:
        return any(getattr(self, column) is not None for column in INVITATION_ANSWERS)


class OrganisationInvitation(InvitationMixin, Base):
    """An invitation to join an organisation, mailed to an address.  Nobody becomes a
    member until the person at that address accepts, so an owner can neither add someone
    against their will nor learn whether the address has an account.  Only the hash of
    the mailed token is stored."""

    __tablename__ = "organisation_invitations"
    __table_args__ = (Index("ix_organisation_invitations_organisation_email", "organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="member")  # what they will be: "member" or "owner"

    organisation: Mapped[Organisation] = relationship()


class RoleInvitation(InvitationMixin, Base):
    """An invitation to hold a role (a ``LocalRole``) on an object — programme officer on
    a programme, evaluator on a round, a plugin's role — mailed to an address.  The role
    is given only when the person at that address accepts (grants.programmes.people)."""

    __tablename__ = "role_invitations"
    __table_args__ = (Index("ix_role_invitations_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int] = mapped_column(Integer)
