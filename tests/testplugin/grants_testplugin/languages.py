"""Two plugins that bring a language grants does not ship: Swahili (left to right) and
Persian (right to left).  Each catalog translates a few of grants' own messages, so the
tests can see the plugin's wording where it has some and English where it has none."""


def include_swahili(config):
    config.add_translations("grants_testplugin:swahili_locale")


def include_persian(config):
    config.add_translations("grants_testplugin:persian_locale")
