"""Every page text has a Swedish translation, and the committed .mo files are compiled."""

from __future__ import annotations

from pathlib import Path

from core.pages.catalog import check

ROOT = Path(__file__).resolve().parents[2]


def test_core_catalog_is_complete_and_compiled():
    assert check(ROOT / "core") == []


def test_plugin_catalogs_are_complete_and_compiled():
    folders = [p.parent for p in (ROOT / "plugins").glob("*/locale")]
    problems = [p for folder in folders for p in check(folder)]
    assert problems == []
