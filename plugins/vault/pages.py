"""Pages of secure data (Säkra uppgifter): the entries grouped by form and by customer or
internal handling, the form builder (fields with their encrypted flag, the two access lists,
auto-delete, two-factor for decryption), new entries, and the reveal step that asks for the
password (and an SMS code when the form wants one). Built on :mod:`plugins.vault.services`;
every rule of who may see what stays there."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter

from core.errors import GallraError
from core.errors import mark as _
from core.pages import (
    PageController,
    page_get,
    page_post,
    page_user,
    read_form,
    read_form_lists,
    redirect,
    render,
    t_for,
)
from core.pages.forms import error_of
from core.pages.pickers import CHOOSE_CUSTOMER, an_id, customer_pick, party_names
from core.pages.routes import second_factor_context
from core.security import new_token
from core.tables import Employee, EmployeeGroup
from core.web import client_ip, private_cookie
from plugins.vault import services
from plugins.vault.schemas import (
    AccessIn,
    AccessListIn,
    EntryIn,
    EntryPatch,
    FieldIn,
    FormIn,
    FormPatch,
    ValueIn,
)

BLANK_FIELD_ROWS = 3
# The browser's half of a pending reveal (services.reveal_and_keep_pending): a random value whose
# hash the step keeps, so only this browser can finish it.
PENDING_COOKIE = "gallra_vault_step"
Purpose = Annotated[str | None, QueryParameter(required=False, max_length=20)]
FormQ = Annotated[int | None, QueryParameter(required=False, ge=1, le=2_147_483_647)]




PASSWORD_ENCRYPTED = _("A password field is always encrypted: tick Encrypted.")
PURPOSES = {"customer": _("On behalf of a customer"), "internal": _("For internal handling")}
FIELD_TYPES = {"text": _("Text"), "password": _("Password"), "url": _("Web address"), "note": _("Note")}


async def _people(tenant_id: int) -> tuple[list[dict], list[dict]]:
    employees = await Employee.select(Employee.id, Employee.name).where(
        (Employee.tenant_id == tenant_id) & Employee.deleted_at.is_null()
    ).order_by(Employee.name)
    groups = await EmployeeGroup.select(EmployeeGroup.id, EmployeeGroup.name).where(
        EmployeeGroup.tenant_id == tenant_id
    ).order_by(EmployeeGroup.name)
    return list(employees), list(groups)


def _ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        if v.isdigit() and 0 < int(v) < 2**31:
            out.append(int(v))
    return sorted(set(out))


def _builder_input(form: dict[str, list[str]], t: Any) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """The form builder's values: form settings, the field rows, errors by field name."""
    one = {k: v[-1] for k, v in form.items()}
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    i = 0
    while f"field_name.{i}" in one:
        name = one[f"field_name.{i}"].strip()
        fid = one.get(f"field_id.{i}", "")
        if name or fid:
            rows.append({
                "index": i, "id": int(fid) if fid.isdigit() else None, "name": name,
                "type": one.get(f"field_type.{i}", "text"),
                "encrypted": one.get(f"field_encrypted.{i}") == "on",
            })
            if not name:
                errors[f"field_name.{i}"] = t.gettext("Give the field a name.")
            if one.get(f"field_type.{i}", "text") not in FIELD_TYPES:
                errors[f"field_type.{i}"] = t.gettext("Choose one of the listed types.")
            elif rows[-1]["type"] == "password" and not rows[-1]["encrypted"]:
                errors[f"field_encrypted.{i}"] = t.gettext(PASSWORD_ENCRYPTED)
        i += 1
    if not rows:
        errors["field_name.0"] = t.gettext("A form needs at least one field.")
    days_raw = one.get("auto_delete_days", "").strip()
    days = None
    if days_raw:
        if not days_raw.isdigit() or not 1 <= int(days_raw) <= 3650:
            errors["auto_delete_days"] = t.gettext("Write a number of days from 1 to 3650, or leave it empty.")
        else:
            days = int(days_raw)
    settings = {
        "name": one.get("name", "").strip(),
        "purpose": one.get("purpose", "internal"),
        "auto_delete_days": days,
        "require_two_factor": one.get("require_two_factor") == "on",
        "plain_users": _ids(form.get("plain_users", [])),
        "plain_groups": _ids(form.get("plain_groups", [])),
        "encrypted_users": _ids(form.get("encrypted_users", [])),
        "encrypted_groups": _ids(form.get("encrypted_groups", [])),
    }
    if not settings["name"]:
        errors["name"] = t.gettext("Give the form a name.")
    if settings["purpose"] not in PURPOSES:
        errors["purpose"] = t.gettext("Choose one of the listed purposes.")
    return settings, rows, errors


