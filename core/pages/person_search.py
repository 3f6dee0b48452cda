"""Settings > GDPR > Search for data, as a person reads it (issue #20.5).

:func:`core.gdpr.search.search` answers with the database's words: a column name
(``contact_person_id``), a state (``active``), a record id, a plugin name. This module turns
one page of that answer into what the page shows:

* the hits grouped by module, each module once (its label, "Kunder"), and inside it by place
  ("Kundregister"), each place once;
* each hit as its record: the record type's label, its number and its title ("Ärende 12:
  Läckage i källaren"), linked to the record's page when it has one;
* the field's label as the data subjects' export shows it ("Kontaktperson", "E-post"), from
  the personal-data declarations;
* a reference (``customer_ref`` ...) as the person's name, not an id; the status in the
  page's language.

What is shown is only what the search already shows the searcher: a record the searcher may
not open (the search's gate, its value left empty) is named by type and number alone, with
no title and no name. Titles and names are identifiers of records and people, never a
secret, token, code, hash or message body (person search never reads those columns).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from core.errors import mark as _
from core.gdpr.registry import get_declarations
from core.pages import _page_paths, label
from core.plugins import get_host
from core.secondfactor import describe_person

STATUS_LABELS = {
    "active": _("Active"),
    "closed": _("Closed"),
    "deleted": _("Deleted"),
    "anonymized": _("Anonymized"),
}
# A field without a declared label: its category says what it holds.
CATEGORY_LABELS = {
    "name": _("Name"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "national_id": _("Personal identity number"),
    "address": _("Address"),
    "ip": _("IP address"),
    "free_text": _("Text"),
    "customer_ref": _("Customer"),
    "contact_ref": _("Contact person"),
    "employee_ref": _("User"),
    "other": _("Other"),
}
AREA_LABELS = {
    "workcloud": _("Business modules"),
    "time": _("Time"),
    "gdpr": _("GDPR"),
    "settings": _("Settings"),
}
REF_PERSON = {"customer_ref": "customer", "contact_ref": "contact", "employee_ref": "employee"}
_ID_AT_END = re.compile(r"/(\d+)$")


def field_labels() -> dict[tuple[str, str], tuple[str, str]]:
    """(table name, column) -> (label_sv, label_en) of every declared personal-data field:
    the labels the data subjects' export shows."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for info in get_declarations().fields:
        key = (info.table._meta.tablename, info.field.column)
        if key not in out and (info.field.label_sv or info.field.label_en):
            out[key] = (info.field.label_sv, info.field.label_en)
    return out


def page_of(request: Request[Any, Any, Any], api_link: str | None) -> str | None:
    """The page a hit opens: its API link without ``/api`` when that is a page, else that
    record's edit page when there is one (a contact person), else none (no dead link)."""
    if not api_link:
        return None
    path = api_link[4:] if api_link.startswith("/api/") else api_link
    match = _ID_AT_END.search(path)
    if match is None:
        return path if path in _page_paths(request) else None
    base = path[: match.start()]
    routes = _page_paths(request)
    for suffix in ("", "/edit"):
        pattern = re.compile(re.escape(base) + r"/\{[^}]+\}" + re.escape(suffix) + "$")
        if any(pattern.match(route) for route in routes):
            return path + suffix
    return None


async def _titles(tenant_id: int, wanted: dict[tuple[str, str], set[int]]) -> dict[tuple[str, str, int], str]:
    """The titles of the records (by module and record type) whose title is shown."""
    host = get_host()
    out: dict[tuple[str, str, int], str] = {}
    for (module, record_type), ids in wanted.items():
        try:
            spec = host.record_spec(module, record_type)
        except KeyError:
            continue
        if not spec.title_column or not ids:
            continue
        table = spec.table
        title = table._meta.get_column_by_name(spec.title_column)
        pk = table._meta.primary_key
        rows = await table.select(pk.as_alias("id"), title.as_alias("title")).where(
            (table._meta.get_column_by_name("tenant_id") == tenant_id) & pk.is_in(sorted(ids))
        )
        for row in rows:
            out[(module, record_type, int(row["id"]))] = str(row["title"] or "")[:200]
    return out


async def _person_name(tenant_id: int, kind: str, person_id: int) -> str:
    person = await describe_person(tenant_id, kind, person_id)
    if person is not None:
        return person.name
    if kind == "employee":
        from core.tables import Employee

        row = await Employee.select(Employee.name).where(
            (Employee.tenant_id == tenant_id) & (Employee.id == person_id)
        ).first()
        return str(row["name"]) if row else ""
    return ""


async def present(
    request: Request[Any, Any, Any], tenant_id: int, result: dict[str, Any], lang: str
) -> list[dict[str, Any]]:
    """The search answer's groups as modules, each with its places and readable hits."""
    decl = get_declarations()
    labels = field_labels()
    modules_info = get_host().modules()
    hits = [(g, h) for g in result["groups"] for h in g["hits"]]
    # A hit whose value the search left empty is a record the searcher may not open.
    wanted: dict[tuple[str, str], set[int]] = {}
    for g, h in hits:
        if h["value"] != "":
            wanted.setdefault((g["module"], g["record_type"]), set()).add(int(h["record_id"]))
    titles = await _titles(tenant_id, wanted)
    names: dict[tuple[str, int], str] = {}
    modules: dict[str, dict[str, Any]] = {}
    for g in result["groups"]:
        module = g["module"]
        info = modules_info.get(module)
        entry = modules.setdefault(module, {
            "key": module,
            "label": label(info, lang) if info else AREA_LABELS.get(g["area"], g["area"]),
            "translate": info is None,
            "total": 0, "capped": False, "places": {},
        })
        entry["total"] += g["total"]
        entry["capped"] = entry["capped"] or g["capped"]
        place = entry["places"].setdefault(g["place"], {"label": g["place"], "total": 0, "capped": False,
                                                         "hits": []})
        place["total"] += g["total"]
        place["capped"] = place["capped"] or g["capped"]
        rt = decl.record_types.get((module, g["record_type"]))
        table = rt.table._meta.tablename if rt is not None else ""
        for h in g["hits"]:
            readable = h["value"] != ""
            rid = int(h["record_id"])
            sv_en = labels.get((table, h["field"]))
            field = (sv_en[0] if lang == "sv" else sv_en[1] or sv_en[0]) if sv_en else ""
            value = h["value"]
            kind = REF_PERSON.get(h["category"])
            if kind and readable and str(value).isdigit():
                key = (kind, int(value))
                if key not in names:
                    names[key] = await _person_name(tenant_id, kind, int(value))
                value = names[key]
            place["hits"].append({
                "record": label(rt, lang) if rt is not None else "",
                "number": h["number"] if h["number"] is not None else rid,
                "title": titles.get((module, g["record_type"], rid), "") if readable else "",
                "field": field,
                "field_message": "" if field else CATEGORY_LABELS.get(h["category"], _("Other")),
                "value": value,
                "readable": readable,
                "status": STATUS_LABELS.get(h["status"], h["status"]),
                "link": page_of(request, h.get("link")),
            })
    return [{**m, "places": list(m["places"].values())} for m in modules.values()]
