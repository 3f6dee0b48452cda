"""Request and response shapes of /api/cases (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
"""

from __future__ import annotations

from typing import Literal

from core.records.shapes import Description, EndCustomerIn, EndCustomerOut, EndCustomerPatch, Number, Title

Kind = Literal["case", "service"]


class CaseIn(EndCustomerIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    kind: Kind = "case"
    number: Number | None = None
    description: Description = ""


class CasePatch(EndCustomerPatch, forbid_unknown_fields=True):
    title: Title | None = None
    kind: Kind | None = None
    number: Number | None = None
    description: Description | None = None


class CaseOut(EndCustomerOut):
    kind: str
