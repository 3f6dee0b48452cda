"""Person search finds people by identifiers and never indexes or shows a secret (#17.1, #17.4).

The outbox is found by recipient, never by its body: a reset link's token and an SMS code
are in no search answer (API, page, CLI) and in no row of the index. Hashes are no search
source. The registry refuses a search source that is not an identifier, and the index forgets
columns that are no longer declared (an installation indexed them before).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from core.contracts import SearchSource
from core.db import raw
from core.gdpr import search as gs
from core.tables import Employee, Outbox
from core.testing.client import AppClient
from tests.search.test_search import make_customer, search, unique_word
from tests.support import login
from tests.twofactor_kit import MOBILE, activate_sms, add_employee, last_code, make_recovery_codes, switch

GDPR_PASSWORD = "gdpr-person-password-1"


@asynccontextmanager
async def gdpr_employee(
    app: Any, admin_client: AppClient, tenant: Any
) -> AsyncIterator[AppClient]:
    """A logged-in client of an employee whose only permission is "gdpr" (a group)."""
    email = f"{unique_word('gdpr').lower()}@example.se"
    r = await admin_client.post(
        "/api/employees/", json={"name": "Gun Gdpr", "email": email, "password": GDPR_PASSWORD}
    )
    assert r.status_code == 201, r.text
    emp = r.json()
    g = await admin_client.post(
        "/api/groups/", json={"name": unique_word("G"), "permissions": ["gdpr"]}
    )
    assert g.status_code == 201, g.text
    r = await admin_client.put(
        f"/api/groups/{g.json()['id']}/members", json={"employee_ids": [emp["id"]]}
    )
    assert r.status_code == 200, r.text
    async with AppClient(app=app) as client:
        r = await login(client, tenant, email=email, password=GDPR_PASSWORD)
        assert r.status_code == 200, r.text
        client.employee_id = emp["id"]  # type: ignore[attr-defined]
        yield client


def hits(result: dict) -> list[tuple[str, str, dict]]:
    return [(g["module"], g["record_type"], h) for g in result["groups"] for h in g["hits"]]


async def test_reset_links_and_sms_codes_are_never_found_nor_shown(
    app, admin_client, tenant, worker
):
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        # An SMS code: two-factor at login, an employee with a mobile phone logs in.
        await activate_sms(admin_client)
        # The administrator's recovery codes (else switching on locks them out): never found either.
        recovery = await make_recovery_codes(admin_client)
        hashes = [r["code_hash"] for r in await raw(
            "SELECT code_hash FROM twofactor_recovery WHERE tenant_id = {}", tenant.id
        )]
        assert len(hashes) == 10
        await switch(admin_client, "employee_login")
        _, ann_email = await add_employee(tenant, "Ann Target", mobile=MOBILE)
        async with AppClient(app=app) as anon:
            r = await login(anon, tenant, email=ann_email)
            assert r.status_code == 202, r.text
            code = await last_code(tenant.id)
            # A password reset of the administrator, asked for without logging in.
            r = await anon.post(
                "/api/auth/password-reset",
                json={"tenant": tenant.slug, "email": tenant.admin_email},
            )
            assert r.status_code == 202
        worker.drain()
        mail = (
            await Outbox.select()
            .where(
                (Outbox.tenant_id == tenant.id)
                & (Outbox.channel == "email")
                & (Outbox.recipient == tenant.admin_email)
            )
            .first()
        )
        assert mail is not None and "token=" in mail["body"]
        token = mail["body"].split("token=")[1].split()[0]
        assert len(token) >= 16
        sms = (
            await Outbox.select()
            .where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms"))
            .first()
        )
        assert code in sms["body"] and "engångskod" in sms["body"]

        secrets = (token, token[:12], code, *recovery, *hashes)
        for q in ("token", token[:12], token[:24], token, "engångskod", code, "reset", "lösenord",
                  recovery[0], recovery[1].replace("-", ""), hashes[0]):
            r = await gdpr.get("/api/gdpr/search", params={"q": q, "limit": 200})
            assert r.status_code == 200, r.text
            assert not [h for m, rt, h in hits(r.json()) if rt == "outbox"], q
            assert not any(s in r.text for s in secrets), q
            page = await gdpr.get("/settings/gdpr/search", params={"q": q})
            assert page.status_code == 200, page.text
            # The page shows what was typed in its search box; nothing more of a secret.
            assert not any(s in page.text for s in secrets if s not in q), q
        for q in (token[:12], token, code, "engångskod", recovery[0], hashes[0]):
            r = await gdpr.get("/api/gdpr/search", params={"q": q})
            assert r.json()["total"] == 0, q
        # Messages are found by their recipient, showing the recipient only.
        r = await gdpr.get("/api/gdpr/search", params={"q": tenant.admin_email, "limit": 200})
        outbox = [h for m, rt, h in hits(r.json()) if rt == "outbox"]
        assert [(h["record_id"], h["field"], h["value"]) for h in outbox] == [
            (mail["id"], "recipient", tenant.admin_email)
        ]
        assert token not in r.text
        page = await gdpr.get("/settings/gdpr/search", params={"q": tenant.admin_email})
        assert tenant.admin_email in page.text and token not in page.text
        r = await gdpr.get("/api/gdpr/search", params={"q": "070-123 45 67", "limit": 200})
        outbox = [h for m, rt, h in hits(r.json()) if rt == "outbox"]
        assert sms["id"] in {h["record_id"] for h in outbox}
        assert {h["value"] for h in outbox} == {MOBILE}
        assert code not in r.text and "engångskod" not in r.text
    # The index itself holds no word of a message body, and the CLI's report no value.
    n = await raw(
        "SELECT COUNT(*) AS n FROM gdpr_search_term "
        "WHERE tenant_id = {} AND term IN ({}, {}, {}, {})",
        tenant.id,
        "engångskod",
        code,
        gs.fold(token)[: gs.MAX_TERM],
        "token",
    )
    assert n[0]["n"] == 0
    from core.gdpr.search_cli import search as cli

    out = await asyncio.to_thread(
        CliRunner().invoke, cli, ["check", "--tenant", tenant.slug, "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["ok"] and token not in out.output and code not in out.output


async def test_password_hashes_are_no_search_source(app, admin_client, tenant):
    """Neither an employee's nor a portal account's password hash is searched or shown."""
    c = await make_customer(
        admin_client, name="Portal Person", kind="private", email="pp@example.se"
    )
    from plugins.portal.tables import PortalAccount

    hashed = (
        await Employee.select(Employee.password_hash).where(Employee.id == tenant.admin_id).first()
    )["password_hash"]
    assert hashed.startswith("$argon2id$")
    await PortalAccount.insert(
        PortalAccount(
            tenant_id=tenant.id,
            customer_id=c["id"],
            person_kind="customer",
            person_id=c["id"],
            email="pp@example.se",
            password_hash=hashed,
        )
    )
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        for q in ("argon2", "argon2id", "$argon2id$", hashed[:20], hashed):
            r = await gdpr.get("/api/gdpr/search", params={"q": q, "limit": 200})
            assert r.status_code == 200, r.text
            assert r.json()["total"] == 0, q
            assert "argon2" not in r.text
        # The account itself is found by its e-mail address, without the hash.
        r = await gdpr.get("/api/gdpr/search", params={"q": "pp@example.se", "limit": 200})
        assert any(
            h["field"] == "email" and h["link"] and "portal-accounts" in h["link"]
            for _, _, h in hits(r.json())
        )
        assert "argon2" not in r.text
    n = await raw(
        "SELECT COUNT(*) AS n FROM gdpr_search_term WHERE tenant_id = {} AND term LIKE {}",
        tenant.id,
        "argon2%",
    )
    assert n[0]["n"] == 0


@pytest.mark.parametrize(
    ("column", "category"),
    [("body", "free_text"), ("subject", "free_text"), ("recipient", "other")],
)
def test_the_registry_refuses_what_is_not_an_identifier(column: str, category: str) -> None:
    from core.gdpr.registry import DeclarationError, check_search_source

    with pytest.raises(DeclarationError, match=r"outbox\." + column):
        check_search_source(
            "someplugin", SearchSource(Outbox, column, category, "settings", "x", "x")
        )  # type: ignore[arg-type]


def test_the_registry_refuses_secret_columns_by_name() -> None:
    from core.gdpr.registry import DeclarationError, check_search_source
    from core.tables import PasswordResetToken

    for column in ("password_hash",):
        with pytest.raises(DeclarationError, match="secret"):
            check_search_source(
                "p", SearchSource(Employee, column, "free_text", "settings", "x", "x")
            )
    token_col = next(
        c._meta.name for c in PasswordResetToken._meta.columns if "token" in c._meta.name
    )
    with pytest.raises(DeclarationError, match="secret"):
        check_search_source(
            "p", SearchSource(PasswordResetToken, token_col, "free_text", "settings", "x", "x")
        )
    # Identifiers pass.
    check_search_source("p", SearchSource(Outbox, "recipient", "email", "settings", "x", "x"))
    check_search_source("p", SearchSource(Employee, "notes", "free_text", "settings", "x", "x"))


def test_every_declared_source_is_an_identifier() -> None:
    """What the installed plugins declare passes the registry (start-up would refuse it)."""
    from core.gdpr.registry import SEARCH_CATEGORIES, get_declarations, is_secret_column
    from core.plugins import get_host

    get_declarations(get_host())
    for s in gs.registry(get_host()).sources:
        col = s.source.table._meta.get_column_by_name(s.source.column)
        assert s.source.category in SEARCH_CATEGORIES and not is_secret_column(col), (s.tbl, s.col)
        assert (s.tbl, s.col) not in {
            ("outbox", "body"),
            ("outbox", "subject"),
            ("vault_entry", "secret_values"),
            ("portal_account", "password_hash"),
            ("employee", "password_hash"),
        }


async def test_the_index_forgets_columns_no_longer_declared(admin_client, tenant):
    """An installation indexed the outbox's body and the portal password hash before they were
    refused: the start-up's ensure_index drops their terms and fields (and the triggers stop
    watching them)."""
    from core.plugins import get_host

    word = unique_word()
    await make_customer(admin_client, name=f"Behåll {word}")
    fields: dict[tuple[str, str], int] = {}
    for tbl, col in (
        ("outbox", "body"),
        ("outbox", "subject"),
        ("portal_account", "password_hash"),
        ("vault_entry", "plain_values"),
    ):
        if not await raw("SELECT id FROM gdpr_search_field WHERE tbl = {} AND col = {}", tbl, col):
            await raw("INSERT INTO gdpr_search_field (tbl, col) VALUES ({}, {})", tbl, col)
        rows = await raw("SELECT id FROM gdpr_search_field WHERE tbl = {} AND col = {}", tbl, col)
        fields[(tbl, col)] = int(rows[0]["id"])
        await raw(
            "INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
            "VALUES ({}, 'w', {}, {}, 1)",
            tenant.id,
            f"hemlig{fields[(tbl, col)]}",
            fields[(tbl, col)],
        )
    await gs.ensure_index(get_host())
    ids = list(fields.values())
    marks = ", ".join("{}" for _ in ids)
    assert (
        await raw(f"SELECT COUNT(*) AS n FROM gdpr_search_term WHERE field_id IN ({marks})", *ids)
    )[0]["n"] == 0
    assert (await raw(f"SELECT COUNT(*) AS n FROM gdpr_search_field WHERE id IN ({marks})", *ids))[
        0
    ]["n"] == 0
    # What is still declared stays indexed and found.
    r = await admin_client.get("/api/gdpr/search", params={"q": word})
    assert r.json()["total"] == 1
    assert (await gs.check(tenant.id))["ok"]


def test_a_hit_shows_the_identifier_or_a_short_excerpt() -> None:
    long_text = ("Inledning " * 40) + "ringde Åsa Öberg om fakturan " + ("och mer text " * 40)
    shown = gs.shown_value("free_text", long_text, gs.parse_query("öberg"))
    assert "Öberg" in shown and len(shown) <= 140 and shown.startswith("…") and shown.endswith("…")
    mail = gs.shown_value(
        "free_text",
        long_text + " skriv till asa@example.se tack " + "slut " * 40,
        gs.parse_query("asa@example.se"),
    )
    assert "asa@example.se" in mail and len(mail) <= 140
    assert gs.shown_value("email", "Asa@Example.se", gs.parse_query("asa@")) == "Asa@Example.se"
    assert gs.shown_value("customer_ref", 12, gs.parse_query("x")) == "12"


async def test_vault_values_are_not_indexed_and_outsiders_see_no_value(app, admin_client, tenant):
    """#17.4: a GDPR employee on no access list of a vault form finds the customer's entry
    (form and entry, through the customer) but never a value; the values are not indexed."""
    word = unique_word("Valv")
    c = await make_customer(admin_client, name=f"Kund {word}")
    r = await admin_client.post(
        "/api/vault/forms",
        json={
            "name": "Inloggningar",
            "purpose": "customer",
            "fields": [{"name": "Användarnamn"}],
            "access": {"plain": {"users": [tenant.admin_id]}},
        },
    )
    assert r.status_code == 201, r.text
    form = r.json()
    plain = unique_word("Hemlis")
    r = await admin_client.post(
        "/api/vault/entries",
        json={
            "form_id": form["id"],
            "customer_id": c["id"],
            "values": [{"field_id": form["fields"][0]["id"], "value": f"{plain} root"}],
        },
    )
    assert r.status_code == 201, r.text
    entry = r.json()
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        for q in (plain, plain[:8], "root"):
            r = await gdpr.get("/api/gdpr/search", params={"q": q, "limit": 200})
            assert not [h for m, _, h in hits(r.json()) if m == "vault"], q
            assert plain not in r.text
        r = await gdpr.get("/api/gdpr/search", params={"q": word, "limit": 200})
        vault = [(rt, h) for m, rt, h in hits(r.json()) if m == "vault"]
        assert [(rt, h["record_id"], h["number"], h["value"]) for rt, h in vault] == [
            ("vault_entry", entry["id"], "Inloggningar", "")
        ]
        assert plain not in r.text
        page = await gdpr.get("/settings/gdpr/search", params={"q": word})
        assert "Inloggningar" in page.text and plain not in page.text
    # The administrator is on the form's plain list: the hit shows its value (the customer).
    r = await admin_client.get("/api/gdpr/search", params={"q": word, "limit": 200})
    vault = [h for m, _, h in hits(r.json()) if m == "vault"]
    assert [(h["record_id"], h["value"]) for h in vault] == [(entry["id"], str(c["id"]))]
    assert plain not in r.text
    n = await raw(
        "SELECT COUNT(*) AS n FROM gdpr_search_term WHERE tenant_id = {} AND term IN ({}, {})",
        tenant.id,
        plain.lower(),
        "root",
    )
    assert n[0]["n"] == 0
    # Nor does the customer's subject-access export, made by the GDPR employee: the entry
    # is named with its fields, its values stay in the vault (the entry's page shows them).
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        r = await gdpr.post("/api/gdpr/subjects/export", json={"customer_numbers": [c["number"]]})
        assert r.status_code == 201, r.text
        entries = [x for x in r.json()["document"]["records"] if x["table"] == "vault_entry"]
        assert [x["record_id"] for x in entries] == [entry["id"]], r.text
        assert plain not in r.text and "root" not in r.text


async def test_the_subject_export_shows_no_message_body(admin_client, tenant, worker):
    """The export of a person names their messages (found by recipient) but never shows a
    body or subject: a reset link's token would otherwise be one export away (#17.1)."""
    async with AppClient(app=admin_client.app) as anon:
        r = await anon.post(
            "/api/auth/password-reset", json={"tenant": tenant.slug, "email": tenant.admin_email}
        )
        assert r.status_code == 202
    worker.drain()
    mail = (
        await Outbox.select()
        .where((Outbox.tenant_id == tenant.id) & (Outbox.recipient == tenant.admin_email))
        .first()
    )
    token = mail["body"].split("token=")[1].split()[0]
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": [tenant.admin_email]})
    assert r.status_code in (200, 201), r.text
    records = r.json()["document"]["records"]
    assert mail["id"] in {x["record_id"] for x in records if x["table"] == "outbox"}
    assert token not in r.text
    page = await admin_client.get(r.json()["html_url"])
    assert page.status_code == 200 and token not in page.text


