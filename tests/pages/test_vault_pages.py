"""Secure-data pages through the test client: form builder, entries, reveal."""

from __future__ import annotations

import re

from core.users import create_employee_with_password
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.support import TEST_PASSWORD
from tests.twofactor_kit import MOBILE, activate_sms, last_code, set_phones, switch


async def _form_with_entry(client, tenant, two_factor=False):  # type: ignore[no-untyped-def]
    r = await client.get("/vault/forms/new")
    assert r.status_code == 200 and 'name="encrypted_users"' in r.text
    data = {
        "name": "Inloggningar", "purpose": "internal",
        "field_name.0": "Användarnamn", "field_type.0": "text",
        "field_name.1": "Lösenord", "field_type.1": "password", "field_encrypted.1": "on",
        "field_name.2": "", "auto_delete_days": "",
        "plain_users": str(tenant.admin_id), "encrypted_users": str(tenant.admin_id),
    }
    if two_factor:
        data["require_two_factor"] = "on"
    r = await post_form(client, "/vault/forms/new", data, "/vault/forms/new")
    assert r.status_code == 303, r.text
    form_id = int(r.headers["location"].split("form_id=")[1])
    path = f"/vault/entries/new?form_id={form_id}"
    page = (await client.get(path)).text
    ids = re.findall(r'name="value\.(\d+)"', page)
    r = await post_form(client, path, {f"value.{ids[0]}": "admin", f"value.{ids[1]}": "hemligt-123"}, path)
    assert r.status_code == 303
    page = (await client.get(f"/vault?form_id={form_id}")).text
    assert "admin" in page and "hemligt-123" not in page
    entry_id = int(re.search(r'href="/vault/entries/(\d+)/reveal"', page).group(1))
    return form_id, entry_id


async def test_builder_errors_beside_fields(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(
        anon_client, "/vault/forms/new",
        {"name": "", "purpose": "internal", "field_name.0": "", "auto_delete_days": "0"}, "/vault/forms/new",
    )
    assert r.status_code == 400
    assert 'id="e-name"' in r.text and 'id="e-fn-0"' in r.text and 'id="e-auto_delete_days"' in r.text


async def test_reveal_asks_for_the_password(anon_client, tenant):
    await page_login(anon_client, tenant)
    _form_id, entry_id = await _form_with_entry(anon_client, tenant)
    path = f"/vault/entries/{entry_id}/reveal"
    r = await anon_client.get(path)
    assert r.status_code == 200 and 'role="dialog"' in r.text
    r = await post_form(anon_client, path, {"password": "fel lösenord"}, path)
    assert r.status_code == 403 and 'id="e-password"' in r.text and "hemligt-123" not in r.text
    r = await post_form(anon_client, path, {"password": tenant.password}, path)
    assert r.status_code == 200 and "hemligt-123" in r.text
    assert r.headers["cache-control"] == "no-store"


async def test_reveal_with_sms_code(anon_client, admin_client, tenant):
    """#17.12: the SMS-code page never holds the password; a pending step kept server-side
    (hashed token, bound to a cookie of this browser, 10 minutes, few uses) carries on."""
    await activate_sms(admin_client)
    await switch(admin_client, "vault_decrypt")
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await page_login(anon_client, tenant)
    _form_id, entry_id = await _form_with_entry(anon_client, tenant, two_factor=True)
    path = f"/vault/entries/{entry_id}/reveal"
    r = await post_form(anon_client, path, {"password": tenant.password}, path)
    assert r.status_code == 200 and 'name="code"' in r.text and "hemligt-123" not in r.text
    assert tenant.password not in r.text and 'name="password"' not in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    pending = re.search(r'name="pending" value="([^"]+)"', r.text).group(1)
    binder = anon_client.cookies.get("gallra_vault_step")
    assert binder
    token = CSRF_RE.search(r.text).group(1)
    r = await anon_client.post(
        "/twofactor/code",
        data={"csrf_token": token, "challenge_id": challenge, "then": path, "pending": pending,
              "code": await last_code(tenant.id)},
        follow_redirects=False,
    )
    assert r.status_code == 307 and r.headers["location"] == path
    step = {"csrf_token": token, "challenge_id": challenge, "then": path, "pending": pending, "code": "x"}
    # Without the browser's cookie the step is not valid (and nothing is used up).
    anon_client.cookies.delete("gallra_vault_step")
    r = await anon_client.post(path, data=step, follow_redirects=False)
    assert r.status_code == 400 and "hemligt-123" not in r.text
    anon_client.cookies.set("gallra_vault_step", binder, path="/vault")
    # A made-up token is not valid either.
    r = await anon_client.post(path, data={**step, "pending": "x" * 40}, follow_redirects=False)
    assert r.status_code == 400 and "hemligt-123" not in r.text
    r = await anon_client.post(path, data=step, follow_redirects=False)
    assert r.status_code == 200 and "hemligt-123" in r.text
    # Used once: the same step cannot show the data again.
    r = await anon_client.post(path, data=step, follow_redirects=False)
    assert r.status_code == 400 and "hemligt-123" not in r.text


async def test_reveal_code_of_one_entry_does_not_open_another(anon_client, admin_client, tenant):
    """#17.11: the decryption code is bound to the entry it was sent for."""
    await activate_sms(admin_client)
    await switch(admin_client, "vault_decrypt")
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await page_login(anon_client, tenant)
    form_id, entry_a = await _form_with_entry(anon_client, tenant, two_factor=True)
    path = f"/vault/entries/new?form_id={form_id}"
    page = (await anon_client.get(path)).text
    ids = re.findall(r'name="value\.(\d+)"', page)
    r = await post_form(anon_client, path, {f"value.{ids[0]}": "b", f"value.{ids[1]}": "annat-456"}, path)
    entry_b = int(r.headers["location"].split("#entry-")[1])
    api = "/api/vault/entries/{}/reveal"
    first = await anon_client.post(api.format(entry_a), json={"password": tenant.password})
    assert first.status_code == 202, first.text
    challenge = first.json()["second_factor"]["challenge_id"]
    r = await anon_client.post(f"/api/twofactor/challenges/{challenge}/verify",
                               json={"code": await last_code(tenant.id), "tenant": tenant.slug})
    assert r.status_code == 200, r.text
    stolen = await anon_client.post(api.format(entry_b), json={"password": tenant.password, "challenge_id": challenge})
    assert stolen.status_code == 409 and "annat-456" not in stolen.text
    own = await anon_client.post(api.format(entry_a), json={"password": tenant.password, "challenge_id": challenge})
    assert own.status_code == 200 and "hemligt-123" in own.text


async def test_user_not_on_the_lists_sees_nothing(anon_client, tenant):
    await page_login(anon_client, tenant)
    _form_id, entry_id = await _form_with_entry(anon_client, tenant)
    email = f"other@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Annan", email, "user", TEST_PASSWORD)
    anon_client.cookies.clear()
    await page_login(anon_client, tenant, email=email)
    r = await anon_client.get("/vault")
    assert r.status_code == 200 and "Inloggningar" not in r.text
    assert (await anon_client.get(f"/vault/entries/{entry_id}/reveal")).status_code == 404
    assert (await anon_client.get("/vault/forms/new")).status_code == 403


