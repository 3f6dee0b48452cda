"""Every reference a record makes to a customer or a contact person is checked, in one place.

A record of any module (case, work order, order, quote, project, time report, expense, vault
entry) may name a customer (``customer_id``) and a contact person of that customer
(``contact_person_id``); 0 (or ``None``) names nobody. :func:`check_party` is what each
module's service calls on create and on update, so a page, the API and the CLI refuse alike,
with a 400 naming the field (:class:`core.validation.FieldError`, a translatable message and a
stable code: ``reference.no_customer``, ``reference.no_contact``, ``reference.not_their_contact``,
``reference.no_register``):

* the customer exists in the same organization (not another's, not deleted);
* the contact person exists in the same organization and belongs to the chosen customer
  (a contact person without a customer belongs to none, so is refused too).

The core imports no plugin: the plugin that owns the customer register answers through the
``look_up_party`` hook (``core.contracts.PartyFound``). That hook reaches every installed
plugin, also when the organization turned the customer module off: its data still exists, so
a reference to an existing customer of the same organization stays fine, and one to another
organization's or a missing customer is still refused. When no installed plugin answers
(no customer register at all), any id other than 0 is refused: nothing can vouch for it
(fail closed).

On update, pass the record as it is (``before``): fields given as ``None`` keep their stored
value, and a pair that does not change is not checked again (a page posting the whole form
back does not fail on a customer deleted since). A changed customer re-checks the contact
person kept with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import _
from core.validation import FieldError

CUSTOMER_FIELD = "customer_id"
CONTACT_FIELD = "contact_person_id"

# Messages people see beside the field (in the catalogs: extraction reads every raise).
NO_CUSTOMER = _("There is no such customer in this organization.")
NO_CONTACT = _("There is no such contact person in this organization.")
NOT_THEIR_CONTACT = _("This contact person does not belong to the chosen customer.")
NO_REGISTER = _(
    "Customers cannot be checked here: no customer register is installed. Leave the field empty."
)


async def check_party(
    tenant_id: int,
    customer_id: int | None,
    contact_person_id: int | None = None,
    before: Mapping[str, Any] | None = None,
) -> None:
    """Refuse (FieldError naming the field) a customer or contact person the record may not
    name; see the module docstring. ``None`` means "not given": on create nobody, on update
    the stored value of ``before``."""
    if before is not None:
        old = (int(before.get(CUSTOMER_FIELD) or 0), int(before.get(CONTACT_FIELD) or 0))
        customer = old[0] if customer_id is None else int(customer_id)
        contact = old[1] if contact_person_id is None else int(contact_person_id)
        if (customer, contact) == old:
            return
    else:
        customer, contact = int(customer_id or 0), int(contact_person_id or 0)
    if not customer and not contact:
        return
    answers = await _look_up(tenant_id, customer, contact)
    if not answers:
        raise FieldError(CUSTOMER_FIELD if customer else CONTACT_FIELD, NO_REGISTER, code="reference.no_register")
    if customer and not any(a.customer for a in answers):
        raise FieldError(CUSTOMER_FIELD, NO_CUSTOMER, code="reference.no_customer")
    if contact:
        owners = {a.contact_customer_id for a in answers} - {None}
        if not owners:
            raise FieldError(CONTACT_FIELD, NO_CONTACT, code="reference.no_contact")
        if customer not in owners:
            raise FieldError(CONTACT_FIELD, NOT_THEIR_CONTACT, code="reference.not_their_contact")


async def _look_up(tenant_id: int, customer_id: int, contact_person_id: int) -> list[Any]:
    """Every answer of ``look_up_party`` from the installed plugins (enabled or not); one
    register vouching for a customer (or a contact person of it) is enough."""
    from core.plugins import await_me_maybe, get_host

    found = []
    for answer in get_host().pm.hook.look_up_party(
        tenant_id=tenant_id, customer_id=customer_id, contact_person_id=contact_person_id
    ):
        answer = await await_me_maybe(answer)
        if answer is not None:
            found.append(answer)
    return found
