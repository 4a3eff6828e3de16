"""Accounts: people, organisations and memberships; registration with e-mail
verification, sign-in and sign-out, password reset."""
from sqlalchemy.exc import NoResultFound


def get_user(request):
    from .models import User

    userid = request.session.get("auth.userid")
    if userid is None:
        return None
    try:
        user = request.dbsession.get(User, int(userid))
    except (ValueError, NoResultFound):
        return None
    return user


def includeme(config):
    config.add_request_method(get_user, "user", reify=True)
    config.add_route("register", "/register")
    config.add_route("verify", "/verify/{token}")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("reset_request", "/reset-password")
    config.add_route("reset", "/reset-password/{token}")
    config.add_route("change_password", "/account/password")
    config.scan(".views")
    # organisations (organisation_views.py)
    config.add_route("organisations", "/organisations")
    config.add_route("organisation_new", "/organisations/new")
    config.add_route("organisation", r"/organisations/{id:\d+}")
    config.add_route("organisation_edit", r"/organisations/{id:\d+}/edit")
    config.add_route("organisation_members", r"/organisations/{id:\d+}/members")
    config.add_route("organisation_member_remove", r"/organisations/{id:\d+}/members/{user_id:\d+}/remove")
    config.add_route("organisation_invitation_cancel",
                     r"/organisations/{id:\d+}/invitations/{invitation_id:\d+}/cancel")
    config.add_route("invitation", "/invitations/{token}")
    config.add_route("invitation_register", "/invitations/{token}/register")
    config.scan(".organisation_views")