async def test_form_list_says_when_its_sms_code_cannot_be_asked(anon_client, admin_client, tenant):
    """A form requiring two-factor while SMS or the decryption step is off says so in the
    list (and its entries are refused, not shown with the password alone)."""
    await page_login(anon_client, tenant)
    _form_id, entry_id = await _form_with_entry(anon_client, tenant, two_factor=True)
    page = (await anon_client.get("/vault")).text
    assert "ingen kod kan skickas" in page
    path = f"/vault/entries/{entry_id}/reveal"
    r = await post_form(anon_client, path, {"password": tenant.password}, path)
    assert r.status_code == 409 and "hemligt-123" not in r.text
    assert "Säkra uppgifter – dekryptering" in r.text  # translated, says what to switch on
    await activate_sms(admin_client)
    await switch(admin_client, "vault_decrypt")
    assert "ingen kod kan skickas" not in (await anon_client.get("/vault")).text


async def test_customer_entry_picks_the_customer_by_name(anon_client, tenant, other_tenant):
    """Issue #20.4: a form kept for customers asks for the customer from a list of names,
    refuses another organization's customer or none, and the list names the customer."""
    from tests.support import add_party

    mine, _ = await add_party(tenant.id, contacts=0, name="Valvkund AB")
    foreign, _ = await add_party(other_tenant.id, contacts=0, name="Främmande AB")
    await page_login(anon_client, tenant)
    data = {
        "name": "Kundinloggningar", "purpose": "customer",
        "field_name.0": "Användarnamn", "field_type.0": "text", "field_name.1": "", "auto_delete_days": "",
        "plain_users": str(tenant.admin_id), "encrypted_users": str(tenant.admin_id),
    }
    r = await post_form(anon_client, "/vault/forms/new", data, "/vault/forms/new")
    assert r.status_code == 303, r.text
    path = f"/vault/entries/new?form_id={int(r.headers['location'].split('form_id=')[1])}"
    page = (await anon_client.get(path)).text
    assert f'<option value="{mine}">Valvkund AB (1)</option>' in page and "Främmande" not in page
    assert 'type="number"' not in page and "Kundens id" not in page
    (field_id,) = re.findall(r'name="value\.(\d+)"', page)
    for customer, message in (("", "Välj kund."), (str(foreign), "Det finns ingen sådan kund i organisationen."),
                              ("999", "Det finns ingen sådan kund i organisationen.")):
        r = await post_form(anon_client, path, {"customer_id": customer, f"value.{field_id}": "kalle"}, path)
        assert r.status_code == 400 and f'<p class="error" id="e-customer_id">{message}</p>' in r.text, customer
    r = await post_form(anon_client, path, {"customer_id": str(mine), f"value.{field_id}": "kalle"}, path)
    assert r.status_code == 303
    page = (await anon_client.get("/vault")).text
    assert f'<a href="/customers/{mine}">Valvkund AB</a>' in page
