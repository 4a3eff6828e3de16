"""The account forms, with the autocomplete hints that let browsers and password
managers fill them in."""
from __future__ import annotations

import colander
import deform

from grants.forms import FormSchema
from grants.i18n import (PluralLength, _, default_language, deployment_languages, language_choice_validator,
                         language_choice_widget, ngettext)

from .services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _password_too_short():
    return ngettext("Enter a password of at least ${count} character",
                    "Enter a password of at least ${count} characters", MIN_PASSWORD_LENGTH)


def _normalise_email(value):
    return value.strip().lower() if isinstance(value, str) else value


@colander.deferred
def _current_language(node, kw):
    request = kw["request"]
    return request.locale_name if request.locale_name in deployment_languages(request) else default_language(request)


def email_node(**kw) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        name="email",
        title=_("E-mail address"),
        preparer=_normalise_email,
        validator=colander.All(
            colander.Length(max=254, max_err=_("Enter an e-mail address of 254 characters or fewer")),
            colander.Email(msg=_("Enter an e-mail address in the right format, like name@example.org")),
        ),
        missing_msg=_("Enter your e-mail address"),
        widget=deform.widget.TextInputWidget(attributes={
            "type": "email", "autocomplete": "email", "spellcheck": "false", "autocapitalize": "none",
            "dir": "ltr",
        }),
        **kw,
    )


def new_password_node(title=None) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        name="password",
        title=title or _("Password"),
        description=ngettext(
            "At least ${count} character. A few unrelated words make a strong password that is easy to remember.",
            "At least ${count} characters. A few unrelated words make a strong password that is easy to remember.",
            MIN_PASSWORD_LENGTH),
        validator=PluralLength(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            min_err=_password_too_short(),
            max_err=ngettext("Enter a password of ${count} character or fewer",
                             "Enter a password of ${count} characters or fewer", MAX_PASSWORD_LENGTH),
        ),
        missing_msg=_password_too_short(),
        widget=deform.widget.PasswordWidget(attributes={"autocomplete": "new-password"}),
    )


class RegisterSchema(FormSchema):
    name = colander.SchemaNode(
        colander.String(),
        title=_("Full name"),
        preparer=_strip,
        validator=colander.Length(min=1, max=200, min_err=_("Enter your full name"),
                                  max_err=_("Enter a name of 200 characters or fewer")),
        missing_msg=_("Enter your full name"),
        widget=deform.widget.TextInputWidget(attributes={"autocomplete": "name", "dir": "auto",
                                                         "spellcheck": "false"}),
    )
    email = email_node(description=_("We will send a link to this address to confirm it is yours."))
    password = new_password_node()
    locale = colander.SchemaNode(
        colander.String(),
        title=_("Language"),
        description=_("For the pages you see and the e-mails we send you."),
        default=_current_language,
        validator=language_choice_validator,
        missing_msg=_("Choose one of the languages offered"),
        widget=language_choice_widget,
    )


class LoginSchema(FormSchema):
    email = email_node()
    password = colander.SchemaNode(
        colander.String(),
        title=_("Password"),
        # No length rule here: sign-in only says whether the password is right.
        missing_msg=_("Enter your password"),
        widget=deform.widget.PasswordWidget(attributes={"autocomplete": "current-password"}),
    )
    came_from = colander.SchemaNode(colander.String(), widget=deform.widget.HiddenWidget(), missing="")


class EmailOnlySchema(FormSchema):
    """Asking for a reset link, or for a new verification link."""

    email = email_node()


def _passwords_match(node, value):
    if value["password"] != value["confirm"]:
        error = colander.Invalid(node)
        error["confirm"] = _("Enter the same password twice: the two do not match")
        raise error


class NewPasswordSchema(FormSchema):
    password = new_password_node(title=_("New password"))
    confirm = colander.SchemaNode(
        colander.String(),
        title=_("Type the new password again"),
        missing_msg=_("Type the new password again"),
        widget=deform.widget.PasswordWidget(attributes={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kw):
        kw.setdefault("validator", _passwords_match)
        super().__init__(*args, **kw)


class ChangePasswordSchema(NewPasswordSchema):
    current = colander.SchemaNode(
        colander.String(),
        title=_("Current password"),
        missing_msg=_("Enter your current password"),
        widget=deform.widget.PasswordWidget(attributes={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # Asked first, as every password manager expects.
        self.children.insert(0, self.children.pop(self.children.index(self["current"])))