async def _party(user: Any, entry: Any) -> dict[str, Any]:
    """The entry's customer by name (linked to the customer's page), never "customer 12"."""
    named = await party_names(user.tenant_id, [{"customer_id": entry.customer_id}], "customer_id", None)
    return {"customer": named["customer"].get(entry.customer_id) if entry.customer_id else None}


def _has_value(entry: Any) -> dict[int, bool]:
    return {fl.field_id: fl.has_value for fl in entry.fields}


class VaultPages(PageController):
    path = "/vault"

    async def _builder(self, request: Request[Any, Any, Any], user: Any, settings: dict[str, Any],
                       rows: list[dict[str, Any]], errors: dict[str, str] | None = None,
                       form_id: int | None = None, status: int = 200) -> Response[Any]:
        employees, groups = await _people(user.tenant_id)
        settings = {**settings, "creator": user.employee_id if form_id is None else None}
        start = max([r["index"] for r in rows], default=-1) + 1
        # A new field is encrypted unless unticked (#20.6): clear text is the deliberate choice.
        shown = list(rows) + [
            {"index": start + n, "id": None, "name": "", "type": "text", "encrypted": True}
            for n in range(BLANK_FIELD_ROWS)
        ]
        # Saved fields as stored: an encrypted one cannot be unticked; a plain one can be
        # ticked (its stored values are then encrypted), and is flagged when it looks secret.
        saved: dict[int, bool] = {}
        if form_id is not None:
            saved = {fl.id: fl.encrypted for fl in (await services.get_form(user, form_id)).fields}
        renumbered: dict[str, str] = {}
        for n, r in enumerate(shown):
            for key in ("field_name", "field_type", "field_encrypted"):
                if f"{key}.{r['index']}" in (errors or {}):
                    renumbered[f"{key}.{n}"] = (errors or {})[f"{key}.{r['index']}"]
            r["index"] = n
            r["saved_encrypted"] = saved.get(r["id"]) if r["id"] else None
            r["looks_secret"] = r["type"] == "password" or services.looks_secret(r["name"])
        errors = {k: v for k, v in (errors or {}).items() if not k.startswith("field_")} | renumbered
        return await render(
            request, "vault/form_builder.html",
            {"s": settings, "rows": shown, "errors": errors, "employees": employees,
             "groups": groups, "purposes": PURPOSES, "types": FIELD_TYPES, "form_id": form_id},
            status_code=status, user=user,
        )

    @page_get("/")
    async def index(
        self, request: Request[Any, Any, Any], purpose: Purpose = None, form_id: FormQ = None
    ) -> Response[Any]:
        user = await page_user(request)
        purpose = purpose if purpose in PURPOSES else None
        page = await services.list_entries(user, form_id, None, purpose, 0, 500)
        forms = await services.list_forms(user)
        names = await party_names(user.tenant_id, [{"customer_id": g.customer_id} for g in page.groups],
                                  "customer_id", None)
        return await render(
            request, "vault/index.html",
            {"page": page, "forms": forms, "purposes": PURPOSES, "purpose": purpose or "", "names": names,
             "form_id": form_id or "", "can_manage": services.can_manage(user)},
            user=user,
        )

    # --- forms ----------------------------------------------------------------------------

    @page_get("/forms/new")
    async def new_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        services.require_manager(user)
        # The creator is offered both lists (ticked, with a note): who builds a form usually
        # fills it in, and nobody is put on a list without seeing it.
        me = [user.employee_id]
        settings = {"name": "", "purpose": "customer", "auto_delete_days": None, "require_two_factor": False,
                    "plain_users": me, "plain_groups": [], "encrypted_users": me, "encrypted_groups": [],
                    "creator": user.employee_id}
        return await self._builder(request, user, settings, [])

    @page_post("/forms/new")
    async def create_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._save_builder(request, None)

    @page_get("/forms/{form_id:int}/edit")
    async def edit_form(self, request: Request[Any, Any, Any], form_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        services.require_manager(user)
        f = await services.get_form(user, form_id)
        access = f.access
        settings = {
            "name": f.name, "purpose": f.purpose, "auto_delete_days": f.auto_delete_days,
            "require_two_factor": f.require_two_factor,
            "plain_users": access.plain.users if access else [], "plain_groups": access.plain.groups if access else [],
            "encrypted_users": access.encrypted.users if access else [],
            "encrypted_groups": access.encrypted.groups if access else [],
        }
        rows = [{"index": n, "id": fl.id, "name": fl.name, "type": fl.type, "encrypted": fl.encrypted}
                for n, fl in enumerate(f.fields)]
        return await self._builder(request, user, settings, rows, form_id=form_id)

    @page_post("/forms/{form_id:int}/edit")
    async def update_form(self, request: Request[Any, Any, Any], form_id: FromPath[int]) -> Response[Any]:
        return await self._save_builder(request, form_id)

    async def _save_builder(self, request: Request[Any, Any, Any], form_id: int | None) -> Response[Any]:
        """The builder posted: a new form (``form_id`` None) or the form's new settings,
        fields and access lists; the builder again with the errors beside their fields."""
        user = await page_user(request)
        services.require_manager(user)
        form = await read_form_lists(request)
        t = t_for(request, user)
        settings, rows, errors = _builder_input(form, t)
        if not errors:
            access = AccessIn(
                plain=AccessListIn(users=settings["plain_users"], groups=settings["plain_groups"]),
                encrypted=AccessListIn(users=settings["encrypted_users"], groups=settings["encrypted_groups"]),
            )
            try:
                # a new form's fields have no id yet (whatever the post says)
                fields = [
                    FieldIn(name=r["name"][:120], type=r["type"], encrypted=r["encrypted"], order=n,
                            id=r["id"] if form_id is not None else None)
                    for n, r in enumerate(rows)
                ]
                if form_id is None:
                    created = await services.create_form(user, FormIn(
                        name=settings["name"], purpose=settings["purpose"], fields=fields,
                        auto_delete_days=settings["auto_delete_days"],
                        require_two_factor=settings["require_two_factor"], access=access,
                    ), client_ip(request))
                    form_id = created.id
                else:
                    await services.edit_form(user, form_id, FormPatch(
                        name=settings["name"], auto_delete_days=settings["auto_delete_days"],
                        require_two_factor=settings["require_two_factor"], fields=fields,
                    ), client_ip(request))
                    await services.replace_access(user, form_id, access, client_ip(request))
                return redirect(f"/vault?form_id={form_id}", t.gettext("The form is saved."))
            except msgspec.ValidationError:
                errors = {"_form": t.gettext("A name is too long (at most 120 characters).")}
            except GallraError as exc:
                errors = error_of(exc, t)
                shown = ("name", "purpose", "auto_delete_days", "_form")
                errors = {k if k in shown or k.startswith("field_") else "_form": v for k, v in errors.items()}
        return await self._builder(request, user, settings, rows, errors, form_id=form_id, status=400)

    # --- entries --------------------------------------------------------------------------

    @page_get("/entries/new")
    async def new_entry(self, request: Request[Any, Any, Any], form_id: FormQ = None) -> Response[Any]:
        user = await page_user(request)
        if form_id is None:
            raise NotFoundException("Choose a form first.")
        f = await services.get_form(user, form_id)
        return await render(request, "vault/entry_form.html",
                            {"f": f, "values": {}, "pick": await customer_pick(user.tenant_id, None)}, user=user)

    @page_post("/entries/new")
    async def create_entry(self, request: Request[Any, Any, Any], form_id: FormQ = None) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        if form_id is None:
            raise NotFoundException("Choose a form first.")
        f = await services.get_form(user, form_id)
        pick = await customer_pick(user.tenant_id, form.get("customer_id"), form.get("customer_id_search", ""))
        if form.get("_pick"):  # the customer list brought up to date (no JavaScript); nothing saved
            return await render(request, "vault/entry_form.html", {"f": f, "values": form, "pick": pick}, user=user)
        errors: dict[str, str] = {}
        customer_id = None
        if f.purpose == "customer":
            customer_id = an_id(form.get("customer_id")) or None
            if customer_id is None:
                errors["customer_id"] = t.gettext(CHOOSE_CUSTOMER)
        values = []
        for fl in f.fields:
            v = form.get(f"value.{fl.id}", "")
            if len(v) > 10_000:
                errors[f"value.{fl.id}"] = t.gettext("This is too long.")
            values.append(ValueIn(field_id=fl.id, value=v or None))
        if not errors:
            try:
                entry = await services.create_entry(
                    user, EntryIn(form_id=form_id, values=values, customer_id=customer_id),
                    client_ip(request),
                )
                return redirect(f"/vault?form_id={form_id}#entry-{entry.id}", t.gettext("The entry is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await render(request, "vault/entry_form.html",
                            {"f": f, "values": form, "errors": errors, "pick": pick}, 400, user=user)

    @page_get("/entries/{entry_id:int}/edit")
    async def edit_entry(self, request: Request[Any, Any, Any], entry_id: FromPath[int]) -> Response[Any]:
        """The entry's values to change: plain values as stored; an encrypted value is
        never shown ("•••• (unchanged)"), a new one replaces it, empty keeps it."""
        user = await page_user(request)
        entry = await services.get_entry(user, entry_id)
        services.require_editable(entry)
        f = await services.get_form(user, entry.form_id)
        values = {f"value.{fl.field_id}": fl.value or "" for fl in entry.fields if not fl.encrypted}
        return await render(request, "vault/entry_form.html", {
            "f": f, "entry": entry, "values": values, "has_value": _has_value(entry),
            "pick": await customer_pick(user.tenant_id, entry.customer_id),
        }, user=user)

    @page_post("/entries/{entry_id:int}/edit")
    async def update_entry(self, request: Request[Any, Any, Any], entry_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        entry = await services.get_entry(user, entry_id)
        services.require_editable(entry)
        f = await services.get_form(user, entry.form_id)
        pick = await customer_pick(user.tenant_id, form.get("customer_id"), form.get("customer_id_search", ""))
        context = {"f": f, "entry": entry, "has_value": _has_value(entry), "pick": pick}
        if form.get("_pick"):  # the customer list brought up to date (no JavaScript); nothing saved
            return await render(request, "vault/entry_form.html", {**context, "values": form}, user=user)
        errors: dict[str, str] = {}
        customer_id = None
        if f.purpose == "customer":
            customer_id = an_id(form.get("customer_id")) or None
            if customer_id is None:
                errors["customer_id"] = t.gettext(CHOOSE_CUSTOMER)
        values = []
        for fl in f.fields:
            v = form.get(f"value.{fl.id}", "")
            if len(v) > 10_000:
                errors[f"value.{fl.id}"] = t.gettext("This is too long.")
            if fl.encrypted or fl.type == "password":
                # never shown, so empty keeps the stored value; the box removes it
                if form.get(f"clear.{fl.id}") and not v:
                    values.append(ValueIn(field_id=fl.id, value=None))
                elif v:
                    values.append(ValueIn(field_id=fl.id, value=v))
            else:
                values.append(ValueIn(field_id=fl.id, value=v or None))
        if not errors:
            try:
                await services.edit_entry(
                    user, entry_id, EntryPatch(values=values, customer_id=customer_id), client_ip(request)
                )
                return redirect(f"/vault?form_id={f.id}#entry-{entry_id}", t.gettext("The entry is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        # Nothing typed into a secret field goes back to the browser.
        kept = {k: v for k, v in form.items() if not k.startswith("value.") or k in {
            f"value.{fl.id}" for fl in f.fields if not (fl.encrypted or fl.type == "password")}}
        return await render(request, "vault/entry_form.html", {**context, "values": kept, "errors": errors},
                            400, user=user)

    @page_post("/entries/{entry_id:int}/delete")
    async def delete_entry(self, request: Request[Any, Any, Any], entry_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        await services.delete_entry(user, entry_id, client_ip(request))
        return redirect("/vault", t.gettext("The entry is deleted."))

    @page_get("/entries/{entry_id:int}/reveal")
    async def reveal_form(self, request: Request[Any, Any, Any], entry_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        entry = await services.get_entry(user, entry_id)
        return await render(request, "vault/reveal.html", {"entry": entry, **await _party(user, entry)}, user=user)

    @page_post("/entries/{entry_id:int}/reveal")
    async def reveal(self, request: Request[Any, Any, Any], entry_id: FromPath[int]) -> Response[Any]:
        """The password first; when the form asks for an SMS code, the code form carries
        only the token of a pending step kept server-side (never the password), and the
        verified code finishes that step (services.reveal_pending)."""
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        entry = await services.get_entry(user, entry_id)
        party = await _party(user, entry)
        ctx = services.RevealContext(ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))
        pending = form.get("pending", "")
        password = form.get("password", "")
        if not pending and not password:
            errors = {"password": t.gettext("Write your password.")}
            return await render(request, "vault/reveal.html", {"entry": entry, "errors": errors, **party}, 400,
                                user=user)
        binder = new_token()
        token = None
        try:
            if pending:
                answer, complete = await services.reveal_pending(
                    user, entry_id, pending[:200], request.cookies.get(PENDING_COOKIE),
                    form.get("challenge_id") or None, ctx,
                )
                # Posted without a challenge: a new code was sent for the same step.
                token, binder = pending[:200], request.cookies.get(PENDING_COOKIE) or binder
            else:
                answer, complete, token = await services.reveal_and_keep_pending(
                    user, entry_id, password[:256], binder, ctx
                )
        except GallraError as exc:
            return await render(request, "vault/reveal.html",
                                {"entry": entry, "errors": {"password": exc.text(t)}, **party}, exc.status, user=user)
        if not complete and answer.second_factor is not None and token is not None:
            response = await render(
                request, "second_factor.html",
                second_factor_context(answer.second_factor, f"/vault/entries/{entry_id}/reveal",
                                      {"pending": token}, "sign", t.gettext("Show encrypted data")),
                user=user,
            )
            response.cookies.append(private_cookie(
                request, PENDING_COOKIE, binder, int(services.PENDING_TTL.total_seconds()), path="/vault"
            ))
            return response
        response = await render(request, "vault/reveal.html",
                                {"entry": entry, "revealed": answer.values, **party}, user=user)
        if pending:
            response.delete_cookie(PENDING_COOKIE, path="/vault")
        return response


def pages() -> list[Any]:
    return [VaultPages]
