"""Gallra's test kit for plugin authors (first-party and third-party alike).

* :mod:`core.testing.pytest_plugin` is registered with pytest through the ``pytest11`` entry
  point, so every project that has Gallra installed gets its fixtures (``gallra_app``,
  ``gallra_tenant``, ``gallra_client`` …). It changes nothing until a project opts in with
  the ini option ``gallra_plugins``; then it also prepares a throw-away environment (data
  directory, SQLite by default, PostgreSQL when ``GALLRA_TEST_DATABASE_URL`` is set) and
  applies every migration before the tests run.
* :mod:`core.testing.conformance` holds :class:`PluginConformance`, the ready test suite a
  plugin author switches on by subclassing it in a test module.

docs/plugins.md explains both, step by step.
"""
