"""Keep the gettext catalogs of the pages in step with the templates and page code.

``python -m core.pages.catalog update <folder>`` adds every new message of the folder's
templates and ``pages*.py`` files to ``<folder>/locale/sv/LC_MESSAGES/messages.po`` (and an
empty English catalog: the message ids are English) and compiles the ``.mo`` files, which
are committed so a fresh checkout needs no build step. ``check`` (run by the tests) fails
when a message has no Swedish text or a ``.mo`` is older than its ``.po``.

For core, ``<folder>`` is ``core`` and the catalogs are ``core/locale``; a plugin keeps its
own in ``plugins/<name>/locale``, merged over core's at run time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

METHODS = [
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/migrations/**.py", "ignore"),
    ("**/scaffold/**", "ignore"),
    ("**.py", "python"),
]
# Besides ``_()``: the message of every refusal a service raises (core.errors), which the
# edge translates, so a message in a service is in the catalogs like one in a template.
KEYWORDS: dict[str, Any] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "Invalid": (2,),
    "FieldError": (2,),
    "GallraError": (1,),
    "NotFound": (1,),
    "Conflict": (1,),
    "Forbidden": (1,),
    "TooMany": (1,),
    "AuthError": (1,),
    # plugins/twofactor: TwoFactorRefusal(message, status, retry_after, field, code=..., **params)
    "TwoFactorRefusal": (1,),
}
OPTIONS = {"**/templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
LANGS = ("sv", "en")


def messages_of(folder: Path) -> set[str | tuple[str, str]]:
    """Every message id of the folder; a plural one (``ngettext``) as ``(singular, plural)``,
    so its catalog entry has a text per plural form ("1 dag", "2 dagar")."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(folder), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            if len(message) >= 2 and message[0] and message[1]:
                found.add((message[0], message[1]))
            else:
                found.update(m for m in message if m)
        elif message:
            found.add(message)
    if folder.name != "core":
        # A plugin's catalog holds only what core's does not already translate.
        core = load(po_path(Path(__file__).resolve().parents[1], "sv"), "sv")
        found = {m for m in found if not ((known := core.get(m)) and translated(known))}
    return found


def translated(message: Any) -> bool:
    """Whether a catalog entry has its text (every plural form of a plural one)."""
    if isinstance(message.string, tuple):
        return all(message.string)
    return bool(message.string)


def _key(value: Any) -> Any:
    """A plural entry's id or texts as a tuple (a compiled catalog gives lists)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def po_path(folder: Path, lang: str) -> Path:
    return folder / "locale" / lang / "LC_MESSAGES" / "messages.po"


def load(path: Path, lang: str) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=lang)
    return Catalog(locale=lang, domain="messages")


def update(folder: Path) -> list[str]:
    """Add new messages, compile; returns the Swedish messages still without a text."""
    wanted = messages_of(folder)
    missing: list[str] = []
    for lang in LANGS:
        path = po_path(folder, lang)
        catalog = load(path, lang)
        for msgid in sorted(wanted, key=str):
            known = catalog.get(msgid)
            if known is not None and isinstance(known.id, tuple) != isinstance(msgid, tuple):
                del catalog[msgid]  # became plural (or singular): its text is asked for anew
                known = None
            if known is None:
                catalog.add(msgid, ("", "") if isinstance(msgid, tuple) else "")
        for message in list(catalog):
            if message.id and message.id not in wanted:
                del catalog[message.id]  # no longer used (or now translated by core)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=True)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)
        if lang == "sv":
            # A plural message's id is (singular, plural): named by its singular.
            missing = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and not translated(m))
    return missing


def check(folder: Path) -> list[str]:
    """Problems: messages without Swedish text, or catalogs not compiled since changed."""
    problems = []
    catalog = load(po_path(folder, "sv"), "sv")
    for msgid in sorted(messages_of(folder), key=str):
        message = catalog.get(msgid)
        if message is None or not translated(message) or isinstance(message.id, tuple) != isinstance(msgid, tuple):
            problems.append(f"{folder}: no Swedish text for {msgid!r}")
    for lang in LANGS:
        po = po_path(folder, lang)
        mo = po.with_suffix(".mo")
        if not po.exists():
            continue
        # Compare contents, not file times (a fresh checkout gives every file a new time).
        # (an untranslated plural entry is compiled with its ids as texts: left out on both sides)
        wanted = {_key(m.id): _key(m.string) for m in load(po, lang) if m.id and translated(m)
                  and _key(m.string) != _key(m.id)}
        compiled = {}
        if mo.exists():
            with mo.open("rb") as fh:
                compiled = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id and translated(m)
                            and _key(m.string) != _key(m.id)}
        if compiled != wanted:
            problems.append(f"{mo} does not match its .po: run python -m core.pages.catalog update {folder}")
    return problems


if __name__ == "__main__":  # pragma: no cover
    command, *folders = sys.argv[1:]
    for name in folders:
        if command == "update":
            left = update(Path(name))
            print(f"{name}: {len(left)} message(s) without Swedish text")
            for m in left:
                print("  ", repr(m))
        else:
            for p in check(Path(name)):
                print(p)
