"""``gallra plugins new NAME``: a new plugin distribution with the standard layout.

The files come from ``template/`` beside this module (``string.Template``; ``__package__``
in a path becomes the package name, ``.tmpl`` is dropped); a gettext catalog (``.po``) is
compiled beside itself (``.mo``). The plugin is described by its ``module.toml`` and
``core.plugins.module_hooks``, its record declared once (a ``RecordSpec``) with the API
routes and pages Gallra generates from it, in Swedish and English. The result installs with
``pip install -e``, and its tests — API and page tests and Gallra's conformance suite —
pass as generated, so an author starts from green and changes one thing at a time.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from string import Template

TEMPLATE_DIR = Path(__file__).with_name("template")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
RESERVED = {"core", "plugins", "gallra", "test", "tests"}


class ScaffoldError(ValueError):
    """A name or target the scaffold refuses; the message says what to do instead."""


@dataclass(frozen=True)
class Scaffold:
    name: str
    target: Path
    files: list[Path]

    @property
    def package(self) -> str:
        return f"gallra_{self.name}"


def check_name(name: str) -> None:
    if not NAME_RE.match(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(
            f"{name!r} cannot name a plugin: use 2-40 lower-case letters, digits and single "
            "underscores, starting with a letter (for example: meetings, service_log)"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"{name!r} is reserved; choose another name for the plugin")


def _gallra_version() -> str:
    try:
        return metadata.version("gallra")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.1"


def values(name: str, label_sv: str | None = None, label_en: str | None = None) -> dict[str, str]:
    """Everything the templates name."""
    camel = "".join(part.capitalize() for part in name.split("_"))
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = [now, now + timedelta(seconds=1)]
    label = name.replace("_", " ").capitalize()
    return {
        "name": name,
        "package": f"gallra_{name}",
        "dist": "gallra-" + name.replace("_", "-"),
        "Camel": camel,
        "table": f"{name}_record",
        "record_type": name,
        "label_sv": label_sv or label,
        "label_en": label_en or label,
        "gallra_version": _gallra_version(),
        "id1": ids[0].strftime("%Y-%m-%dT%H:%M:%S:%f"),
        "id2": ids[1].strftime("%Y-%m-%dT%H:%M:%S:000000"),
        "mig1": f"{name}_" + ids[0].strftime("%Y_%m_%dt%H_%M_%S_%f"),
        "mig2": f"{name}_" + ids[1].strftime("%Y_%m_%dt%H_%M_%S_000000"),
    }


def _target_name(relative: Path, v: dict[str, str]) -> Path:
    names = {"__package__": v["package"], "__name__": v["name"]}
    parts = [names.get(p, p) for p in relative.parts]
    last = parts[-1].removesuffix(".tmpl")
    last = {"migration_0001.py": v["mig1"] + ".py", "migration_0002.py": v["mig2"] + ".py"}.get(
        last, last
    )
    return Path(*parts[:-1], last)


def new_plugin(
    name: str, target: Path, label_sv: str | None = None, label_en: str | None = None
) -> Scaffold:
    """Write a plugin distribution for ``name`` into ``target`` (absent or empty)."""
    check_name(name)
    for text, what in ((label_sv, "Swedish"), (label_en, "English")):
        if text is not None and (not text.strip() or len(text) > 60 or '"' in text or "\\" in text):
            raise ScaffoldError(f"the {what} label must be 1-60 characters without quotes or backslashes")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder; choose another --dir")
    v = values(name, label_sv and label_sv.strip(), label_en and label_en.strip())
    written: list[Path] = []
    for source in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        relative = _target_name(source.relative_to(TEMPLATE_DIR), v)
        text = Template(source.read_text(encoding="utf-8")).substitute(v)
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if path.suffix == ".po":
            written.append(_compile(path))
    return Scaffold(name, target, written)


def _compile(po: Path) -> Path:
    """The ``.mo`` beside a catalog, as ``python -m core.pages.catalog update`` writes it."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parents[1].name)
    mo = po.with_suffix(".mo")
    with mo.open("wb") as fh:
        write_mo(fh, catalog)
    return mo
