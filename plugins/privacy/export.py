"""The inventory as a document: JSON for machines, HTML for people (and for printing).

The HTML is rendered with Jinja2 and autoescaping on: every value in it was typed by a
person and is escaped, so a purpose containing ``<script>`` is shown, not run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.db import utcnow
from plugins.privacy import services
from plugins.privacy.tables import InventoryVersion

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)

TEXTS = {
    "sv": {
        "title": "Registerförteckning",
        "subtitle": "Förteckning över behandling av personuppgifter (artikel 30 GDPR)",
        "organization": "Personuppgiftsansvarig",
        "generated": "Utskriven",
        "signed": "Signerad",
        "by": "av",
        "sms": "med SMS-kod till",
        "not_signed": "Denna version är inte signerad.",
        "latest": "Senast signerade version",
        "version": "Version",
        "note": "Kommentar",
        "contacts": "Kontaktpersoner för dataskydd",
        "no_contacts": "Inga kontaktpersoner angivna.",
        "activities": "Behandlingar",
        "no_activities": "Inga behandlingar registrerade.",
        "purpose": "Ändamål",
        "legal_basis": "Rättslig grund",
        "data_subjects": "Kategorier av registrerade",
        "personal_data": "Kategorier av personuppgifter",
        "recipients": "Kategorier av mottagare",
        "transfers": "Överföring till tredje land",
        "retention": "Gallring och lagringstid",
        "security": "Säkerhetsåtgärder",
        "modules": "Systemets moduler",
        "owner": "Ansvarig",
        "none": "Inga",
    },
    "en": {
        "title": "Record of processing activities",
        "subtitle": "Record of processing of personal data (GDPR article 30)",
        "organization": "Controller",
        "generated": "Printed",
        "signed": "Signed",
        "by": "by",
        "sms": "with an SMS code to",
        "not_signed": "This version is not signed.",
        "latest": "Latest signed version",
        "version": "Version",
        "note": "Note",
        "contacts": "Data protection contacts",
        "no_contacts": "No contact persons given.",
        "activities": "Processing activities",
        "no_activities": "No processing activities recorded.",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "data_subjects": "Categories of data subjects",
        "personal_data": "Categories of personal data",
        "recipients": "Categories of recipients",
        "transfers": "Transfers to third countries",
        "retention": "Retention and erasure",
        "security": "Security measures",
        "modules": "System modules",
        "owner": "Responsible",
        "none": "None",
    },
}


def _signature(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": row["version"],
        "signed_at": row["signed_at"],
        "signer_name": row["signer_name"],
        "signer_phone": row["signer_phone"],
        "sms_verified": row["sms_verified"],
        "note": row["note"],
        "superseded_at": row["superseded_at"],
    }


async def build(tenant_id: int, version: int | None = None) -> dict[str, Any]:
    """The current inventory, or signed version number ``version`` exactly as signed."""
    if version is not None:
        row = await services.version_by_number(tenant_id, version)
        stored = services.version_dict(row)
        return {
            "organization": stored["organization"],
            "language": stored["language"],
            "generated_at": utcnow(),
            "signature": _signature(row),
            "latest_signed": None,
            "activities": stored["activities"],
            "contacts": stored["contacts"],
        }
    document = await services.current_document(tenant_id)
    latest = (
        await InventoryVersion.select()
        .where(InventoryVersion.tenant_id == tenant_id)
        .order_by(InventoryVersion.version, ascending=False)
        .first()
    )
    return {
        **document,
        "generated_at": utcnow(),
        "signature": None,
        "latest_signed": _signature(latest) if latest else None,
    }


def render_html(document: dict[str, Any]) -> str:
    lang = "en" if document.get("language") == "en" else "sv"
    return _env.get_template("inventory.html").render(doc=document, t=TEXTS[lang], lang=lang)
