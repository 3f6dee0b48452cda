"""The suite's set-up, for the tests in tests/ and beside every plugin (plugins/<name>/tests):
the environment (set before any Gallra module reads it), migrations, and the fixtures every
test folder shares. They live in tests/ (tests.support on Gallra's test kit, core.testing),
so that no plugin's tests import another plugin's."""

pytest_plugins = ["tests.support", "tests.modules", "tests.twofactor_kit"]
