"""Guards on the application workflow.  Each returns None, or a reason a person can read."""
from translationstring import TranslationStringFactory

from grants.i18n import format_datetime

_ = TranslationStringFactory("grants")


def round_is_open(ctx):
    rnd = ctx.obj.round
    if rnd.state != "open":
        return _("The round is not open for applications.")
    if rnd.closes_at is not None and ctx.now >= rnd.closes_at:
        return _(
            "The round closed on ${when}; applications can no longer be submitted.",
            mapping={"when": format_datetime(rnd.closes_at, rnd.timezone)},
        )
    return None
