"""Plugins declaring kinds (``declare_kinds``), a rival owner of one, and a misspelt hook."""

from __future__ import annotations

from typing import Any

from core.approvals import PortalApproval, PortalDecisionResult, refused
from core.contracts import ApprovalKind, ModuleInfo, PersonContact, PersonKind
from core.plugins import hookimpl


class People:
    """A module owning the "customer" kind of person and the "contract" kind of portal item."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def describe_module(self) -> ModuleInfo:
        return ModuleInfo(name=self.name, label_sv="Folk", label_en="People")

    @hookimpl
    def declare_kinds(self) -> list[PersonKind | ApprovalKind]:
        return [
            PersonKind("customer", describe=self.describe),
            ApprovalKind("contract", pending=self.pending, decide=self.decide),
        ]

    async def describe(self, tenant_id: int, person_id: int) -> PersonContact | None:
        self.calls.append(("describe", (tenant_id, person_id)))
        return PersonContact(name=f"Kund {person_id}") if person_id == 7 else None

    async def pending(self, person: Any) -> list[PortalApproval]:
        self.calls.append(("pending", person))
        return [
            PortalApproval(kind="contract", item_id=1, module=self.name, label_sv="Avtal",
                           label_en="Contract", title="Avtal 1", total=0)  # type: ignore[arg-type]
        ]

    async def decide(self, request: Any) -> PortalDecisionResult:
        self.calls.append(("decide", request))
        if request.item_id != 1:
            return refused("not yours", 404)
        return PortalDecisionResult(status="approved" if request.approve else "declined")


owner = People("owner")
rival = People("rival")  # declares "customer" too: only one plugin may own a kind


class Typo:
    """A third-party plugin whose hook name is misspelt: it would never be called."""

    @hookimpl
    def declare_kind(self) -> list[Any]:
        return []


typo = Typo()


class Stranger:
    """Answers declare_kinds with something that is no kind declaration."""

    @hookimpl
    def declare_kinds(self) -> list[Any]:
        return ["customer"]


stranger = Stranger()
