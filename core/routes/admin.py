"""A tenant administrator's API: modules, employees and groups of the own organization."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from piccolo.custom_types import Combinable

from core import auth
from core.auth import SessionUser
from core.db import atomic, utcnow
from core.listing import Limit, Offset, Sort, UpdatedSince, changed_since
from core.plugins import get_host
from core.routes.schemas import (
    EmployeeIn,
    EmployeeOut,
    EmployeePage,
    EmployeePatch,
    GroupIn,
    GroupOut,
    GroupPage,
    GroupPatch,
    MembersIn,
    ModuleIn,
    ModuleOut,
)
from core.tables import Employee, EmployeeGroup, GroupMember
from core.tenancy import enabled_modules, get_scoped, set_module_enabled
from core.validation import FieldError, normalize_email, normalize_phone
from core.web import SESSION_COOKIE, AuthUser, session_cookie

KNOWN_PERMISSIONS = {"gdpr", "employees", "vault"}

EMPLOYEE_SORT = Sort("id", "name", "email", "role", "created_at", "updated_at", default="id")
GROUP_SORT = Sort("id", "name", "created_at", "updated_at", default="name")


def employee_out(row: dict) -> EmployeeOut:
    return EmployeeOut(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        role=row["role"],
        mobile_phone=row["mobile_phone"],
        private_phone=row["private_phone"],
        work_phone=row["work_phone"],
        notes=row["notes"],
        created_at=row["created_at"],
        deleted_at=row["deleted_at"],
    )


class ModulesController(Controller):
    path = "/api/modules"
    tags = ("modules",)

    @get("/")
    async def list_modules(self, user: AuthUser) -> list[ModuleOut]:
        """Every installed module and whether it is on for the organization."""
        enabled = await enabled_modules(get_host(), user.tenant_id)
        return [
            ModuleOut(name=n, label_sv=m.label_sv, label_en=m.label_en, enabled=n in enabled)
            for n, m in get_host().modules().items()
        ]

    @put("/{name:str}")
    async def set_enabled(self, admin: AuthUser, name: FromPath[str], data: JSONBody[ModuleIn]) -> ModuleOut:
        """Turn a module on or off for the organization. Its stored data keeps its retention."""
        await set_module_enabled(get_host(), admin.tenant_id, name, data.enabled)
        info = get_host().modules()[name]
        return ModuleOut(name=name, label_sv=info.label_sv, label_en=info.label_en, enabled=data.enabled)


async def _check_unique_email(tenant_id: int, email: str, exclude_id: int | None = None) -> None:
    query = Employee.exists().where(
        (Employee.tenant_id == tenant_id)
        & (Employee.email == email)
        & Employee.deleted_at.is_null()
    )
    if exclude_id is not None:
        query = query.where(Employee.id != exclude_id)
    if await query:
        raise FieldError("email", "another employee already has this e-mail address")


class EmployeesController(Controller):
    path = "/api/employees"
    tags = ("employees",)

    @get("/")
    async def list_employees(
        self,
        admin: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        include_deleted: FromQuery[bool] = False,
        sort: Annotated[str | None, EMPLOYEE_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> EmployeePage:
        """The organization's employees, without the deleted ones unless ``include_deleted``.

        ``updated_since`` also finds employees deleted or anonymized since then (with
        ``include_deleted``), so a sync learns that they are gone."""
        where: Combinable = Employee.tenant_id == admin.tenant_id
        if not include_deleted:
            where = where & Employee.deleted_at.is_null()
        if updated_since is not None:
            since = changed_since(updated_since)
            where = where & (
                (Employee.updated_at >= since)
                | (Employee.deleted_at >= since)
                | (Employee.anonymized_at >= since)
            )
        total = await Employee.count().where(where)
        query = EMPLOYEE_SORT.apply(Employee.select().where(where), Employee, sort)
        rows = await query.offset(offset).limit(limit)
        return EmployeePage(
            total=total, offset=offset, limit=limit, items=[employee_out(r) for r in rows]
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, admin: AuthUser, data: JSONBody[EmployeeIn]) -> EmployeeOut:
        """Add an employee; without a password they set one through a reset link."""
        return employee_out(await create_employee(admin, data))

    @get("/{employee_id:int}")
    async def get_one(self, admin: AuthUser, employee_id: FromPath[int]) -> EmployeeOut:
        """One employee of the organization, deleted ones included."""
        return employee_out(await get_scoped(Employee, admin.tenant_id, employee_id, "Employee"))

    @patch("/{employee_id:int}")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        admin: AuthUser,
        employee_id: FromPath[int],
        data: JSONBody[EmployeePatch],
    ) -> Response[EmployeeOut]:
        """Edit an employee (this is where an administrator adds a missing phone number).

        A role change is a privilege change: the person's other sessions end, and the
        administrator's own session gets a new id if it is their own role.
        """
        updated, fresh = await edit_employee(admin, employee_id, data, request.cookies.get(SESSION_COOKIE, ""))
        cookies = [session_cookie(request, fresh)] if fresh else []
        return Response(employee_out(updated), cookies=cookies)

    @delete("/{employee_id:int}", status_code=HTTP_200_OK)
    async def remove(self, admin: AuthUser, employee_id: FromPath[int]) -> EmployeeOut:
        """Soft-delete: the person can no longer log in; retention anonymizes them later."""
        return employee_out(await delete_employee(admin, employee_id))


# --- employees: the logic the API and the settings pages share ---------------------------


async def create_employee(admin: SessionUser, data: EmployeeIn) -> dict:
    email = normalize_email(data.email, required=True)
    assert email is not None
    values: dict[str, Any] = dict(
        tenant_id=admin.tenant_id,
        name=data.name.strip(),
        email=email,
        role=data.role,
        mobile_phone=normalize_phone(data.mobile_phone, "mobile_phone"),
        private_phone=normalize_phone(data.private_phone, "private_phone"),
        work_phone=normalize_phone(data.work_phone, "work_phone"),
        notes=data.notes,
    )
    if data.password is not None:
        auth.check_password_rules(data.password)
        values["password_hash"] = await auth.hash_password(data.password)
    async with atomic():
        await _check_unique_email(admin.tenant_id, email)
        rows = await Employee.insert(Employee(**values)).returning(*Employee.all_columns())
    return rows[0]


async def edit_employee(
    admin: SessionUser, employee_id: int, data: EmployeePatch, own_token: str
) -> tuple[dict, str | None]:
    """The edited employee, and the administrator's new session token when they changed
    their own role (the caller sets the cookie)."""
    fresh: str | None = None
    async with atomic():
        row = await get_scoped(Employee, admin.tenant_id, employee_id, "Employee")
        if row["deleted_at"] is not None:
            raise ClientException("This employee is deleted and cannot be edited.", status_code=409)
        changes: dict[Any, Any] = {}
        if data.name is not None:
            changes[Employee.name] = data.name.strip()
        if data.email is not None:
            email = normalize_email(data.email, required=True)
            assert email is not None
            await _check_unique_email(admin.tenant_id, email, exclude_id=employee_id)
            changes[Employee.email] = email
        phone_changed = False
        for fname in ("mobile_phone", "private_phone", "work_phone"):
            value = getattr(data, fname)
            if value is not None:
                new = normalize_phone(value, fname) if value.strip() else None
                if new != row[fname]:
                    phone_changed = True
                changes[Employee._meta.get_column_by_name(fname)] = new
        if data.notes is not None:
            changes[Employee.notes] = data.notes
        role_changed = data.role is not None and data.role != row["role"]
        if role_changed:
            if employee_id == admin.employee_id and data.role != "admin":
                others = await Employee.count().where(
                    (Employee.tenant_id == admin.tenant_id)
                    & (Employee.role == "admin")
                    & Employee.deleted_at.is_null()
                    & (Employee.id != employee_id)
                )
                if others == 0:
                    raise ClientException(
                        "You are the only administrator; make someone else one first."
                    )
            changes[Employee.role] = data.role
        if changes:
            await Employee.update(changes).where(
                (Employee.id == employee_id) & (Employee.tenant_id == admin.tenant_id)
            )
        if role_changed:
            if employee_id == admin.employee_id:
                fresh = await auth.rotate_session(own_token)
                from core.security import token_hash
                from core.tables import Session

                if fresh:
                    await Session.delete().where(
                        (Session.tenant_id == admin.tenant_id)
                        & (Session.employee_id == employee_id)
                        & (Session.token_hash != token_hash(fresh))
                    )
            else:
                await auth.end_sessions(admin.tenant_id, employee_id)
        if phone_changed:
            # A new phone number means devices trusted for the old one are not trusted.
            await auth.fire_password_changed(admin.tenant_id, "employee", employee_id)
        updated = await get_scoped(Employee, admin.tenant_id, employee_id, "Employee")
    return updated, fresh


async def delete_employee(admin: SessionUser, employee_id: int) -> dict:
    if employee_id == admin.employee_id:
        raise ClientException("You cannot delete yourself.")
    async with atomic():
        row = await get_scoped(Employee, admin.tenant_id, employee_id, "Employee")
        if row["deleted_at"] is None:
            await Employee.update({Employee.deleted_at: utcnow()}).where(
                (Employee.id == employee_id) & (Employee.tenant_id == admin.tenant_id)
            )
            await auth.end_sessions(admin.tenant_id, employee_id)
            # M25: "immediately" anonymizes in this same transaction.
            from core.gdpr.engine import anonymize_if_immediate

            await anonymize_if_immediate(admin.tenant_id, "core", "core.employees", [employee_id])
        return await get_scoped(Employee, admin.tenant_id, employee_id, "Employee")


async def _group_out(row: dict) -> GroupOut:
    members = await GroupMember.select(GroupMember.employee_id).where(
        (GroupMember.tenant_id == row["tenant_id"]) & (GroupMember.group_id == row["id"])
    ).order_by(GroupMember.employee_id)
    return GroupOut(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        permissions=[p for p in row["permissions"].split(",") if p],
        member_ids=[m["employee_id"] for m in members],
    )


def _permissions(values: list[str]) -> str:
    unknown = sorted(set(values) - KNOWN_PERMISSIONS)
    if unknown:
        raise FieldError(
            "permissions", "unknown: %(unknown)s; known: %(known)s", code="unknown_permission",
            unknown=", ".join(unknown), known=", ".join(sorted(KNOWN_PERMISSIONS)),
        )
    return ",".join(sorted(set(values)))


class GroupsController(Controller):
    path = "/api/groups"
    tags = ("groups",)

    @get("/")
    async def list_groups(
        self,
        admin: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        sort: Annotated[str | None, GROUP_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> GroupPage:
        """The organization's groups with their permissions and members, by name."""
        where: Combinable = EmployeeGroup.tenant_id == admin.tenant_id
        if updated_since is not None:
            where = where & (EmployeeGroup.updated_at >= changed_since(updated_since))
        total = await EmployeeGroup.count().where(where)
        query = GROUP_SORT.apply(EmployeeGroup.select().where(where), EmployeeGroup, sort)
        rows = await query.offset(offset).limit(limit)
        items = [await _group_out(r) for r in rows]
        return GroupPage(total=total, offset=offset, limit=limit, items=items)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, admin: AuthUser, data: JSONBody[GroupIn]) -> GroupOut:
        """Add a group with its permissions (gdpr, employees, vault); members come apart."""
        perms = _permissions(data.permissions)
        rows = await EmployeeGroup.insert(
            EmployeeGroup(
                tenant_id=admin.tenant_id,
                name=data.name.strip(),
                description=data.description,
                permissions=perms,
            )
        ).returning(*EmployeeGroup.all_columns())
        return await _group_out(rows[0])

    @get("/{group_id:int}")
    async def get_one(self, admin: AuthUser, group_id: FromPath[int]) -> GroupOut:
        """One group with its permissions and members."""
        return await _group_out(await get_scoped(EmployeeGroup, admin.tenant_id, group_id, "Group"))

    @patch("/{group_id:int}")
    async def edit(self, admin: AuthUser, group_id: FromPath[int], data: JSONBody[GroupPatch]) -> GroupOut:
        """Rename a group or change its description or permissions (the fields sent)."""
        async with atomic():
            await get_scoped(EmployeeGroup, admin.tenant_id, group_id, "Group")
            changes: dict[Any, Any] = {}
            if data.name is not None:
                changes[EmployeeGroup.name] = data.name.strip()
            if data.description is not None:
                changes[EmployeeGroup.description] = data.description
            if data.permissions is not None:
                changes[EmployeeGroup.permissions] = _permissions(data.permissions)
            if changes:
                await EmployeeGroup.update(changes).where(
                    (EmployeeGroup.id == group_id) & (EmployeeGroup.tenant_id == admin.tenant_id)
                )
            row = await get_scoped(EmployeeGroup, admin.tenant_id, group_id, "Group")
        return await _group_out(row)

    @put("/{group_id:int}/members")
    async def set_members(self, admin: AuthUser, group_id: FromPath[int], data: JSONBody[MembersIn]) -> GroupOut:
        """Replace the group's members with these employees of the organization."""
        async with atomic():
            group = await get_scoped(EmployeeGroup, admin.tenant_id, group_id, "Group")
            ids = sorted(set(data.employee_ids))
            if ids:
                found = await Employee.select(Employee.id).where(
                    (Employee.tenant_id == admin.tenant_id)
                    & Employee.id.is_in(ids)
                    & Employee.deleted_at.is_null()
                )
                missing = sorted(set(ids) - {r["id"] for r in found})
                if missing:
                    raise FieldError("employee_ids", "no such employees: %(ids)s", code="unknown_employee",
                                     ids=", ".join(map(str, missing)))
            await GroupMember.delete().where(
                (GroupMember.tenant_id == admin.tenant_id) & (GroupMember.group_id == group_id)
            )
            await EmployeeGroup.update({EmployeeGroup.updated_at: utcnow()}).where(
                (EmployeeGroup.id == group_id) & (EmployeeGroup.tenant_id == admin.tenant_id)
            )
            for eid in ids:
                await GroupMember.insert(
                    GroupMember(tenant_id=admin.tenant_id, group_id=group_id, employee_id=eid)
                )
        return await _group_out(group)

    @delete("/{group_id:int}", status_code=HTTP_200_OK)
    async def remove(self, admin: AuthUser, group_id: FromPath[int]) -> GroupOut:
        """Delete a group; its members lose its permissions. Answers the group as it was."""
        async with atomic():
            row = await get_scoped(EmployeeGroup, admin.tenant_id, group_id, "Group")
            out = await _group_out(row)
            await GroupMember.delete().where(
                (GroupMember.tenant_id == admin.tenant_id) & (GroupMember.group_id == group_id)
            )
            await EmployeeGroup.delete().where(
                (EmployeeGroup.id == group_id) & (EmployeeGroup.tenant_id == admin.tenant_id)
            )
        return out
