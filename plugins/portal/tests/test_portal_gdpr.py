"""Portal accounts are personal data of the customer register (M14, M15).

Anonymizing a customer closes its own account and its contact persons' accounts;
anonymizing a contact person closes only theirs. The declared columns are emptied by the
engine through the parent links, the anonymize hook ends sessions and link tokens.
"""

from __future__ import annotations

from datetime import timedelta

from core.db import raw, utcnow
from core.gdpr.engine import sweep
from core.tables import PasswordResetToken
from plugins.portal.tables import PortalAccount
from plugins.portal.tests.test_portal import (
    active_customer,
    invite,
    portal_account,
    portal_login,
    portal_sessions,
)
from tests.modules import set_rule
from tests.support import make_contact, make_customer


async def account_of(tenant_id: int, kind: str, person_id: int) -> dict:
    return (
        await PortalAccount.select()
        .where(
            (PortalAccount.tenant_id == tenant_id)
            & (PortalAccount.person_kind == kind)
            & (PortalAccount.person_id == person_id)
        )
        .first()
    )


async def leftovers(account_id: int) -> tuple[int, int]:
    """The account's portal sessions and links, within its tenant (see portal_sessions)."""
    row = await PortalAccount.select(PortalAccount.tenant_id).where(PortalAccount.id == account_id).first()
    assert row is not None
    tenant_id = row["tenant_id"]
    return (
        await portal_sessions(tenant_id, account_id),
        await PasswordResetToken.count().where(
            (PasswordResetToken.tenant_id == tenant_id)
            & (PasswordResetToken.kind == "portal")
            & (PasswordResetToken.subject_id == account_id)
        ),
    )


def assert_closed(row: dict) -> None:
    assert row["email"] is None and row["password_hash"] is None
    assert row["disabled_at"] is not None and row["anonymized_at"] is not None


async def test_declarations_follow_the_person():
    from core.gdpr.registry import get_declarations
    from core.plugins import get_host

    decl = get_declarations()  # raises if the engine cannot run a declaration
    mine = {
        (f.field.column, f.field.rule, f.field.parent_column, f.field.strategy)
        for f in decl.fields
        if f.owner == "portal" and f.table is PortalAccount
    }
    assert mine == {
        ("email", "customers", "customer_id", "null"),
        ("email", "contact_persons", "contact_id", "null"),
        ("password_hash", "customers", "customer_id", "null"),
        ("password_hash", "contact_persons", "contact_id", "null"),
    }
    sources = [
        s for s in get_host().collect_by_plugin("declare_search_sources")["portal"] if s.table is PortalAccount
    ]
    # Found by its login e-mail; the hash is never a search source (#17.4).
    assert {s.column for s in sources} == {"email"}
    assert sources[0].link(7) == "/api/customers/portal-accounts/7"


async def test_anonymized_customer_closes_its_and_its_contacts_accounts(admin_client, app, browser, tenant):
    await set_rule(admin_client, "customers", "customers", "immediately")
    per = await active_customer(admin_client, tenant)
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    other = await active_customer(admin_client, tenant, email="eva@example.org", name="Eva")
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    from plugins.portal.services import start_reset

    assert await start_reset(tenant.slug, "per@example.org")
    per_account = await account_of(tenant.id, "customer", per["id"])
    assert await leftovers(per_account["id"]) == (1, 1)

    assert (await admin_client.delete(f"/api/customers/{per['id']}")).status_code == 200
    row = await account_of(tenant.id, "customer", per["id"])
    assert_closed(row)
    assert await leftovers(row["id"]) == (0, 0)
    assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 401
    status = (await admin_client.get(f"/api/customers/{per['id']}/portal-account")).json()
    assert status["has_account"] is False and status["account"]["status"] == "anonymized"

    # A company's anonymization reaches its contact persons' accounts.
    assert (await admin_client.delete(f"/api/customers/{company['id']}")).status_code == 200
    assert_closed(await account_of(tenant.id, "contact", karin["id"]))
    assert (await portal_login(browser, tenant, "karin@example.org")).status_code == 401
    # Nobody else's account is touched.
    kept = await account_of(tenant.id, "customer", other["id"])
    assert kept["email"] == "eva@example.org" and kept["anonymized_at"] is None
    assert (await portal_login(browser, tenant, "eva@example.org")).status_code == 200


async def test_anonymized_contact_person_closes_only_their_account(admin_client, browser, tenant):
    await set_rule(admin_client, "customers", "contact_persons", "immediately")
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    lars = await make_contact(admin_client, company["id"], name="Lars", email="lars@example.org")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    await portal_account(admin_client, tenant, f"contacts/{lars['id']}", "lars@example.org")
    # A private customer whose account row carries the same number as Karin's contact id
    # in person_id must not be touched: the contact rule follows contact_id only.
    per = await active_customer(admin_client, tenant)
    await PortalAccount.update({PortalAccount.person_id: karin["id"]}).where(
        (PortalAccount.tenant_id == tenant.id)
        & (PortalAccount.person_kind == "customer")
        & (PortalAccount.person_id == per["id"])
    )
    assert (await portal_login(browser, tenant, "karin@example.org")).status_code == 200

    assert (await admin_client.delete(f"/api/customers/contacts/{karin['id']}")).status_code == 200
    karin_row = await account_of(tenant.id, "contact", karin["id"])
    assert_closed(karin_row)
    assert await leftovers(karin_row["id"]) == (0, 0)
    assert (await browser.get("/api/portal/me")).status_code == 401
    lars_row = await account_of(tenant.id, "contact", lars["id"])
    assert lars_row["email"] == "lars@example.org" and lars_row["anonymized_at"] is None
    same_number = await account_of(tenant.id, "customer", karin["id"])
    assert same_number["email"] == "per@example.org" and same_number["anonymized_at"] is None


async def test_scheduled_sweep_closes_accounts_of_customers_deleted_long_ago(admin_client, tenant):
    await set_rule(admin_client, "customers", "customers", "days", 30)
    per = await active_customer(admin_client, tenant)
    fresh = await active_customer(admin_client, tenant, email="eva@example.org", name="Eva")
    for customer, age in ((per, 31), (fresh, 29)):
        assert (await admin_client.delete(f"/api/customers/{customer['id']}")).status_code == 200
        await raw("UPDATE customer SET deleted_at = {} WHERE id = {}", utcnow() - timedelta(days=age), customer["id"])
    results = {r.rule: r for r in await sweep(tenant.id, "customers")}
    assert results["customers"].records == 1
    assert_closed(await account_of(tenant.id, "customer", per["id"]))
    kept = await account_of(tenant.id, "customer", fresh["id"])
    assert kept["email"] == "eva@example.org" and kept["password_hash"] is not None


async def test_pending_invitation_goes_with_the_person(admin_client, tenant):
    await set_rule(admin_client, "customers", "customers", "immediately")
    per = await make_customer(admin_client, name="Per Privat", kind="private", email="per@example.org")
    assert (await invite(admin_client, str(per["id"]))).status_code == 201
    row = await account_of(tenant.id, "customer", per["id"])
    assert await leftovers(row["id"]) == (0, 1)
    assert (await admin_client.delete(f"/api/customers/{per['id']}")).status_code == 200
    assert await leftovers(row["id"]) == (0, 0)
    assert_closed(await account_of(tenant.id, "customer", per["id"]))
