"""Settings > Employees and groups: the administrator adds people, edits their phone
numbers (where a missing number for SMS codes is fixed, M6), roles and groups. The logic is
the API's (:mod:`core.routes.admin`)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath

from core.auth import AuthError
from core.db import atomic
from core.errors import mark as _
from core.pages import (
    PageController,
    page_admin,
    page_get,
    page_post,
    read_form,
    read_form_lists,
    redirect,
    render,
    t_for,
)
from core.pages.forms import error_of, struct_from_form
from core.routes.admin import (
    KNOWN_PERMISSIONS,
    _permissions,
    create_employee,
    delete_employee,
    edit_employee,
)
from core.routes.schemas import EmployeeIn, EmployeePatch
from core.tables import Employee, EmployeeGroup, GroupMember
from core.tenancy import get_scoped
from core.validation import FieldError
from core.web import SESSION_COOKIE, session_cookie

FIELDS = ("name", "email", "role", "mobile_phone", "private_phone", "work_phone", "notes")




ROLES = {"user": _("User"), "admin": _("Administrator")}
MESSAGES = [
    _("another employee already has this e-mail address"),
    _("You are the only administrator; make someone else one first."),
    _("You cannot delete yourself."),
    _("This employee is deleted and cannot be edited."),
]


async def _groups_of(tenant_id: int) -> tuple[list[dict], dict[int, list[int]]]:
    groups = list(await EmployeeGroup.select().where(EmployeeGroup.tenant_id == tenant_id).order_by(EmployeeGroup.name))
    members: dict[int, list[int]] = {}
    for m in await GroupMember.select().where(GroupMember.tenant_id == tenant_id):
        members.setdefault(int(m["group_id"]), []).append(int(m["employee_id"]))
    return groups, members


class PeoplePages(PageController):
    path = "/settings"

    @page_get("/employees")
    async def employees(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        rows = await Employee.select().where(
            (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null()
        ).order_by(Employee.name)
        groups, members = await _groups_of(user.tenant_id)
        return await render(request, "settings/employees.html",
                            {"rows": rows, "roles": ROLES, "groups": groups, "members": members}, user=user)

    @page_get("/employees/new")
    async def new_employee(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        context = {"roles": ROLES, "values": {"role": "user"}}
        return await render(request, "settings/employee_form.html", context, user=user)

    @page_post("/employees/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form(request)
        t = t_for(request, user)
        values: dict[str, Any] = {k: form.get(k, "").strip() if k != "notes" else form.get(k, "") for k in FIELDS}
        for k in ("mobile_phone", "private_phone", "work_phone"):
            values[k] = values[k] or None
        if form.get("password"):
            values["password"] = form["password"]
        data, errors = struct_from_form(EmployeeIn, values, t)
        if data is not None:
            try:
                await create_employee(user, data)
                return redirect("/settings/employees", t.gettext("The employee is saved."))
            except (FieldError, ClientException, AuthError) as exc:
                errors = error_of(exc, t)
                if isinstance(exc, AuthError):
                    errors = {"password": t.gettext(exc.message)}
        return await render(request, "settings/employee_form.html",
                            {"roles": ROLES, "values": form, "errors": errors}, 400, user=user)

    @page_get("/employees/{employee_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], employee_id: FromPath[int]) -> Response[Any]:
        user = await page_admin(request)
        row = await get_scoped(Employee, user.tenant_id, employee_id, "Employee")
        values = {k: ("" if row[k] is None else row[k]) for k in FIELDS}
        return await render(request, "settings/employee_form.html",
                            {"roles": ROLES, "values": values, "e": row}, user=user)

    @page_post("/employees/{employee_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], employee_id: FromPath[int]) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await get_scoped(Employee, user.tenant_id, employee_id, "Employee")
        values = {k: form.get(k, "").strip() if k != "notes" else form.get(k, "") for k in FIELDS}
        data, errors = struct_from_form(EmployeePatch, values, t)
        if data is not None:
            try:
                _row, fresh = await edit_employee(user, employee_id, data, request.cookies.get(SESSION_COOKIE, ""))
                response = redirect("/settings/employees", t.gettext("The employee is saved."))
                if fresh:
                    response.cookies.append(session_cookie(request, fresh))
                return response
            except (FieldError, ClientException) as exc:
                errors = error_of(exc, t)
        return await render(request, "settings/employee_form.html",
                            {"roles": ROLES, "values": form, "errors": errors, "e": row}, 400, user=user)

    @page_post("/employees/{employee_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], employee_id: FromPath[int]) -> Response[Any]:
        user = await page_admin(request)
        await read_form(request)
        t = t_for(request, user)
        try:
            await delete_employee(user, employee_id)
        except ClientException as exc:
            return redirect("/settings/employees", t.gettext(str(exc.detail)))
        return redirect("/settings/employees", t.gettext("The employee is deleted."))

    # --- groups ----------------------------------------------------------------------------

    async def _group_page(self, request: Request[Any, Any, Any], user: Any, g: dict | None, values: dict[str, Any],
                          errors: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        employees = await Employee.select(Employee.id, Employee.name).where(
            (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null()
        ).order_by(Employee.name)
        return await render(request, "settings/group_form.html",
                            {"g": g, "values": values, "errors": errors or {}, "employees": employees,
                             "permissions": sorted(KNOWN_PERMISSIONS)}, status_code=status, user=user)

    @page_get("/groups/new")
    async def new_group(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_admin(request)
        empty = {"name": "", "description": "", "permissions": [], "members": []}
        return await self._group_page(request, user, None, empty)

    @page_get("/groups/{group_id:int}/edit")
    async def edit_group(self, request: Request[Any, Any, Any], group_id: FromPath[int]) -> Response[Any]:
        user = await page_admin(request)
        g = await get_scoped(EmployeeGroup, user.tenant_id, group_id, "Group")
        _groups, members = await _groups_of(user.tenant_id)
        return await self._group_page(request, user, g, {
            "name": g["name"], "description": g["description"],
            "permissions": [p for p in g["permissions"].split(",") if p], "members": members.get(group_id, [])})

    async def _save_group(self, request: Request[Any, Any, Any], group_id: int | None) -> Response[Any]:
        user = await page_admin(request)
        form = await read_form_lists(request)
        t = t_for(request, user)
        g = await get_scoped(EmployeeGroup, user.tenant_id, group_id, "Group") if group_id else None
        name = (form.get("name") or [""])[-1].strip()
        description = (form.get("description") or [""])[-1]
        perms = form.get("permissions", [])
        member_ids = sorted({int(v) for v in form.get("members", []) if v.isdigit() and int(v) < 2**31})
        values = {"name": name, "description": description, "permissions": perms, "members": member_ids}
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = t.gettext("This must not be empty.")
        elif len(name) > 120:
            errors["name"] = t.gettext("This is too long.")
        if len(description) > 2000:
            errors["description"] = t.gettext("This is too long.")
        try:
            perm_text = _permissions(perms)
        except FieldError:
            errors["permissions"] = t.gettext("This value is not valid here.")
        if errors:
            return await self._group_page(request, user, g, values, errors, 400)
        async with atomic():
            if group_id is None:
                rows = await EmployeeGroup.insert(EmployeeGroup(
                    tenant_id=user.tenant_id, name=name, description=description, permissions=perm_text,
                )).returning(EmployeeGroup.id)
                group_id = int(rows[0]["id"])
            else:
                await EmployeeGroup.update({EmployeeGroup.name: name, EmployeeGroup.description: description,
                                            EmployeeGroup.permissions: perm_text}).where(
                    (EmployeeGroup.id == group_id) & (EmployeeGroup.tenant_id == user.tenant_id))
            known = {int(r["id"]) for r in await Employee.select(Employee.id).where(
                (Employee.tenant_id == user.tenant_id) & Employee.deleted_at.is_null())}
            await GroupMember.delete().where(
                (GroupMember.tenant_id == user.tenant_id) & (GroupMember.group_id == group_id))
            for eid in member_ids:
                if eid in known:
                    await GroupMember.insert(GroupMember(tenant_id=user.tenant_id, group_id=group_id, employee_id=eid))
        return redirect("/settings/employees#groups", t.gettext("The group is saved."))

    @page_post("/groups/new")
    async def create_group(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save_group(request, None)

    @page_post("/groups/{group_id:int}/edit")
    async def update_group(self, request: Request[Any, Any, Any], group_id: FromPath[int]) -> Response[Any]:
        return await self._save_group(request, group_id)


PAGES = [PeoplePages]
