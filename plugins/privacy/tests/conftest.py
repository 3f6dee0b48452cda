"""Fixtures and helpers of the GDPR module's tests."""

from __future__ import annotations

from typing import Any

from core.testing.client import AppClient

COMPLETE = {
    "name": "Kundregister",
    "purpose": "Administrera kundrelationer och fakturera",
    "legal_basis": "contract",
    "data_subjects": ["Kunder", "Kontaktpersoner"],
    "personal_data": ["Namn", "E-postadress"],
    "recipients": ["Redovisningsbyrå"],
    "retention": "Gallras 365 dagar efter borttagning",
    "security_measures": "Inloggning med tvåfaktor",
    "modules": ["customers"],
}


async def make_activity(client: AppClient, **fields: Any) -> dict:
    response = await client.post("/api/privacy/activities/", json={**COMPLETE, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def make_contact(client: AppClient, **fields: Any) -> dict:
    body = {"name": "Dora Dataskydd", "role": "dpo", "email": "dora@example.se", "phone": "070-123 45 67", **fields}
    response = await client.post("/api/privacy/contacts/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def make_incident(client: AppClient, **fields: Any) -> dict:
    body = {
        "title": "Borttappad laptop",
        "discovered_at": "2026-03-02T08:00:00+00:00",
        "description": "En laptop med kundlista glömdes på tåget",
        **fields,
    }
    response = await client.post("/api/privacy/incidents/", json=body)
    assert response.status_code == 201, response.text
    return response.json()
