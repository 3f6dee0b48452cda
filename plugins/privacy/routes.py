"""/api/privacy: the organization's GDPR paperwork (the module labelled "GDPR").

* ``/api/privacy/activities``: the record of processing activities (article 30), one row
  per processing activity; ``POST /activities/prefill`` adds one per module in use.
* ``/api/privacy/inventory``: what the modules really store (``/system``), signing with
  an SMS code (``/sign``, two-factor context ``gdpr_inventory``), the signed versions and
  the export as a readable HTML document or JSON (``/export``).
* ``/api/privacy/incidents``: the personal-data breach log (article 33) with the 72-hour
  notification deadline.
* ``/api/privacy/contacts``: the data-protection officer and other GDPR contacts.

Everything here needs the "gdpr" permission (administrators have it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.listing import Limit, Offset
from core.records.shapes import out_of
from core.routes.schemas import Id
from core.routes.signing import second_factor_required
from core.web import AuthUser
from plugins.privacy import export, services
from plugins.privacy.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IncidentPatch,
    ModuleProcessing,
    NotifyIn,
    PrefillOut,
    RuleSummary,
    SignIn,
    SignOut,
    SystemOut,
    VersionOut,
    VersionPage,
)

PLUGIN = "privacy"
TextFilter = Annotated[str | None, QueryParameter(max_length=16)]
AnyRequest = Request[Any, Any, Any]
PERMISSION = "gdpr"


def gdpr_user(user: SessionUser) -> SessionUser:
    """GDPR paperwork is for administrators and members of a group with "gdpr"."""
    if not user.can(PERMISSION):
        raise PermissionDeniedException(
            "Only an administrator or a member of a group with the GDPR permission may do this."
        )
    return user


# --- processing activities ------------------------------------------------------------


async def _activity_out(tenant_id: int, rows: list[dict]) -> list[ActivityOut]:
    system = await services.system_processing(tenant_id)
    return [out_of(ActivityOut, services.activity_dict(r, system)) for r in rows]


class ActivitiesController(Controller):
    path = "/api/privacy/activities"
    tags = ("privacy",)

    @get("/")
    async def list_activities(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        include_deleted: FromQuery[bool] = False,
    ) -> ActivityPage:
        """The processing activities in number order, each checked against the system."""
        gdpr_user(user)
        total, rows = await services.list_activities(user.tenant_id, offset, limit, include_deleted)
        return ActivityPage.of(offset, limit, (total, await _activity_out(user.tenant_id, rows)))

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[ActivityIn]
    ) -> ActivityOut:
        gdpr_user(user)
        row = await services.create_activity(user.tenant_id, user.employee_id, data)
        return (await _activity_out(user.tenant_id, [row]))[0]

    @post("/prefill", status_code=HTTP_201_CREATED)
    async def prefill(self, request: AnyRequest, user: AuthUser) -> PrefillOut:
        """One activity per module in use that stores personal data and is not covered yet,
        with the categories and retention the module declares; purpose and legal basis are
        left for you to fill in."""
        gdpr_user(user)
        created, skipped = await services.prefill(user.tenant_id, user.employee_id)
        return PrefillOut(created=await _activity_out(user.tenant_id, created), skipped=skipped)

    @get("/{activity_id:int}")
    async def get_one(self, user: AuthUser, activity_id: Id) -> ActivityOut:
        gdpr_user(user)
        row = await services.get_activity(user.tenant_id, activity_id)
        return (await _activity_out(user.tenant_id, [row]))[0]

    @patch("/{activity_id:int}")
    async def edit(
        self, request: AnyRequest, user: AuthUser, activity_id: Id, data: JSONBody[ActivityPatch]
    ) -> ActivityOut:
        gdpr_user(user)
        row = await services.edit_activity(user.tenant_id, activity_id, data)
        return (await _activity_out(user.tenant_id, [row]))[0]

    @delete("/{activity_id:int}", status_code=HTTP_200_OK)
    async def remove(self, request: AnyRequest, user: AuthUser, activity_id: Id) -> ActivityOut:
        """Soft delete: signed versions keep their copy of the activity."""
        gdpr_user(user)
        row = await services.delete_activity(user.tenant_id, activity_id)
        return (await _activity_out(user.tenant_id, [row]))[0]


# --- the inventory: system view, signing, versions, export ------------------------------


def _version_out(row: dict, with_content: bool = True) -> VersionOut:
    return out_of(VersionOut, services.version_dict(row, with_content))


class InventoryController(Controller):
    path = "/api/privacy/inventory"
    tags = ("privacy",)

    @get("/system")
    async def system(self, user: AuthUser) -> SystemOut:
        """What every installed module stores about whom and for how long, from its
        declarations and the organization's retention settings."""
        gdpr_user(user)
        facts = await services.system_processing(user.tenant_id)
        return SystemOut(
            modules=[
                out_of(ModuleProcessing, f, retention=[RuleSummary(**r) for r in f.retention])
                for f in facts.values()
            ]
        )

    @post("/sign", status_code=HTTP_201_CREATED)
    async def sign(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[SignIn]
    ) -> Response[SignOut]:
        """Sign the inventory as it stands now; the previous version is kept, superseded.

        When the organization has SMS signing of the GDPR inventory on, the first call
        answers 202 with a challenge and stores nothing; after the code was entered at
        ``POST /api/twofactor/challenges/{id}/verify``, call again with ``challenge_id``.
        """
        gdpr_user(user)
        version, decision = await services.sign(
            user, data.note, data.challenge_id, request.headers.get("user-agent", "")
        )
        if version is None:
            return second_factor_required(SignOut, decision, request=request)
        return Response(
            SignOut(status="signed", version=_version_out(version)), status_code=HTTP_201_CREATED
        )

    @get("/versions")
    async def versions(self, user: AuthUser, offset: Offset = 0, limit: Limit = 50) -> VersionPage:
        """Every signed version, newest first (without their content)."""
        gdpr_user(user)
        found = await services.list_versions(user.tenant_id, offset, limit)
        return VersionPage.of(offset, limit, found, lambda r: _version_out(r, with_content=False))

    @get("/versions/{version_id:int}")
    async def version(self, user: AuthUser, version_id: Id) -> VersionOut:
        """One signed version of the inventory, with its content as signed."""
        gdpr_user(user)
        return _version_out(await services.get_version(user.tenant_id, version_id))

    @get("/export")
    async def export(
        self,
        user: AuthUser,
        format: FromQuery[Literal["html", "json"]] = "html",
        version: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
    ) -> Response[dict[str, Any] | str]:
        """The inventory as a readable document (HTML) or as JSON: the current one, or the
        signed version with that number."""
        gdpr_user(user)
        document = await export.build(user.tenant_id, version)
        if format == "json":
            return Response(document, media_type="application/json")
        return Response(
            export.render_html(document),
            media_type="text/html; charset=utf-8",
        )


