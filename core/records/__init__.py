"""One record layer for every plugin: the spec (``core.contracts.RecordSpec``, declared
with the ``declare_records`` hook) and :class:`RecordService`, the shared get, list,
create, edit, close/reopen and soft delete. The HTTP faces are generated one layer up:
``core.routes.records.record_router`` (the API) and ``core.pages.records.RecordPages``
(the pages), which a plugin extends rather than rewrites.
"""

from core.contracts import Field, Place, RecordSpec
from core.records.service import RecordService, child_of, children_of, where_child

__all__ = ["Field", "Place", "RecordService", "RecordSpec", "child_of", "children_of", "where_child"]
