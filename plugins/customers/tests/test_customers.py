"""Customers: CRUD, numbering, listing and validation of every kind of field."""

from __future__ import annotations

import asyncio

from plugins.customers.tables import Customer
from plugins.customers.tests.conftest import ORG, ORG10, PNR, PNR10, make_customer, with_check_digit
from tests.support import logged


def assert_names_field(response, field: str) -> None:  # type: ignore[no-untyped-def]
    """A 400 whose body says which field is wrong (ours or Litestar's validation shape)."""
    assert response.status_code == 400, response.text
    body = response.json()
    if "field" in body:
        assert body["field"] == field
        assert body["detail"]
        return
    extra = body.get("extra") or []
    assert extra, body
    assert extra[0].get("key") == field or f"`{field}`" in extra[0]["message"], body


async def count_customers(tenant_id: int) -> int:
    return int(await Customer.count().where(Customer.tenant_id == tenant_id))


FULL = {
    "name": "  Acme AB ",
    "kind": "company",
    "org_number": ORG10,
    "email": "Info@Acme.EXAMPLE",
    "mobile_phone": "070-123 45 67",
    "private_phone": "0046 70 765 43 21",
    "work_phone": "08-123 456 78",
    "postal_street": "Box 12",
    "postal_postcode": "123 45",
    "postal_city": "Storstad",
    "visiting_street": "Storgatan 1",
    "visiting_postcode": "123 46",
    "visiting_city": "Storstad",
    "notes": "Prefers calls in the morning.",
}


