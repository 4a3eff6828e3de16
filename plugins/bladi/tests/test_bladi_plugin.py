"""The plugin installs, is found by its entry-point name, and a programme can use it."""
from importlib.metadata import entry_points


def test_the_plugin_is_installed_under_its_entry_point_name():
    assert "bladi" in {ep.name for ep in entry_points(group="grants.plugins")}


def test_a_programme_uses_the_plugin(grants_site):
    assert grants_site.programme.plugins == ["bladi"]
