"""Activity: comments, notes, work reports and customer-conversation messages on any record.

Like a chatter, an entry attaches to (plugin, record type, record id); the record type is
one a plugin declared with ``declare_record_types``. Retention rules name the kinds they
clear (``RetentionRule.clears_activity``) and the GDPR engine deletes exactly those kinds.

Python API for plugins: :func:`add_activity`, :func:`list_activity`. HTTP API:
``GET/POST /api/activity/{plugin}/{record_type}/{record_id}``, which shows and takes
entries exactly when the user may open the record: the record type's ``can_open`` (declared
by the owning plugin) decides, a type without one is refused, and a record the user may not
open answers 404 like one that does not exist.
"""

from __future__ import annotations

from core.activity.service import (
    ACTIVITY_KINDS,
    ActivityError,
    add_activity,
    clear_activity,
    list_activity,
    may_open,
)
from core.activity.tables import Activity

__all__ = [
    "ACTIVITY_KINDS",
    "Activity",
    "ActivityError",
    "add_activity",
    "clear_activity",
    "list_activity",
    "may_open",
]
