"""Guards on the round workflow.  Each returns None, or a reason a person can read."""
from translationstring import TranslationStringFactory

_ = TranslationStringFactory("grants")


def round_has_dates(ctx):
    rnd = ctx.obj
    if rnd.opens_at is None or rnd.closes_at is None:
        return _("Set the round's opening and closing dates first.")
    if rnd.closes_at <= rnd.opens_at:
        return _("The round must close after it opens.")
    return None
