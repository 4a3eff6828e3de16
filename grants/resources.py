"""Traversal: URL segments become rows, and the row is the context a view protects.

``/programmes/{id}/rounds/{id}/applications/{id}``.  Containers are light objects made
on the fly; every model also knows its parent (``__parent__``), so an object loaded
anywhere — a view, the CLI, ``grants tick`` — has the same lineage, the same inherited
local roles, and the same URL.
"""
from __future__ import annotations

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Everyone
from sqlalchemy.orm import object_session

from grants.db import parse_id
from grants.security import Permission, Role, role_principal


class Root:
    __name__ = ""
    __parent__ = None
    __acl__ = [
        (Allow, role_principal(Role.Admin), ALL_PERMISSIONS),
        (Allow, Everyone, Permission.SiteWorkflowView),
        (Allow, Authenticated, Permission.AccountsOrganisationManage),
    ]

    def __init__(self, request=None):
        self.request = request

    def __getitem__(self, name):
        if name == "programmes":
            return ProgrammesContainer(self)
        raise KeyError(name)


def _dbsession(node):
    while node is not None:
        request = getattr(node, "request", None)
        if request is not None:
            return request.dbsession
        session = getattr(node, "_session", None)
        if session is not None:
            return session
        node = node.__parent__
    raise LookupError("no database session in this lineage")


class _Container:
    model = None  # set by subclasses
    __name__ = ""

    def __init__(self, parent, session=None):
        self.__parent__ = parent
        self._session = session

    def _get(self, name):
        key = parse_id(name)  # "abc", "+1", "٣" and ids past the database's integers are not found
        if key is None:
            raise KeyError(name)
        obj = _dbsession(self).get(self.model, key)
        if obj is None or not self._owns(obj):
            raise KeyError(name)
        return obj

    def _owns(self, obj) -> bool:
        return True


class ProgrammesContainer(_Container):
    __name__ = "programmes"

    @property
    def model(self):
        from grants.programmes.models import Programme

        return Programme

    def __getitem__(self, name):
        return self._get(name)


class RoundsContainer(_Container):
    __name__ = "rounds"

    @property
    def model(self):
        from grants.programmes.models import Round

        return Round

    def _owns(self, obj):
        return obj.programme_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


class ApplicationsContainer(_Container):
    __name__ = "applications"

    @property
    def model(self):
        from grants.applications.models import Application

        return Application

    def _owns(self, obj):
        return obj.round_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


class AwardsContainer(_Container):
    """``/programmes/{id}/rounds/{id}/awards/{id}``"""

    __name__ = "awards"

    @property
    def model(self):
        from grants.awards.models import Award

        return Award

    def _owns(self, obj):
        return obj.round_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


class ReportsContainer(_Container):
    """``…/awards/{id}/reports/{id}``"""

    __name__ = "reports"

    @property
    def model(self):
        from grants.mel.models import Report

        return Report

    def _owns(self, obj):
        return obj.award_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


class TranchesContainer(_Container):
    """``…/awards/{id}/tranches/{id}``"""

    __name__ = "tranches"

    @property
    def model(self):
        from grants.awards.models import Tranche

        return Tranche

    def _owns(self, obj):
        return obj.award_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


def parent_container(container_class, parent_obj):
    """The container holding a child of ``parent_obj`` (used by models' ``__parent__``)."""
    return container_class(parent_obj, object_session(parent_obj))


def includeme(config):
    config.set_root_factory(Root)
