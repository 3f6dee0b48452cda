"""Settings pages through the test client: modules, GDPR anonymization with preview."""

from __future__ import annotations

from core.db import utcnow
from plugins.customers.tables import Customer
from tests.pages.helpers import page_login, post_form


async def test_settings_are_for_administrators_only(anon_client, tenant):
    from core.users import create_employee_with_password
    from tests.support import TEST_PASSWORD

    email = f"user@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Vanlig", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    for path in ("/settings", "/settings/modules", "/settings/gdpr/anonymization", "/settings/gdpr/search"):
        assert (await anon_client.get(path)).status_code == 403, path


async def test_modules_on_and_off(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await anon_client.get("/settings/modules")
    assert 'value="cases" checked' in r.text
    r = await post_form(anon_client, "/settings/modules", {"enabled": "customers"}, "/settings/modules")
    assert r.status_code == 303
    assert (await anon_client.get("/cases")).status_code == 404
    assert 'value="cases" checked' not in (await anon_client.get("/settings/modules")).text


async def test_anonymization_table_preview_then_save(anon_client, tenant):
    await page_login(anon_client, tenant)
    # Two deleted customers, one long ago: "after 30 days" would take one, "immediately" both.
    now = utcnow()
    from datetime import timedelta

    for name, ago in (("Gammal Kund", 90), ("Ny Kund", 1)):
        await Customer.insert(
            Customer(
                tenant_id=tenant.id, number=1000 + ago, kind="private", name=name, deleted_at=now - timedelta(days=ago)
            )
        )
    r = await anon_client.get("/settings/gdpr/anonymization")
    assert r.status_code == 200
    assert 'name="mode.customers"' in r.text and 'name="mode.cases"' in r.text  # the whole table
    r = await post_form(
        anon_client,
        "/settings/gdpr/anonymization",
        {"action": "preview", "mode.customers": "days", "days.customers": "30"},
        "/settings/gdpr/anonymization",
    )
    assert r.status_code == 200 and 'id="preview-note"' in r.text
    row = r.text.split('id="r-customers"')[1].split("</tr>")[0]
    assert row.rstrip().endswith("<td>1</td>")
    # Nothing was saved by the preview.
    r = await anon_client.get("/settings/gdpr/anonymization")
    assert '<option value="off" selected>' in r.text.split('name="mode.customers"')[1].split("</select>")[0]
    r = await post_form(
        anon_client,
        "/settings/gdpr/anonymization",
        {"action": "preview", "mode.customers": "days", "days.customers": "0"},
        "/settings/gdpr/anonymization",
    )
    assert r.status_code == 400 and 'id="e-days-customers"' in r.text
    r = await post_form(
        anon_client,
        "/settings/gdpr/anonymization",
        {"action": "save", "mode.customers": "days", "days.customers": "30"},
        "/settings/gdpr/anonymization",
    )
    assert r.status_code == 303
    r = await anon_client.get("/settings/gdpr/anonymization")
    assert '<option value="days" selected>' in r.text.split('name="mode.customers"')[1].split("</select>")[0]


async def test_search_for_data_groups_hits_with_links(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(
        anon_client,
        "/customers/new",
        {"name": "Sigrid Söderberg", "kind": "private", "email": "sigrid@example.se"},
        "/customers/new",
    )
    customer_path = r.headers["location"]
    r = await anon_client.get("/settings/gdpr/search?q=Söderberg")
    assert r.status_code == 200
    assert f'<a href="{customer_path}">Kund 1: Sigrid Söderberg</a></td><td data-label="Fält">Namn</td>' in r.text
    r = await anon_client.get("/settings/gdpr/search?q=sigrid@example.se")
    assert f'<a href="{customer_path}">Kund 1: Sigrid Söderberg</a></td><td data-label="Fält">E-post</td>' in r.text
    r = await anon_client.get("/settings/gdpr/search?q=Ingenting")
    assert 'id="search-total">Antal: 0<' in r.text


async def test_employee_phone_fixed_under_settings_and_groups(anon_client, tenant):
    import re

    await page_login(anon_client, tenant)
    r = await post_form(
        anon_client,
        "/settings/employees/new",
        {"name": "Olle Ny", "email": "bad", "role": "user"},
        "/settings/employees/new",
    )
    assert r.status_code == 400 and 'id="e-email"' in r.text
    r = await post_form(
        anon_client,
        "/settings/employees/new",
        {"name": "Olle Ny", "email": f"olle@{tenant.slug}.example", "role": "user"},
        "/settings/employees/new",
    )
    assert r.status_code == 303
    page = (await anon_client.get("/settings/employees")).text
    assert "Inget telefonnummer" in page
    edit = next(
        m
        for m in re.findall(r'href="(/settings/employees/\d+/edit)"', page)
        if m != f"/settings/employees/{tenant.admin_id}/edit"
    )
    r = await post_form(
        anon_client,
        edit,
        {"name": "Olle Ny", "email": f"olle@{tenant.slug}.example", "role": "user", "mobile_phone": "nej"},
        edit,
    )
    assert r.status_code == 400 and 'id="e-mobile_phone"' in r.text
    r = await post_form(
        anon_client,
        edit,
        {"name": "Olle Ny", "email": f"olle@{tenant.slug}.example", "role": "user", "mobile_phone": "070-111 22 33"},
        edit,
    )
    assert r.status_code == 303
    assert "070-111 22 33" in (await anon_client.get("/settings/employees")).text
    employee_id = edit.split("/")[3]
    r = await post_form(
        anon_client,
        "/settings/groups/new",
        {"name": "Tekniker", "permissions": "vault", "members": employee_id},
        "/settings/groups/new",
    )
    assert r.status_code == 303
    page = (await anon_client.get("/settings/employees")).text
    assert "Tekniker" in page and "vault" in page
    # The only administrator cannot make themself a user.
    own = f"/settings/employees/{tenant.admin_id}/edit"
    r = await post_form(anon_client, own, {"name": "Admin Person", "email": tenant.admin_email, "role": "user"}, own)
    assert r.status_code == 400 and "enda administratören" in r.text


async def test_two_factor_settings_page(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await anon_client.get("/twofactor/settings")
    assert r.status_code == 200 and 'id="sms-first"' in r.text
    for key in (
        "employee_login",
        "employee_reset",
        "portal_login",
        "portal_reset",
        "customer_conversations",
        "extra_costs",
        "payment_plans",
        "quotes",
        "gdpr_inventory",
    ):  # the nine of the brief
        assert f'value="{key}"' in r.text, key
    r = await post_form(
        anon_client,
        "/twofactor/settings/sms",
        {"sms_active": "on", "provider": "outbox", "sender": "för långt avsändarnamn", "daily_cap": "100"},
        "/twofactor/settings",
    )
    assert r.status_code == 400 and 'id="e-sender"' in r.text
    r = await post_form(
        anon_client,
        "/twofactor/settings/sms",
        {"sms_active": "on", "provider": "outbox", "sender": "Gallra", "daily_cap": "100"},
        "/twofactor/settings",
    )
    assert r.status_code == 303
    # The only administrator has no phone: refused, until they have recovery codes.
    r = await post_form(
        anon_client, "/twofactor/settings/contexts", {"enabled": "employee_login"}, "/twofactor/settings"
    )
    assert r.status_code == 409 and "Alla administratörer skulle bli utelåsta" in r.text
    r = await post_form(anon_client, "/twofactor/recovery/new", {}, "/twofactor/recovery")
    assert r.status_code == 200 and r.text.count("<li><code>") == 10
    r = await post_form(
        anon_client, "/twofactor/settings/contexts", {"enabled": "employee_login"}, "/twofactor/settings"
    )
    assert r.status_code == 303 and r.headers["location"] == "/twofactor/settings"
    r = await anon_client.get("/twofactor/settings")
    assert 'id="sms-first"' not in r.text and 'value="employee_login" checked' in r.text


async def test_subject_export_and_erasure_with_preview(anon_client, tenant):
    await page_login(anon_client, tenant)
    r = await post_form(
        anon_client,
        "/customers/new",
        {"name": "Erik Eriksson", "kind": "private", "email": "erik@example.se"},
        "/customers/new",
    )
    customer_path = r.headers["location"]
    r = await post_form(anon_client, "/settings/gdpr/subject", {"action": "preview"}, "/settings/gdpr/subject")
    assert r.status_code == 400 and 'id="e-emails"' in r.text
    r = await post_form(
        anon_client,
        "/settings/gdpr/subject",
        {"action": "preview", "phones": "inte ett nummer"},
        "/settings/gdpr/subject",
    )
    assert r.status_code == 400 and 'id="e-phones"' in r.text
    r = await post_form(
        anon_client,
        "/settings/gdpr/subject",
        {"action": "export", "emails": "erik@example.se"},
        "/settings/gdpr/subject",
    )
    assert r.status_code == 200 and 'id="export-result"' in r.text and "/api/gdpr/subjects/exports/" in r.text
    r = await post_form(
        anon_client,
        "/settings/gdpr/subject",
        {"action": "preview", "emails": "erik@example.se"},
        "/settings/gdpr/subject",
    )
    assert r.status_code == 200 and 'value="erase"' in r.text
    assert "Erik Eriksson" in (await anon_client.get(customer_path)).text  # a preview changes nothing
    r = await post_form(
        anon_client,
        "/settings/gdpr/subject",
        {"action": "erase", "emails": "erik@example.se"},
        "/settings/gdpr/subject",
    )
    assert r.status_code == 200 and "Inget finns kvar." in r.text
    assert "Erik Eriksson" not in (await anon_client.get(customer_path)).text
    r = await anon_client.get("/settings/gdpr/search?q=erik@example.se")
    assert 'id="search-total">Antal: 0<' in r.text


async def test_search_for_data_reads_as_records_not_columns(anon_client, tenant):
    """Issue #20.5: each hit is its record (type, number, title) with the field's label as the
    export shows it, a reference as the person's name, the status in the page's language,
    each module once, and a link that opens a page that exists."""
    import re

    from plugins.customers.tables import ContactPerson
    from tests.support import add_party

    await page_login(anon_client, tenant)
    customer, (contact,) = await add_party(tenant.id, name="Söderqvist Bygg AB", email="info@soderqvist.se")
    await ContactPerson.update({ContactPerson.name: "Karin Söderqvist", ContactPerson.email: "karin@soderqvist.se"}
                               ).where(ContactPerson.id == contact)
    refs = {"customer_id": str(customer), "contact_person_id": str(contact)}
    r = await post_form(anon_client, "/cases/new", {"title": "Läcka i källaren", "kind": "case", **refs}, "/cases/new")
    case_path = r.headers["location"]
    await post_form(anon_client, f"{case_path}/close", {}, case_path)
    await post_form(anon_client, "/workorders/new", {"title": "Byte av rör", **refs}, "/workorders/new")
    page = (await anon_client.get("/settings/gdpr/search?q=Söderqvist")).text
    results = page.split('id="search-total"')[1]
    # No database words: column names, states, area keys.
    for word in ("contact_person_id", "customer_id", ">active<", ">closed<", "Workcloud", "workcloud"):
        assert word not in results, word
    # Each module once, by its label.
    headings = re.findall(r'<h2 id="m-([a-z_]+)">', results)
    assert headings == sorted(set(headings), key=headings.index) and {"cases", "customers", "workorders"} <= set(
        headings)
    assert results.count("<h2") == len(headings)
    rows = [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr><td[ >].*?</tr>", results)]
    rows = [re.sub(r"\|+", "|", row).strip("|") for row in rows]
    assert "Ärende 1: Läcka i källaren|Kund|Söderqvist Bygg AB|Stängd" in rows
    assert "Ärende 1: Läcka i källaren|Kontaktperson|Karin Söderqvist|Stängd" in rows
    assert "Arbetsorder 1: Byte av rör|Kontaktperson|Karin Söderqvist|Aktiv" in rows
    assert any(row.startswith(f"Kontaktperson {contact}: Karin Söderqvist|") for row in rows)
    # Every link opens a page.
    links = set(re.findall(r'<td[^>]*><a href="([^"]+)">', results))
    assert case_path in links and f"/customers/{customer}" in links
    for link in links:
        assert (await anon_client.get(link)).status_code == 200, link
    # In English the same page speaks English.
    r = await post_form(anon_client, "/language", {"lang": "en", "next": "/settings"}, "/settings")
    results = (await anon_client.get("/settings/gdpr/search?q=Söderqvist")).text.split('id="search-total"')[1]
    assert "Case 1: Läcka i källaren" in results and ">Contact person<" in results and ">Closed<" in results
