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
    # organisations (organisation_views.py); ids in ASCII digits: \d would also match "١"
    config.add_route("organisations", "/organisations")
    config.add_route("organisation_new", "/organisations/new")
    config.add_route("organisation", r"/organisations/{id:[0-9]+}")
    config.add_route("organisation_edit", r"/organisations/{id:[0-9]+}/edit")
    config.add_route("organisation_members", r"/organisations/{id:[0-9]+}/members")
    config.add_route("organisation_member_remove", r"/organisations/{id:[0-9]+}/members/{user_id:[0-9]+}/remove")
    config.add_route("organisation_invitation_cancel",
                     r"/organisations/{id:[0-9]+}/invitations/{invitation_id:[0-9]+}/cancel")
    config.add_route("invitation", "/invitations/{token}")
    config.add_route("invitation_register", "/invitations/{token}/register")
    config.scan(".organisation_views")
