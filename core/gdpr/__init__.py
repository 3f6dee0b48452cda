"""The GDPR engine: personal-data declarations, retention settings, anonymization, audit.

* :mod:`core.gdpr.registry` reads and checks every plugin's declarations;
* :mod:`core.gdpr.settings` stores each tenant's choice per rule (and the module endpoints);
* :mod:`core.gdpr.engine` finds what is due and anonymizes it in set-based batches;
* :mod:`core.gdpr.jobs` is the Dramatiq sweep task and the schedule;
* :mod:`core.gdpr.routes` is Settings > GDPR's API.

docs/gdpr.md explains it for plugin authors. This package's ``__init__`` stays light: the
core's Piccolo app imports its tables.
"""