# --- incidents ------------------------------------------------------------------------


def _incident_out(row: dict) -> IncidentOut:
    return out_of(IncidentOut, services.incident_dict(row))


class IncidentsController(Controller):
    path = "/api/privacy/incidents"
    tags = ("privacy",)

    @get("/")
    async def list_incidents(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        status: TextFilter = None,
        overdue: FromQuery[bool | None] = None,
        include_deleted: FromQuery[bool] = False,
    ) -> IncidentPage:
        """The breach log, newest first; ``overdue=true`` lists those past the 72 hours
        without a notification to the supervisory authority."""
        gdpr_user(user)
        found = await services.list_incidents(user.tenant_id, offset, limit, status, overdue, include_deleted)
        return IncidentPage.of(offset, limit, found, _incident_out)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[IncidentIn]
    ) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.create_incident(user.tenant_id, user.employee_id, data))

    @get("/{incident_id:int}")
    async def get_one(self, user: AuthUser, incident_id: Id) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.get_incident(user.tenant_id, incident_id))

    @patch("/{incident_id:int}")
    async def edit(
        self, request: AnyRequest, user: AuthUser, incident_id: Id, data: JSONBody[IncidentPatch]
    ) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.edit_incident(user.tenant_id, incident_id, data))

    @post("/{incident_id:int}/notify-authority", status_code=HTTP_200_OK)
    async def notify_authority(
        self, request: AnyRequest, user: AuthUser, incident_id: Id, data: JSONBody[NotifyIn]
    ) -> IncidentOut:
        """Record that the supervisory authority was notified (default: now)."""
        gdpr_user(user)
        return _incident_out(await services.notify(user.tenant_id, incident_id, "authority", data))

    @post("/{incident_id:int}/notify-subjects", status_code=HTTP_200_OK)
    async def notify_subjects(
        self, request: AnyRequest, user: AuthUser, incident_id: Id, data: JSONBody[NotifyIn]
    ) -> IncidentOut:
        """Record that the people affected were told (article 34; default: now)."""
        gdpr_user(user)
        return _incident_out(await services.notify(user.tenant_id, incident_id, "subjects", data))

    @post("/{incident_id:int}/close", status_code=HTTP_200_OK)
    async def close(self, request: AnyRequest, user: AuthUser, incident_id: Id) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.close_incident(user.tenant_id, incident_id))

    @post("/{incident_id:int}/reopen", status_code=HTTP_200_OK)
    async def reopen(self, request: AnyRequest, user: AuthUser, incident_id: Id) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.reopen_incident(user.tenant_id, incident_id))

    @delete("/{incident_id:int}", status_code=HTTP_200_OK)
    async def remove(self, request: AnyRequest, user: AuthUser, incident_id: Id) -> IncidentOut:
        gdpr_user(user)
        return _incident_out(await services.delete_incident(user.tenant_id, incident_id))


# --- GDPR contact persons -------------------------------------------------------------


def _contact_out(row: dict) -> ContactOut:
    return out_of(ContactOut, services.contact_dict(row))


class ContactsController(Controller):
    path = "/api/privacy/contacts"
    tags = ("privacy",)

    @get("/")
    async def list_contacts(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        role: TextFilter = None,
        include_deleted: FromQuery[bool] = False,
    ) -> ContactPage:
        gdpr_user(user)
        found = await services.list_contacts(user.tenant_id, offset, limit, role, include_deleted)
        return ContactPage.of(offset, limit, found, _contact_out)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[ContactIn]
    ) -> ContactOut:
        gdpr_user(user)
        return _contact_out(await services.create_contact(user.tenant_id, data))

    @get("/{contact_id:int}")
    async def get_one(self, user: AuthUser, contact_id: Id) -> ContactOut:
        gdpr_user(user)
        return _contact_out(await services.get_contact(user.tenant_id, contact_id))

    @patch("/{contact_id:int}")
    async def edit(
        self, request: AnyRequest, user: AuthUser, contact_id: Id, data: JSONBody[ContactPatch]
    ) -> ContactOut:
        gdpr_user(user)
        return _contact_out(await services.edit_contact(user.tenant_id, contact_id, data))

    @delete("/{contact_id:int}", status_code=HTTP_200_OK)
    async def remove(self, request: AnyRequest, user: AuthUser, contact_id: Id) -> ContactOut:
        """Soft delete; anonymized at once when the organization chose "immediately"."""
        gdpr_user(user)
        return _contact_out(await services.delete_contact(user.tenant_id, contact_id))


def route_handlers() -> list[Any]:
    return [
        ActivitiesController,
        InventoryController,
        IncidentsController,
        ContactsController,
    ]