async def test_create_and_get_company_with_every_field(admin_client):
    created = await make_customer(admin_client, **FULL)
    assert created["name"] == "Acme AB"
    assert created["org_number"] == ORG
    assert created["national_id"] is None
    assert created["email"] == "info@acme.example"
    assert created["mobile_phone"] == "+46701234567"
    assert created["private_phone"] == "+46707654321"
    assert created["work_phone"] == "+46812345678"
    assert created["visiting_street"] == "Storgatan 1"
    assert created["notes"] == "Prefers calls in the morning."
    assert created["deleted_at"] is None and created["anonymized_at"] is None
    fetched = await admin_client.get(f"/api/customers/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_phone_is_stored_in_e164(admin_client, tenant):
    created = await make_customer(admin_client, mobile_phone="070-123 45 67")
    row = await Customer.select(Customer.mobile_phone).where(Customer.id == created["id"]).first()
    assert row["mobile_phone"] == "+46701234567"


async def test_personal_identity_number_in_every_form_normalizes_the_same(admin_client):
    forms = [PNR10, f"{PNR10[:6]}-{PNR10[6:]}", f"19{PNR10}", PNR, f" {PNR10[:6]} {PNR10[6:]} "]
    for form in forms:
        created = await make_customer(
            admin_client, name="Per Privat", kind="private", national_id=form
        )
        assert created["national_id"] == PNR, form
        row = await Customer.select(Customer.national_id).where(
            Customer.id == created["id"]
        ).first()
        assert row["national_id"] == PNR
    # The same holds when the number is changed later.
    response = await admin_client.patch(
        f"/api/customers/{created['id']}", json={"national_id": f"{PNR10[:6]}-{PNR10[6:]}"}
    )
    assert response.json()["national_id"] == PNR


async def test_century_sign_for_people_over_100(admin_client):
    ten = with_check_digit("121212121")
    created = await make_customer(
        admin_client, name="Old", kind="private", national_id=f"{ten[:6]}+{ten[6:]}"
    )
    assert created["national_id"] == f"19{ten[:6]}-{ten[6:]}"


async def test_org_number_forms(admin_client):
    for n, form in enumerate((ORG10, ORG, f"16{ORG10}", f"16{ORG}")):
        if n:  # the same number again: a duplicate, warned of (409) until confirmed
            refused = await admin_client.post("/api/customers/", json={"name": "Acme AB", "org_number": form})
            assert refused.status_code == 409 and refused.json()["code"] == "customer.duplicate_org_number"
        created = await make_customer(admin_client, org_number=form, confirm_duplicate=n > 0)
        assert created["org_number"] == ORG, form


async def test_numbers_are_assigned_max_plus_one_per_tenant(admin_client, other_client):
    first = await make_customer(admin_client)
    second = await make_customer(admin_client)
    assert (first["number"], second["number"]) == (1, 2)
    explicit = await make_customer(admin_client, number=100)
    assert explicit["number"] == 100
    after = await make_customer(admin_client)
    assert after["number"] == 101
    # Another tenant has its own series.
    theirs = await make_customer(other_client)
    assert theirs["number"] == 1


async def test_taken_number_is_refused_and_nothing_written(admin_client, tenant):
    await make_customer(admin_client, number=7)
    before = await count_customers(tenant.id)
    response = await admin_client.post("/api/customers/", json={"name": "Dup", "number": 7})
    assert_names_field(response, "number")
    assert await count_customers(tenant.id) == before


async def test_number_taken_by_a_deleted_customer_stays_taken(admin_client):
    gone = await make_customer(admin_client, number=9)
    assert (await admin_client.delete(f"/api/customers/{gone['id']}")).status_code == 200
    response = await admin_client.post("/api/customers/", json={"name": "Dup", "number": 9})
    assert_names_field(response, "number")


async def test_patch_number_to_a_taken_one_is_refused(admin_client):
    a = await make_customer(admin_client, number=1)
    b = await make_customer(admin_client, number=2)
    response = await admin_client.patch(f"/api/customers/{b['id']}", json={"number": 1})
    assert_names_field(response, "number")
    assert (await admin_client.get(f"/api/customers/{b['id']}")).json()["number"] == 2
    # Its own number, and a free one, are fine.
    same = await admin_client.patch(f"/api/customers/{a['id']}", json={"number": 1})
    assert same.status_code == 200
    moved = await admin_client.patch(f"/api/customers/{b['id']}", json={"number": 50})
    assert moved.json()["number"] == 50


async def test_concurrent_creates_get_distinct_numbers(admin_client):
    responses = await asyncio.gather(
        *(admin_client.post("/api/customers/", json={"name": f"C{i}"}) for i in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert sorted(r.json()["number"] for r in responses) == [1, 2, 3, 4, 5, 6]


async def test_patch_changes_only_given_fields_and_empty_clears(admin_client):
    created = await make_customer(admin_client, **FULL)
    response = await admin_client.patch(
        f"/api/customers/{created['id']}",
        json={"name": "Acme Holding AB", "mobile_phone": "", "work_phone": "+46 8 765 432 10",
              "postal_city": "Lillstad"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Acme Holding AB"
    assert body["mobile_phone"] is None
    assert body["work_phone"] == "+46876543210"
    assert body["postal_city"] == "Lillstad"
    for field in ("org_number", "email", "private_phone", "postal_street", "notes", "number"):
        assert body[field] == created[field]


async def test_kind_change_must_fit_the_identity_number(admin_client):
    created = await make_customer(admin_client, org_number=ORG)
    response = await admin_client.patch(f"/api/customers/{created['id']}", json={"kind": "private"})
    assert_names_field(response, "org_number")
    assert (await admin_client.get(f"/api/customers/{created['id']}")).json()["kind"] == "company"
    response = await admin_client.patch(
        f"/api/customers/{created['id']}",
        json={"kind": "private", "org_number": "", "national_id": PNR10},
    )
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "private"
    assert response.json()["org_number"] is None
    assert response.json()["national_id"] == PNR


async def test_delete_is_soft_and_hides_from_the_list(admin_client, tenant):
    created = await make_customer(admin_client, name="Gone AB")
    kept = await make_customer(admin_client, name="Kept AB")
    response = await admin_client.delete(f"/api/customers/{created['id']}")
    assert response.status_code == 200
    assert response.json()["deleted_at"] is not None
    # Rule "customers" defaults to off: the data is still there.
    assert response.json()["name"] == "Gone AB"
    assert await count_customers(tenant.id) == 2
    listed = (await admin_client.get("/api/customers/")).json()
    assert [c["id"] for c in listed["items"]] == [kept["id"]]
    listed = (await admin_client.get("/api/customers/?include_deleted=true")).json()
    assert {c["id"] for c in listed["items"]} == {created["id"], kept["id"]}
    # A deleted customer can be read but not edited.
    assert (await admin_client.get(f"/api/customers/{created['id']}")).status_code == 200
    response = await admin_client.patch(f"/api/customers/{created['id']}", json={"name": "X"})
    assert response.status_code == 409
    # Deleting again is harmless.
    assert (await admin_client.delete(f"/api/customers/{created['id']}")).status_code == 200


async def test_list_paging_search_and_kind_filter(admin_client):
    for i in range(5):
        await make_customer(admin_client, name=f"Bolag {i} AB")
    await make_customer(admin_client, name="Privat Person", kind="private")
    await make_customer(admin_client, name="100% Rabatt_AB", number=4242)
    page = (await admin_client.get("/api/customers/?offset=2&limit=2")).json()
    assert page["total"] == 7 and page["offset"] == 2 and page["limit"] == 2
    assert [c["number"] for c in page["items"]] == [3, 4]
    found = (await admin_client.get("/api/customers/", params={"q": "bolag"})).json()
    assert found["total"] == 5
    found = (await admin_client.get("/api/customers/", params={"q": "4242"})).json()
    assert [c["name"] for c in found["items"]] == ["100% Rabatt_AB"]
    # % and _ are matched literally, not as wildcards.
    found = (await admin_client.get("/api/customers/", params={"q": "0% R"})).json()
    assert found["total"] == 1
    found = (await admin_client.get("/api/customers/", params={"q": "%"})).json()
    assert found["total"] == 1
    found = (await admin_client.get("/api/customers/", params={"q": "t_AB"})).json()
    assert found["total"] == 1
    found = (await admin_client.get("/api/customers/", params={"kind": "private"})).json()
    assert [c["name"] for c in found["items"]] == ["Privat Person"]


async def test_list_refuses_bad_parameters(admin_client):
    for params, field in [
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"kind": "alien"}, "kind"),
        ({"q": "x" * 201}, "q"),
    ]:
        assert_names_field(await admin_client.get("/api/customers/", params=params), field)


BAD_PNR_CHECK = PNR10[:-1] + str((int(PNR10[-1]) + 1) % 10)
BAD_PNR_DATE = with_check_digit("851309123")  # month 13
BAD_ORG_CHECK = ORG10[:-1] + str((int(ORG10[-1]) + 1) % 10)

BAD_CREATE = [
    ({"mobile_phone": "12"}, "mobile_phone"),
    ({"private_phone": "not a phone"}, "private_phone"),
    ({"work_phone": "070-12"}, "work_phone"),
    ({"mobile_phone": "0" * 41}, "mobile_phone"),
    ({"email": "not-an-address"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"email": "a" * 250 + "@b.se"}, "email"),
    ({"kind": "private", "national_id": BAD_PNR_CHECK}, "national_id"),
    ({"kind": "private", "national_id": BAD_PNR_DATE}, "national_id"),
    ({"kind": "private", "national_id": "12345"}, "national_id"),
    ({"org_number": BAD_ORG_CHECK}, "org_number"),
    ({"org_number": "550000-0000"}, "org_number"),
    ({"national_id": PNR}, "national_id"),  # a company has none
    ({"kind": "private", "org_number": ORG}, "org_number"),
    ({"colour": "blue"}, "colour"),
    ({"name": "x" * 201}, "name"),
    ({"name": "   "}, "name"),
    ({"name": ""}, "name"),
    ({"postal_city": "x" * 101}, "postal_city"),
    ({"visiting_postcode": "x" * 21}, "visiting_postcode"),
    ({"notes": "x" * 10_001}, "notes"),
    ({"kind": "alien"}, "kind"),
    ({"number": 0}, "number"),
    ({"number": "seven"}, "number"),
]


async def test_create_refuses_bad_field_and_writes_nothing(admin_client, tenant):
    await make_customer(admin_client)
    for fields, field in BAD_CREATE:
        before = await count_customers(tenant.id)
        response = await admin_client.post("/api/customers/", json={"name": "Acme AB", **fields})
        assert_names_field(response, field)
        assert await count_customers(tenant.id) == before


BAD_PATCH = [
    ({"mobile_phone": "12"}, "mobile_phone"),
    ({"private_phone": "not a phone"}, "private_phone"),
    ({"work_phone": "070-12"}, "work_phone"),
    ({"email": "not-an-address"}, "email"),
    ({"org_number": BAD_ORG_CHECK}, "org_number"),
    ({"national_id": PNR}, "national_id"),
    ({"kind": "private"}, "org_number"),
    ({"kind": "private", "org_number": "", "national_id": BAD_PNR_CHECK}, "national_id"),
    ({"kind": "private", "org_number": "", "national_id": BAD_PNR_DATE}, "national_id"),
    ({"colour": "blue"}, "colour"),
    ({"name": "x" * 201}, "name"),
    ({"name": "  "}, "name"),
    ({"visiting_city": "x" * 101}, "visiting_city"),
    ({"number": -3}, "number"),
]


async def test_patch_refuses_bad_field_and_changes_nothing(admin_client):
    created = await make_customer(admin_client, **FULL)
    for fields, field in BAD_PATCH:
        # A valid change alongside the bad one must not be written either.
        response = await admin_client.patch(
            f"/api/customers/{created['id']}", json={"notes": "changed", **fields}
        )
        assert_names_field(response, field)
        assert (await admin_client.get(f"/api/customers/{created['id']}")).json() == created


async def test_malformed_json_is_400(admin_client):
    response = await admin_client.post(
        "/api/customers/", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_error_messages_do_not_echo_personal_data(admin_client):
    response = await admin_client.post(
        "/api/customers/", json={"name": "X", "kind": "private", "national_id": BAD_PNR_CHECK,
                                 "email": "secret-person@"},
    )
    assert response.status_code == 400
    assert BAD_PNR_CHECK not in response.text and "secret-person" not in response.text
    response = await admin_client.post(
        "/api/customers/", json={"name": "X", "mobile_phone": "0701"}
    )
    assert "0701" not in response.text


async def test_writes_are_recorded_in_the_event_log(admin_client, tenant):

    created = await make_customer(admin_client, name="Loggad AB")
    await admin_client.patch(f"/api/customers/{created['id']}", json={"notes": "x"})
    await admin_client.delete(f"/api/customers/{created['id']}")
    # A refused write leaves no event.
    await admin_client.post("/api/customers/", json={"name": "X", "email": "bad"})
    rows = await logged(tenant.id, "customers")
    assert [(r["action"], r["record_id"]) for r in rows] == [
        ("customer.created", created["id"]),
        ("customer.edited", created["id"]),
        ("customer.deleted", created["id"]),
    ]
    assert all(r["employee_id"] == tenant.admin_id for r in rows)


async def test_refusals_carry_codes_and_swedish_text(admin_client, client):
    """#18.2: the service's refusals reach the API as problem details with a stable code,
    the number as a parameter (never the typed text) and the detail in the asked language."""
    await make_customer(admin_client, number=7)
    response = await admin_client.post(
        "/api/customers/", json={"name": "Dup", "number": 7}, headers={"Accept-Language": "sv"}
    )
    body = response.json()
    assert response.status_code == 400, body
    # the record layer's numbering refuses a taken number (core.records), for every record
    assert body["code"] == "number_taken" and body["field"] == "number"
    assert body["detail"] == "Nummer 7 används redan i organisationen."
    gone = await make_customer(admin_client, name="Gone AB")
    await admin_client.delete(f"/api/customers/{gone['id']}")
    response = await admin_client.patch(f"/api/customers/{gone['id']}", json={"name": "X"})
    assert response.status_code == 409 and response.json()["code"] == "customer.deleted"
    response = await admin_client.post(f"/api/customers/{gone['id']}/contacts", json={"name": "Per"})
    assert response.status_code == 409 and response.json()["code"] == "customer.deleted"
    response = await client.get("/api/portal/me")
    assert response.status_code == 401 and response.json()["code"] == "portal.login_first"


async def test_no_number_left_is_refused_and_writes_nothing(admin_client, tenant):
    """Past the highest customer number the numbering hands out (checked by the insert's
    own transaction, under the numbering's lock), a create is refused and rolled back."""
    from plugins.customers.services import MAX_NUMBER

    await make_customer(admin_client, name="Last AB", number=MAX_NUMBER)
    before = await count_customers(tenant.id)
    response = await admin_client.post("/api/customers/", json={"name": "One Too Many AB"})
    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "customer.numbers_exhausted" and body["field"] == "number"
    assert await count_customers(tenant.id) == before
    # a number given by hand below the highest still works
    response = await admin_client.post("/api/customers/", json={"name": "Given AB", "number": 12})
    assert response.status_code == 201 and response.json()["number"] == 12