async def test_a_match_on_a_value_the_searcher_may_not_read_is_no_match(admin_client, tenant):
    """RecordType.can_open (read-only): a text place whose record the searcher may not open
    gives no match at all (the search cannot test guesses of its values); references still find it."""
    from core.db import snapshot
    from plugins.customers.tables import Customer

    word = unique_word()
    c = await make_customer(admin_client, name=f"Dold {word}")
    asked: list[tuple[int, int, bool, int]] = []
    seven, five = (SimpleNamespace(tenant_id=tenant.id, employee_id=e) for e in (7, 5))

    def only_employee_7(user: Any, record: dict[str, Any], write: bool) -> bool:
        asked.append((user.tenant_id, user.employee_id, write, int(record["id"])))
        return user.employee_id == 7

    src = SearchSource(Customer, "name", "name", "workcloud", "K", "K")
    reg = gs.Registry(sources=[gs.Source.of(src, "customers", 0, only_employee_7)])
    reg.tables["customer"] = {"name": "name"}
    reg.table_classes["customer"] = Customer
    fids = await gs.field_ids(gs.registry())
    by_id = {fid: key for key, fid in fids.items()}
    async with snapshot():
        matches = await gs.collect_matches(tenant.id, gs.parse_query(word), reg, fids, linked=False)
        assert {rid for rids in matches.values() for rid in rids} == {c["id"]}
        assert await gs._gate(tenant.id, five, matches, reg, by_id) == {}
        assert await gs._gate(tenant.id, None, matches, reg, by_id) == {}
        assert await gs._gate(tenant.id, seven, matches, reg, by_id) == matches
        assert await gs._gate(tenant.id, gs.EVERY_RECORD, matches, reg, by_id) == matches
    assert (tenant.id, 5, False, c["id"]) in asked


async def test_search_reads_a_hit_by_its_record_type_s_can_open(app, admin_client, tenant):
    """One access rule: person search asks the record type's ``can_open`` (read-only), the
    rule the record's own routes and activity use. A time report opens to its employee and
    administrators (plugins/time/records.py own_or_admin): a GDPR employee who is neither gets
    no match on its text, an administrator finds it with its value."""
    word = unique_word()
    r = await admin_client.post("/api/time/reports/", json={
        "employee_id": tenant.admin_id, "date": "2026-03-02", "hours": "7.5", "customer_id": 0,
        "work_reference": "AO-1", "comment": f"Montage {word}"})
    assert r.status_code == 201, r.text
    mine = [h for m, rt, h in hits(await search(admin_client, word)) if rt == "time_report"]
    assert [(h["record_id"], word.lower() in h["value"].lower()) for h in mine] == [
        (r.json()["id"], True)]
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        assert not [h for m, rt, h in hits(await search(gdpr, word)) if rt == "time_report"]
