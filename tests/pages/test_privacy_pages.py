"""The GDPR module's page: the inventory and signing it with an SMS code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.eventlog import EventLog
from core.users import create_employee_with_password
from plugins.privacy.tables import Incident, PrivacyContact, ProcessingActivity
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.support import TEST_PASSWORD
from tests.twofactor_kit import MOBILE, activate_sms, last_code, set_phones, switch


async def test_inventory_signed_with_sms(anon_client, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "gdpr_inventory")
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await page_login(anon_client, tenant)
    r = await anon_client.get("/privacy")
    assert r.status_code == 200 and "Kunder" in r.text and "Inte signerad ännu." in r.text
    r = await post_form(anon_client, "/privacy/sign", {"note": "Årlig genomgång"}, "/privacy")
    assert r.status_code == 409 and 'id="e-note"' in r.text  # nothing to sign yet: said beside the form
    from plugins.privacy.tests.conftest import COMPLETE

    assert (await admin_client.post("/api/privacy/activities", json=COMPLETE)).status_code == 201
    r = await post_form(anon_client, "/privacy/sign", {"note": "Årlig genomgång"}, "/privacy")
    assert r.status_code == 200 and 'name="code"' in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    token = CSRF_RE.search(r.text).group(1)
    form = {"csrf_token": token, "challenge_id": challenge, "then": "/privacy/sign", "note": "Årlig genomgång"}
    r = await anon_client.post(
        "/twofactor/code", data={**form, "code": await last_code(tenant.id)}, follow_redirects=False
    )
    assert r.status_code == 307
    r = await anon_client.post("/privacy/sign", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = (await anon_client.get("/privacy")).text
    assert "Årlig genomgång" in page and "SMS till +46 70" in page
    # The service logs the signing, so the page's signing is in the event log as the API's is.
    from core.eventlog import EventLog as Log

    signed = await Log.select(Log.employee_id, Log.record_type).where(
        (Log.tenant_id == tenant.id) & (Log.action == "privacy.inventory_signed")
    )
    assert signed == [{"employee_id": tenant.admin_id, "record_type": "inventory_version"}]


async def test_inventory_is_for_the_gdpr_permission(anon_client, tenant):
    from core.users import create_employee_with_password
    from tests.support import TEST_PASSWORD

    email = f"u@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "U", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    assert (await anon_client.get("/privacy")).status_code == 403


# --- processing activities, incidents (article 33) and GDPR contact persons ---------------


def _local(delta: timedelta) -> str:
    from zoneinfo import ZoneInfo

    return (datetime.now(UTC) + delta).astimezone(ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%dT%H:%M")


async def test_processing_activities_pages(anon_client, tenant, other_tenant):
    await page_login(anon_client, tenant)
    r = await anon_client.get("/privacy/activities")
    assert r.status_code == 200 and "Behandlingar" in r.text
    r = await post_form(anon_client, "/privacy/activities/new", {"name": "  ", "modules": "customers"},
                        "/privacy/activities/new")
    assert r.status_code == 400 and 'id="e-name"' in r.text
    r = await post_form(anon_client, "/privacy/activities/new", {"name": "Kundregister", "modules": "nosuchmodule"},
                        "/privacy/activities/new")
    assert r.status_code == 400 and 'id="e-modules"' in r.text
    assert await ProcessingActivity.count().where(ProcessingActivity.tenant_id == tenant.id) == 0
    r = await anon_client.post("/privacy/activities/new", data={"name": "Utan token"}, follow_redirects=False)
    assert r.status_code == 403
    r = await post_form(anon_client, "/privacy/activities/new",
                        {"name": "Kundregister", "purpose": "Leverera tjänster", "legal_basis": "contract",
                         "data_subjects": "Kunder\nKontaktpersoner\n", "personal_data": "Namn\nTelefon",
                         "retention": "3 år", "modules": "customers"}, "/privacy/activities/new")
    assert r.status_code == 303
    row = await ProcessingActivity.select().where(ProcessingActivity.tenant_id == tenant.id).first()
    assert row["name"] == "Kundregister" and row["legal_basis"] == "contract"
    assert '"Kontaktpersoner"' in row["data_subjects"] and '"customers"' in row["modules"]
    created = (EventLog.tenant_id == tenant.id) & (EventLog.action == "activity.created")
    assert await EventLog.count().where(created) == 1
    r = await anon_client.get(f"/privacy/activities/{row['id']}/edit")
    assert r.status_code == 200 and "Kunder\nKontaktpersoner" in r.text and 'value="customers" checked' in r.text
    r = await post_form(anon_client, f"/privacy/activities/{row['id']}/edit",
                        {"name": "Kundregistret", "legal_basis": "nonsense"}, "/privacy/activities")
    assert r.status_code == 400 and 'id="e-legal_basis"' in r.text
    r = await post_form(anon_client, f"/privacy/activities/{row['id']}/edit",
                        {"name": "Kundregistret", "legal_basis": "contract", "modules": "customers",
                         "data_subjects": "Kunder"}, "/privacy/activities")
    assert r.status_code == 303
    row = await ProcessingActivity.select().where(ProcessingActivity.id == row["id"]).first()
    assert row["name"] == "Kundregistret" and row["data_subjects"] == '["Kunder"]'
    # The list names each activity as a link to its own page.
    link = f'href="/privacy/activities/{row["id"]}">Kundregistret</a>'
    assert link in (await anon_client.get("/privacy/activities")).text
    # Its page shows what was saved (the facts, not dashes), in Swedish.
    page = (await anon_client.get(f"/privacy/activities/{row['id']}")).text
    assert "Kundregistret" in page and "<dd>Kunder</dd>" in page and "<dd>Avtal" in page
    # Prefill adds one per module in use (customers is covered already).
    r = await post_form(anon_client, "/privacy/activities/prefill", {}, "/privacy/activities")
    assert r.status_code == 303
    assert await ProcessingActivity.count().where(ProcessingActivity.tenant_id == tenant.id) > 1
    # Another organization: 404 and nothing changed.
    anon_client.cookies.clear()
    await page_login(anon_client, other_tenant)
    assert (await anon_client.get(f"/privacy/activities/{row['id']}/edit")).status_code == 404
    r = await post_form(anon_client, f"/privacy/activities/{row['id']}/delete", {}, "/privacy/activities")
    assert r.status_code == 404
    assert (await ProcessingActivity.select().where(ProcessingActivity.id == row["id"]).first())["deleted_at"] is None
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, f"/privacy/activities/{row['id']}/delete", {}, "/privacy/activities")
    assert r.status_code == 303
    assert "Kundregistret" not in (await anon_client.get("/privacy/activities")).text


async def test_privacy_pages_need_the_gdpr_permission(anon_client, tenant):
    email = f"vanlig@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Vanlig Anställd", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    for path in ("/privacy/activities", "/privacy/incidents", "/privacy/contacts", "/privacy/incidents/new"):
        assert (await anon_client.get(path)).status_code == 403, path
    r = await post_form(anon_client, "/privacy/contacts/new", {"name": "X", "role": "dpo"}, "/time")
    assert r.status_code == 403
    assert await PrivacyContact.count().where(PrivacyContact.tenant_id == tenant.id) == 0


async def test_incident_deadline_notify_and_close(anon_client, tenant, other_tenant):
    await page_login(anon_client, tenant)
    r = await anon_client.get("/privacy/incidents/new")
    assert r.status_code == 200 and 'type="datetime-local"' in r.text
    # Errors beside their fields; nothing saved.
    r = await post_form(anon_client, "/privacy/incidents/new", {"title": "Borttappad dator", "discovered_at": "igår"},
                        "/privacy/incidents/new")
    assert r.status_code == 400 and 'id="e-discovered_at"' in r.text
    r = await post_form(anon_client, "/privacy/incidents/new",
                        {"title": "Borttappad dator", "discovered_at": _local(timedelta(days=2))},
                        "/privacy/incidents/new")
    assert r.status_code == 400 and 'id="e-discovered_at"' in r.text and "framtiden" in r.text
    r = await post_form(anon_client, "/privacy/incidents/new",
                        {"title": "Borttappad dator", "discovered_at": _local(timedelta(hours=-2)),
                         "occurred_at": _local(timedelta(hours=-1))}, "/privacy/incidents/new")
    assert r.status_code == 400 and 'id="e-occurred_at"' in r.text
    r = await post_form(anon_client, "/privacy/incidents/new",
                        {"title": "", "discovered_at": _local(timedelta(hours=-2))}, "/privacy/incidents/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await anon_client.post("/privacy/incidents/new",
                               data={"title": "x", "discovered_at": _local(timedelta(hours=-2))},
                               follow_redirects=False)
    assert r.status_code == 403
    assert await Incident.count().where(Incident.tenant_id == tenant.id) == 0
    # Discovered 10 hours ago: about 62 hours are left.
    r = await post_form(anon_client, "/privacy/incidents/new",
                        {"title": "Borttappad dator", "discovered_at": _local(timedelta(hours=-10)),
                         "subjects_count": "40"}, "/privacy/incidents/new")
    assert r.status_code == 303
    path = r.headers["location"]
    page = (await anon_client.get(path)).text
    assert "Pågår" in page and re.search(r'id="time-left">Tid kvar: 6[12] h \d+ min', page)
    # Closing needs a decision first: said on the page, nothing closed.
    r = await post_form(anon_client, f"{path}/close", {}, path)
    assert r.status_code == 409 and 'role="alert"' in r.text
    # An old one, not reported: overdue.
    r = await post_form(anon_client, "/privacy/incidents/new",
                        {"title": "Fel mottagare", "discovered_at": _local(timedelta(hours=-80))},
                        "/privacy/incidents/new")
    late = r.headers["location"]
    page = (await anon_client.get(late)).text
    assert "Försenad" in page and re.search(r'id="time-left">Passerade för [78] h', page)
    listing = (await anon_client.get("/privacy/incidents")).text
    assert "Försenad" in listing and "Borttappad dator" in listing
    # Recording the report: a bad time beside its field; then reported in time.
    r = await post_form(anon_client, f"{path}/notify-authority", {"notified_at": "snart"}, path)
    assert r.status_code == 400 and 'id="e-authority-at"' in r.text
    r = await post_form(anon_client, f"{path}/notify-authority", {"notified_at": "", "reference": "IMY-2026-1"}, path)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert "Anmäld i tid" in page and "IMY-2026-1" in page and 'action="' + path + '/notify-authority"' not in page
    r = await post_form(anon_client, f"{path}/close", {}, path)
    assert r.status_code == 303
    assert (await Incident.select().where(Incident.id == int(path.rsplit("/", 1)[1])).first())["status"] == "closed"
    # Live filter: htmx gets only the results.
    r = await anon_client.get("/privacy/incidents?status=closed", headers={"HX-Request": "true"})
    assert "<html" not in r.text and "Borttappad dator" in r.text and "Fel mottagare" not in r.text
    # Edit with an invalid count: beside the field.
    r = await post_form(anon_client, f"{late}/edit",
                        {"title": "Fel mottagare", "discovered_at": _local(timedelta(hours=-80)),
                         "subjects_count": "många"}, late)
    assert r.status_code == 400 and 'id="e-subjects_count"' in r.text
    r = await post_form(anon_client, f"{late}/edit", {"title": "Fel mottagare av lönelista",
                                                     "discovered_at": _local(timedelta(hours=-80)),
                                                     "authority_decision": "no", "authority_reason": "Låg risk"}, late)
    assert r.status_code == 303
    assert "Ingen anmälan behövs" in (await anon_client.get(late)).text
    # Another organization: 404 for every step, nothing changed.
    anon_client.cookies.clear()
    await page_login(anon_client, other_tenant)
    assert (await anon_client.get(late)).status_code == 404
    for step in ("close", "delete", "notify-subjects"):
        r = await post_form(anon_client, f"{late}/{step}", {}, "/privacy/incidents")
        assert r.status_code == 404, step
    assert (await Incident.select().where(Incident.id == int(late.rsplit("/", 1)[1])).first())["deleted_at"] is None
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, f"{late}/delete", {}, late)
    assert r.status_code == 303
    assert "Fel mottagare" not in (await anon_client.get("/privacy/incidents")).text


async def test_gdpr_contact_persons_pages(anon_client, tenant, other_tenant):
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, "/privacy/contacts/new",
                        {"name": "Dora Dpo", "role": "dpo", "email": "inte en adress"}, "/privacy/contacts/new")
    assert r.status_code == 400 and 'id="e-email"' in r.text and "Dora Dpo" in r.text
    r = await post_form(anon_client, "/privacy/contacts/new", {"name": "Dora Dpo", "role": "boss"},
                        "/privacy/contacts/new")
    assert r.status_code == 400 and 'id="e-role"' in r.text
    r = await post_form(anon_client, "/privacy/contacts/new",
                        {"name": "Dora", "role": "dpo", "employee_id": str(other_tenant.admin_id)},
                        "/privacy/contacts/new")
    assert r.status_code == 400 and 'id="e-employee_id"' in r.text
    r = await anon_client.post("/privacy/contacts/new", data={"name": "Dora", "role": "dpo"}, follow_redirects=False)
    assert r.status_code == 403
    assert await PrivacyContact.count().where(PrivacyContact.tenant_id == tenant.id) == 0
    r = await post_form(anon_client, "/privacy/contacts/new",
                        {"name": "Dora Dpo", "role": "dpo", "email": "dora@example.se", "phone": "070-123 45 67",
                         "employee_id": str(tenant.admin_id)}, "/privacy/contacts/new")
    assert r.status_code == 303
    row = await PrivacyContact.select().where(PrivacyContact.tenant_id == tenant.id).first()
    assert row["phone"] == "+46701234567" and row["employee_id"] == tenant.admin_id
    page = (await anon_client.get("/privacy/contacts")).text
    assert "Dora Dpo" in page and "Dataskyddsombud" in page
    assert f'href="/privacy/contacts/{row["id"]}">Dora Dpo</a>' in page  # to the contact's own page
    r = await anon_client.get(f"/privacy/contacts/{row['id']}/edit")
    assert r.status_code == 200 and 'value="dora@example.se"' in r.text
    r = await post_form(anon_client, f"/privacy/contacts/{row['id']}/edit", {"name": "", "role": "dpo"},
                        "/privacy/contacts")
    assert r.status_code == 400 and 'id="e-name"' in r.text
    r = await post_form(anon_client, f"/privacy/contacts/{row['id']}/edit",
                        {"name": "Dora Dataskydd", "role": "contact", "email": "", "phone": "", "employee_id": "0"},
                        "/privacy/contacts")
    assert r.status_code == 303
    row = await PrivacyContact.select().where(PrivacyContact.id == row["id"]).first()
    assert row["name"] == "Dora Dataskydd" and row["role"] == "contact" and row["employee_id"] == 0
    anon_client.cookies.clear()
    await page_login(anon_client, other_tenant)
    assert (await anon_client.get(f"/privacy/contacts/{row['id']}/edit")).status_code == 404
    r = await post_form(anon_client, f"/privacy/contacts/{row['id']}/edit", {"name": "Kapad", "role": "dpo"},
                        "/privacy/contacts")
    assert r.status_code == 404
    r = await post_form(anon_client, f"/privacy/contacts/{row['id']}/delete", {}, "/privacy/contacts")
    assert r.status_code == 404
    assert (await PrivacyContact.select().where(PrivacyContact.id == row["id"]).first())["name"] == "Dora Dataskydd"
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, f"/privacy/contacts/{row['id']}/delete", {}, "/privacy/contacts")
    assert r.status_code == 303
    assert "Dora Dataskydd" not in (await anon_client.get("/privacy/contacts")).text
