"""What the customer portal declares about personal data and two-factor steps, and what it
does when its people are anonymized.

A portal account is personal data of the customer register's people: it is declared under
that register's retention rules "customers" (M14) and "contact_persons" (M15) as a child
of the person (``customer_id``, which covers a customer's contact persons' accounts too,
and ``contact_id``). The engine nulls the declared columns through those parent links and
calls this plugin's ``anonymize`` for those rules too (core.gdpr.engine: every plugin that
declared child fields of a rule): the accounts close, their sessions and links go.
"""

from __future__ import annotations

from core.contracts import AnonymizeContext, NotPersonal, PersonalDataField, SearchSource, TwoFactorContext
from plugins.portal.services import (
    CONTEXT_CONVERSATIONS,
    CONTEXT_LOGIN,
    CONTEXT_RESET,
    MODULE,
    close_accounts,
)
from plugins.portal.tables import PortalAccount, PortalApprovalStep, PortalPending

PEOPLE_PLUGIN = "customers"
"""The plugin owning the retention rules the accounts are declared under."""

# Items 3-5 of M4. The employee contexts (10, 20) and signing contexts (60-90) of other
# modules sort around these.
TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext(
        CONTEXT_LOGIN,
        "Kundportal – inloggning från ny enhet",
        "Customer portal – login from a new device",
        module=MODULE,
        order=30,
        purpose="login",
    ),
    TwoFactorContext(
        CONTEXT_RESET,
        "Kundportal – återställning av lösenord",
        "Customer portal – password reset",
        module=MODULE,
        order=40,
        purpose="reset",
    ),
    TwoFactorContext(
        CONTEXT_CONVERSATIONS,
        "Kundkonversationer – första lösenordet och återställning",
        "Customer conversations – first password and reset",
        module=MODULE,
        order=50,
        purpose="reset",
    ),
]

PLACE_SV = "Kundregister"
PLACE_EN = "Customer register"


def account_link(record_id: int) -> str:
    return f"/api/customers/portal-accounts/{record_id}"


# (column, category, strategy, label_sv, label_en)
ACCOUNT_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("email", "email", "null", "Kundportal, inloggning (e-post)", "Customer portal, login (e-mail)"),
    ("password_hash", "other", "null", "Kundportal, lösenord (hash)", "Customer portal, password hash"),
)

# The accounts, pending steps and approval steps are no records (no number, no pages of
# their own, no delete): their personal data is declared field by field. Sessions and link
# tokens are the core's and hold no personal data beyond the link.
PERSONAL_DATA: list[PersonalDataField | NotPersonal] = [
    NotPersonal(PortalAccount, ("person_kind",), "a choice from a fixed list"),
    NotPersonal(
        PortalPending,
        ("token_hash", "binder_hash", "purpose", "password_hash"),
        "hashes of secrets and the step's purpose",
    ),
    NotPersonal(PortalApprovalStep, ("challenge_hash", "kind"), "a challenge's hash, its kind"),
    *(
        PersonalDataField(
            PortalAccount, column, category, strategy, sv, en,  # type: ignore[arg-type]
            rule=rule, parent_column=parent,
        )
        for column, category, strategy, sv, en in ACCOUNT_FIELDS
        for rule, parent in (("customers", "customer_id"), ("contact_persons", "contact_id"))
    ),
]

# The account's login e-mail. Never the password hash: person search indexes and shows
# identifiers only (the core refuses a hash column).
SEARCH_SOURCES: list[SearchSource] = [
    SearchSource(PortalAccount, "email", "email", "workcloud", PLACE_SV, PLACE_EN, link=account_link),
]


async def anonymize(context: AnonymizeContext) -> None:
    """An anonymized customer's or contact person's accounts close for good.

    The engine already nulled the declared columns (e-mail, password hash) through the
    parent links; here the accounts get their markers and every session and link token
    of them is deleted. For rule "customers" that includes the accounts of the
    customer's contact persons (``customer_id`` holds the customer for both kinds).
    """
    if context.rule == "customers":
        where = PortalAccount.customer_id.is_in(list(context.record_ids))
    elif context.rule == "contact_persons":
        where = PortalAccount.contact_id.is_in(list(context.record_ids))
    else:
        return
    if not context.record_ids:
        return
    rows = await PortalAccount.select(PortalAccount.id).where((PortalAccount.tenant_id == context.tenant_id) & where)
    ids = [int(r["id"]) for r in rows]
    if not ids:
        return
    await close_accounts(context.tenant_id, ids, context.now)
    await PortalAccount.update(
        {
            PortalAccount.anonymized_at: context.now,
            PortalAccount.email: None,
            PortalAccount.password_hash: None,
        }
    ).where(
        (PortalAccount.tenant_id == context.tenant_id)
        & PortalAccount.id.is_in(ids)
        & PortalAccount.anonymized_at.is_null()
    )
