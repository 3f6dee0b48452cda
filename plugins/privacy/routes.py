"""/api/privacy: the organization's GDPR paperwork (the module labelled "GDPR").

* ``/api/privacy/activities``: the record of processing activities (article 30), one row
  per processing activity; ``POST /activities/prefill`` adds one per module in use.
* ``/api/privacy/inventory``: what the modules really store (``/system``), signing with
  an SMS code (``/sign``, two-factor context ``gdpr_inventory``), the signed versions and
  the export as a readable HTML document or JSON (``/export``).
* ``/api/privacy/incidents``: the personal-data breach log (article 33) with the 72-hour
  notification deadline; ``/notify-authority`` and ``/notify-subjects`` record the
  notifications.
* ``/api/privacy/contacts``: the data-protection officer and other GDPR contacts.

Activities, incidents and contacts are records of the record layer: their list, create,
get, edit, close/reopen and delete are :func:`core.routes.records.record_router`'s. This
module has what is the GDPR module's own. Everything here needs the "gdpr" permission
(administrators have it): :data:`GDPR_ONLY` guards every route (403), and the specs'
``can_open`` says the same for activity and person search.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.errors import mark as _
from core.listing import Limit, Offset
from core.records.shapes import out_of
from core.routes.records import record_router
from core.routes.schemas import Id
from core.routes.signing import second_factor_required
from core.web import AuthUser, permission_guard
from plugins.privacy import export, gdpr, services
from plugins.privacy.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
    IncidentIn,
    IncidentOut,
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

AnyRequest = Request[Any, Any, Any]
GDPR_ONLY = permission_guard(
    gdpr.PERMISSION, _("Only an administrator or a member of a group with the GDPR permission may do this.")
)
Overdue = Annotated[bool | None, QueryParameter(
    required=False, description="true: past the 72 hours without a notification to the authority.")]


async def activity_out(row: dict[str, Any]) -> ActivityOut:
    return out_of(ActivityOut, await services.activity_out(row))


def incident_out(row: dict[str, Any]) -> IncidentOut:
    return out_of(IncidentOut, services.incident_dict(row))


class ActivitiesController(Controller):
    path = "/api/privacy/activities"
    tags = ("privacy",)
    guards = (GDPR_ONLY,)

    @post("/prefill", status_code=HTTP_201_CREATED)
    async def prefill(self, request: AnyRequest, user: AuthUser) -> PrefillOut:
        """One activity per module in use that stores personal data and is not covered yet,
        with the categories and retention the module declares; purpose and legal basis are
        left for you to fill in."""
        created, skipped = await services.prefill(user.tenant_id, user.employee_id)
        return PrefillOut(created=[await activity_out(r) for r in created], skipped=skipped)


# --- the inventory: system view, signing, versions, export ------------------------------


def _version_out(row: dict, with_content: bool = True) -> VersionOut:
    return out_of(VersionOut, services.version_dict(row, with_content))


class InventoryController(Controller):
    path = "/api/privacy/inventory"
    tags = ("privacy",)
    guards = (GDPR_ONLY,)

    @get("/system")
    async def system(self, user: AuthUser) -> SystemOut:
        """What every installed module stores about whom and for how long, from its
        declarations and the organization's retention settings."""
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
        found = await services.list_versions(user.tenant_id, offset, limit)
        return VersionPage.of(offset, limit, found, lambda r: _version_out(r, with_content=False))

    @get("/versions/{version_id:int}")
    async def version(self, user: AuthUser, version_id: Id) -> VersionOut:
        """One signed version of the inventory, with its content as signed."""
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
        document = await export.build(user.tenant_id, version)
        if format == "json":
            return Response(document, media_type="application/json")
        return Response(
            export.render_html(document),
            media_type="text/html; charset=utf-8",
        )


class IncidentsController(Controller):
    """An incident's notifications (article 33 to the authority, article 34 to the people)."""

    path = "/api/privacy/incidents"
    tags = ("privacy",)
    guards = (GDPR_ONLY,)

    @post("/{incident_id:int}/notify-authority", status_code=HTTP_200_OK)
    async def notify_authority(
        self, request: AnyRequest, user: AuthUser, incident_id: Id, data: JSONBody[NotifyIn]
    ) -> IncidentOut:
        """Record that the supervisory authority was notified (default: now)."""
        return incident_out(await services.notify(user.tenant_id, incident_id, "authority", data))

    @post("/{incident_id:int}/notify-subjects", status_code=HTTP_200_OK)
    async def notify_subjects(
        self, request: AnyRequest, user: AuthUser, incident_id: Id, data: JSONBody[NotifyIn]
    ) -> IncidentOut:
        """Record that the people affected were told (article 34; default: now)."""
        return incident_out(await services.notify(user.tenant_id, incident_id, "subjects", data))


def route_handlers() -> list[Any]:
    guards = (GDPR_ONLY,)
    return [
        record_router(services.ACTIVITIES, ActivityIn, ActivityPatch, ActivityOut, module=__name__,
                      output=activity_out, guards=guards),
        record_router(services.INCIDENTS, IncidentIn, IncidentPatch, IncidentOut, module=__name__,
                      output=incident_out, guards=guards, list_params=[("overdue", Overdue)],
                      scope=lambda user, params: services.overdue_where(params.get("overdue"))),
        record_router(services.CONTACTS, ContactIn, ContactPatch, ContactOut, module=__name__, guards=guards),
        ActivitiesController,
        InventoryController,
        IncidentsController,
    ]
