"""Which phone gets the code (M5), and what happens without one (M6)."""

from __future__ import annotations

import pytest

from core.contracts import PersonContact
from plugins.twofactor.services import mask_phone
from tests.support import login
from tests.twofactor_kit import (
    MOBILE,
    MOBILE_MASKED,
    PRIVATE,
    PRIVATE_MASKED,
    WORK,
    WORK_MASKED,
    activate_sms,
    add_employee,
    set_phones,
    setup_login_2fa,
    sms_rows,
    switch,
)


def test_mask_keeps_country_code_and_two_digits_each_end():
    assert mask_phone("+46701234567") == "+46 70•••••67"
    assert mask_phone("+4781234567") == "+47 81••••67"
    assert mask_phone("+358401234567") == "+358 40•••••67"


@pytest.mark.parametrize(
    "phones, recipient, masked, source",
    [
        ((MOBILE, PRIVATE, WORK), MOBILE, MOBILE_MASKED, "mobile_phone"),
        ((None, PRIVATE, WORK), PRIVATE, PRIVATE_MASKED, "private_phone"),
        ((None, None, WORK), WORK, WORK_MASKED, "work_phone"),
        (("123", PRIVATE, WORK), PRIVATE, PRIVATE_MASKED, "private_phone"),  # not a number: next
        (("", "", WORK), WORK, WORK_MASKED, "work_phone"),
    ],
)
async def test_fallback_order_mobile_private_work(client, anon_client, tenant, phones, recipient, masked, source):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Phones", mobile=None)
    await set_phones(emp_id, *phones)
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202, r.text
    assert r.json()["second_factor"]["masked_phone"] == masked
    assert (await sms_rows(tenant.id))[-1]["recipient"] == recipient
    status = (await client.get(f"/api/twofactor/people/employee/{emp_id}/status")).json()
    assert status["has_phone"] is True and status["phone_source"] == source and status["masked_phone"] == masked
    assert status["message_en"] is None


async def test_employee_without_phone_is_told_to_contact_an_administrator(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Nophone", mobile=None)
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "phone number is missing" in detail and "Contact an administrator" in detail
    # One language at a time now (#18.5): Swedish for a client that asks for it.
    r = await anon_client.post(
        "/api/auth/login",
        json={"tenant": tenant.slug, "email": email, "password": tenant.password},
        headers={"Accept-Language": "sv"},
    )
    assert r.status_code == 409
    assert "Telefonnummer saknas" in r.json()["detail"] and "Kontakta en administratör" in r.json()["detail"]
    assert "gallra_session" not in r.headers.get("set-cookie", "")
    assert await sms_rows(tenant.id) == []

    status = await client.get(f"/api/twofactor/people/employee/{emp_id}/status")
    assert status.status_code == 200
    body = status.json()
    assert body["has_phone"] is False and body["masked_phone"] is None
    assert body["fix_hint_en"] == "Settings > Employees"
    assert body["fix_hint_sv"] == "Inställningar > Användare"
    assert "Settings > Employees" in body["message_en"] and "Inställningar > Användare" in body["message_sv"]

    # The administrator adds the number where the hint says; the flow then works.
    r = await client.patch(f"/api/employees/{emp_id}", json={"mobile_phone": "070-123 45 67"})
    assert r.status_code == 200
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"] == MOBILE_MASKED


@pytest.mark.parametrize(
    "kind, hint_en",
    [("customer", "Customers > the customer card"), ("contact", "Customers > the customer card > contact person")],
)
async def test_customer_and_contact_without_phone(admin_client, tenant, fake_people, kind, hint_en):
    fake_people.people[(tenant.id, kind, 7)] = PersonContact(
        name="Cia Kund", fix_hint_sv="Kunder > kundkortet", fix_hint_en=hint_en
    )
    await activate_sms(admin_client)
    await switch(admin_client, "test_signing")
    r = await admin_client.post(
        "/api/twofactor/sign", json={"context": "test_signing", "person_kind": kind, "person_id": 7, "reason": "Test"}
    )
    assert r.status_code == 409
    assert "phone number is missing" in r.json()["detail"]
    status = (await admin_client.get(f"/api/twofactor/people/{kind}/7/status")).json()
    assert status["has_phone"] is False and status["fix_hint_en"] == hint_en
    assert hint_en in status["message_en"]
    assert status["name"] == "Cia Kund"

    fake_people.people[(tenant.id, kind, 7)] = PersonContact(name="Cia Kund", work_phone=WORK)
    r = await admin_client.post(
        "/api/twofactor/sign", json={"context": "test_signing", "person_kind": kind, "person_id": 7, "reason": "Test"}
    )
    assert r.status_code == 202 and r.json()["masked_phone"] == WORK_MASKED


async def test_status_of_unknown_or_other_tenants_person_is_404(admin_client, other_tenant):
    assert (await admin_client.get(f"/api/twofactor/people/employee/{other_tenant.admin_id}/status")).status_code == 404
    assert (await admin_client.get("/api/twofactor/people/employee/999999/status")).status_code == 404
    # No plugin owns customers here: not found, not a crash.
    assert (await admin_client.get("/api/twofactor/people/customer/1/status")).status_code == 404
    r = await admin_client.get("/api/twofactor/people/robot/1/status")
    assert r.status_code == 400 and r.json()["field"] == "kind"
    unlock = f"/api/twofactor/people/employee/{other_tenant.admin_id}/unlock"
    assert (await admin_client.post(unlock)).status_code == 404


async def test_status_needs_an_administrator(client, anon_client, tenant):
    assert (await anon_client.get(f"/api/twofactor/people/employee/{tenant.admin_id}/status")).status_code == 401
    _, email = await add_employee(tenant, "Plain Status")
    await login(client, tenant, email=email, api=True)
    assert (await client.get(f"/api/twofactor/people/employee/{tenant.admin_id}/status")).status_code == 403
