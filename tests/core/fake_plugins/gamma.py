"""A module plugin that builds on beta (``ModuleInfo.requires``), as the customer portal
builds on the customer register."""

from __future__ import annotations

from core.contracts import ModuleInfo
from core.plugins import hookimpl

NAME = "gamma"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, label_sv="Gamma", label_en="Gamma", requires=("beta",))
