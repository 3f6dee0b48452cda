"""Request and response shapes of /api/cases (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
"""

from __future__ import annotations

from typing import Literal

from core.records.shapes import Description, EndCustomerIn, EndCustomerOut, Number, Title, patch_of

Kind = Literal["case", "service"]


class CaseIn(EndCustomerIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    kind: Kind = "case"
    number: Number | None = None
    description: Description = ""


class CasePatch(patch_of(CaseIn)):  # type: ignore[misc]
    """A change of a case: any field of :class:`CaseIn`."""


class CaseOut(EndCustomerOut):
    kind: str
