"""A page and the API write the same event-log row for the same change (M23).

Derived from the record specs (``declare_records``): every record with common routes is
created through the API twice; one copy is edited, closed and deleted through the API, the
other through its pages (the edit form posted back as the page shows it). Both leave the
same actions, by the same employee, on the same plugin and record type. A new record spec
is in this test the moment it is declared.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from core.eventlog import EventLog
from core.plugins import get_host
from tests.pages.helpers import page_login, post_form
from tests.security import matrix


class _Form(HTMLParser):
    """The values a browser would send from each POST form of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.values: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form, self.values = True, {}
        elif self._in_form and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            if a.get("type") not in ("submit", "button"):
                self.values[a["name"]] = a.get("value", "")
        elif self._in_form and tag == "select":
            self._select = a.get("name")
        elif self._in_form and tag == "option" and self._select:
            if "selected" in a or self._select not in self.values:
                self.values[self._select] = a.get("value", "")
        elif self._in_form and tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea or ""] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form = False
            self.forms.append(self.values)


def _form_values(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    biggest = max(parser.forms, key=len)  # the record's form, not the header's log-out form
    return {k: v for k, v in biggest.items() if k != "csrf_token"}


async def _events(tenant_id: int, record_id: int, record_type: str) -> list[tuple[Any, ...]]:
    rows = await EventLog.select().where(
        (EventLog.tenant_id == tenant_id) & (EventLog.record_id == record_id)
        & (EventLog.record_type == record_type)
    ).order_by(EventLog.id)
    return [(r["action"], r["plugin"], r["record_type"], r["employee_id"]) for r in rows]


async def test_a_page_logs_what_the_api_logs(app, anon_client, tenant):
    assert (await page_login(anon_client, tenant)).status_code == 303
    ops = {(o.method, o.openapi_path): o for o in matrix.operations(app)}
    page_paths = {getattr(r, "path", "") for r in app.routes}
    checked = []
    for plugin, specs in get_host().records_by_plugin().items():
        for spec in specs:
            create = ops.get(("POST", f"/api{spec.path}"))
            if not spec.path or create is None or f"{spec.path}/{{record_id:int}}/delete" not in page_paths:
                continue
            ids = []
            for _ in range(2):
                r = await anon_client.post(create.openapi_path, json=create.body)
                assert r.status_code == 201, f"{plugin}/{spec.name}: {r.text}"
                ids.append(int(r.json()["id"]))
            by_api, by_page = ids
            api = f"/api{spec.path}/{by_api}"
            assert (await anon_client.patch(api, json={})).status_code == 200
            page = f"{spec.path}/{by_page}"
            values = _form_values((await anon_client.get(page + "/edit")).text)
            r = await post_form(anon_client, page + "/edit", values, page + "/edit")
            errors = re.findall(r'class="error"[^>]*>([^<]*)<', r.text)
            assert r.status_code == 303, f"{plugin}/{spec.name} edit page: {r.status_code} {values} {errors}"
            closed = False
            if spec.status_column:
                # A record may have a condition of its own for closing (an incident: the
                # decision about telling the authority): a new one refused by the API is
                # refused by its page alike, and neither logs a close.
                status = (await anon_client.post(api + "/close")).status_code
                assert status in (200, 409), f"{plugin}/{spec.name} close: {status}"
                closed = status == 200
                page_status = (await post_form(anon_client, page + "/close", {}, page)).status_code
                assert page_status == (303 if closed else 409), f"{plugin}/{spec.name} close page: {page_status}"
            assert (await anon_client.delete(api)).status_code == 200
            assert (await post_form(anon_client, page + "/delete", {}, page + "/delete")).status_code == 303
            from_api = await _events(tenant.id, by_api, spec.name)
            from_page = await _events(tenant.id, by_page, spec.name)
            expected = ["created", "edited", *(["closed"] if closed else []), "deleted"]
            assert [a for a, *_ in from_api] == [f"{spec.name}.{e}" for e in expected]
            assert from_page == from_api, f"{plugin}/{spec.name}"
            assert {e[3] for e in from_page} == {tenant.admin_id}
            checked.append(f"{plugin}/{spec.name}")
    assert "cases/case" in checked
    assert {"time/time_report", "time/expense", "time/deviation"} <= set(checked)
    assert {"orders/order", "workorders/work_order"} <= set(checked), checked
    assert {"cases/case", "quotes/quote", "projects/project", "orders/order", "workorders/work_order"} <= set(
        checked
    ), checked
    assert "customers/customer" in checked
    assert {"privacy/incident", "privacy/activity", "privacy/gdpr_contact"} <= set(checked), checked
