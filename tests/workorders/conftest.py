"""Fixtures of the workorders tests: shared with the cases tests (another tenant's client,
the test-only people plugin, activity and settings helpers)."""

from tests.cases.conftest import other_client, people  # noqa: F401
