"""Permissions, roles, and the security policy.

Roles are *local*: a user is an applicant on their organisation's applications, a
reviewer on what they are assigned, a programme officer on a programme and everything in
it, an evaluator on a round, and an admin everywhere.  An object's ACL is computed at
request time from its workflow state's permission map (see ``grants.workflow``) and
nothing about access is ever stored on rows.
"""
from __future__ import annotations

import enum
from typing import Any, Iterator

from pyramid.authorization import ACLHelper, ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone
from pyramid.authentication import SessionAuthenticationHelper

from grants.accounts.models import lineage_roles, remember_roles


class Permission(enum.StrEnum):
    """Every permission the application checks, alphabetised, named ``area:resource:action``."""

    AccountsOrganisationManage = "accounts:organisation:manage"
    ApplicationsApplicationCreate = "applications:application:create"
    ApplicationsApplicationDecide = "applications:application:decide"
    ApplicationsApplicationEdit = "applications:application:edit"
    ApplicationsApplicationScreen = "applications:application:screen"
    ApplicationsApplicationSubmit = "applications:application:submit"
    ApplicationsApplicationView = "applications:application:view"
    ApplicationsApplicationWithdraw = "applications:application:withdraw"
    ApplicationsProposalEdit = "applications:proposal:edit"
    AwardsAwardManage = "awards:award:manage"
    AwardsAwardView = "awards:award:view"
    AwardsTrancheRelease = "awards:tranche:release"
    EvaluationAssessmentEdit = "evaluation:assessment:edit"
    MelDataView = "mel:data:view"
    MelFrameworkEdit = "mel:framework:edit"
    MelReportReview = "mel:report:review"
    MelReportSubmit = "mel:report:submit"
    MelReportView = "mel:report:view"
    ProgrammesProgrammeManage = "programmes:programme:manage"
    ProgrammesProgrammeView = "programmes:programme:view"
    ProgrammesRoundManage = "programmes:round:manage"
    ProgrammesRoundView = "programmes:round:view"
    ReviewApplicationScore = "review:application:score"
    SiteAdmin = "site:admin"
    SiteWorkflowView = "site:workflow:view"


class Role(enum.StrEnum):
    Admin = "admin"
    Applicant = "applicant"
    Anyone = "anyone"  # every visitor, signed in or not
    Evaluator = "evaluator"
    Member = "member"  # signed in
    ProgrammeOfficer = "programme_officer"
    Reviewer = "reviewer"
    System = "system"  # `grants tick` and migrations


def role_principal(role: str) -> str:
    return f"role:{role}"


def lineage(resource: Any) -> Iterator[Any]:
    while resource is not None:
        yield resource
        resource = getattr(resource, "__parent__", None)


def local_roles(resource: Any, user: Any) -> frozenset[str]:
    """The roles ``user`` holds on ``resource``: their global ones plus every role that the
    resource or one of its parents grants them (``local_roles_for(user)``, or all of them
    asked at once through ``local_roles_query``: ``grants.accounts.models.lineage_roles``)."""
    roles = {Role.Anyone}
    if user is not None:
        roles.add(Role.Member)
        if getattr(user, "is_admin", False):
            roles.add(Role.Admin)
        # Asked together, in one statement for the nodes not yet remembered.
        roles.update(lineage_roles([node for node in lineage(resource) if hasattr(node, "local_roles_for")], user))
    return frozenset(str(r) for r in roles)


def remember_local_roles(resources, user) -> None:
    """Ask together the roles ``user`` holds on every one of ``resources`` and on the
    nodes above them, and remember them until the session's next write: ``local_roles``
    then asks nothing for them.  Called where a list is built, before its rows' workflow
    steps are offered, so that a page asks its rows' roles in one statement, not one per
    row (``grants.accounts.models.remember_roles``)."""
    remember_roles([node for resource in resources for node in lineage(resource) if hasattr(node, "local_roles_for")],
                   user)


def workflow_acl(state, managed_permissions) -> list[tuple]:
    """A workflow object's ACL in its current state: the state's permission map, then a
    deny for every other permission the workflow manages, so a parent's ACL cannot grant
    what this state withholds (DCWorkflow's 'acquire: no')."""
    acl = [
        (Allow, role_principal(role), permission)
        for permission, roles in sorted(state.permissions.items())
        for role in sorted(roles)
    ]
    acl.extend((Deny, Everyone, permission) for permission in sorted(managed_permissions))
    return acl


class SecurityPolicy:
    """Session authentication; authorization from the context's ACL lineage, with the
    principals computed for that context (its local roles) rather than once per request."""

    def __init__(self):
        self.helper = SessionAuthenticationHelper()
        self.acl = ACLHelper()

    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return None if user is None else str(user.id)

    def remember(self, request, userid, **kw):
        return self.helper.remember(request, userid, **kw)

    def forget(self, request, **kw):
        return self.helper.forget(request, **kw)

    def principals_for(self, request, context) -> list[str]:
        principals = [Everyone]
        user = request.user
        if user is not None:
            principals += [Authenticated, f"user:{user.id}"]
        principals += [role_principal(r) for r in local_roles(context, user)]
        return principals

    def permits(self, request, context, permission):
        return self.acl.permits(context, self.principals_for(request, context), permission)


def includeme(config):
    config.set_security_policy(SecurityPolicy())
    config.set_default_permission(Permission.SiteAdmin)  # views must say who may see them


__all__ = [
    "ALL_PERMISSIONS",
    "Allow",
    "Deny",
    "Everyone",
    "Permission",
    "Role",
    "SecurityPolicy",
    "local_roles",
    "remember_local_roles",
    "workflow_acl",
]
