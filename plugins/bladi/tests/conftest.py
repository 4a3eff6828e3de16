"""The plugin's tests run on grants' public fixtures (grants.testing) with the plugin enabled."""
import pytest


@pytest.fixture(scope="session")
def grants_plugins():
    return ["bladi"]
