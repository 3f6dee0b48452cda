"""The vault's record: a vault entry (secure data kept for a customer by a form), declared
once; personal data, the retention rule, the record type and person search's places are
derived from it. The rest of the vault (forms, access lists, the decryption log, pending
reveals, key versions) are settings and logs, not records: :mod:`plugins.vault.gdpr`
keeps declaring them.

Decisions worth knowing:

* **Auto-delete (M12)** is the fixed rule ``vault_entries`` (the spec below):
  its clock is the entry's own ``delete_after`` and it runs in mode "immediately".
* Entries are not served by the generated record routes: who reads and changes an entry is
  the form's access lists, and reading a secret field takes a second factor
  (:mod:`plugins.vault.services`). The spec declares; the vault's services decide, and
  they read an entry and refuse a missing one through the record layer
  (``services.ENTRIES``).
* Person search shows an entry hit under a place named after the column that matched
  (customer, created by, changed by), in the module's "workcloud" group: one place per
  column (``Place.columns``). The values, plain or encrypted, and the wrapped data key are
  never searched (``search=False``, or not personal): an entry hit shows the form's name.
* ``can_open`` is :func:`can_open_entry`: either of the form's lists sees an entry, only
  the plain list changes it.
"""

from __future__ import annotations

from typing import Any

from core.contracts import Field, Place, RecordSpec, RetentionRule
from plugins.vault.tables import VaultEntry

ENTRY_RULE = "vault_entries"


async def can_open_entry(user: Any, entry: dict[str, Any], write: bool) -> bool:
    """As the entry routes decide (services module docstring): either of the form's
    lists sees an entry, the plain list changes it."""
    from plugins.vault.services import PLAIN, access_map

    form_id = int(entry["form_id"])
    access = (await access_map(user.tenant_id, user.employee_id, [form_id])).get(form_id, set())
    return PLAIN in access if write else bool(access)


def _entry_link(entry_id: int) -> str:
    return f"/api/vault/entries/{entry_id}"


VAULT_ENTRY = RecordSpec(
    name="vault_entry", table=VaultEntry, label_sv="Säkra uppgifter", label_en="Secure data",
    title_column=None, number_column="form_name", soft_delete=False,
    link=_entry_link, can_open=can_open_entry,
    fields=(
        Field("customer_id", "customer_ref", "delete_row", "Kund (säkra uppgifter)",
              "Customer (secure data)"),
        Field("plain_values", "free_text", "delete_row", "Okrypterade värden",
              "Unencrypted values", rule=ENTRY_RULE, search=False),
        Field("secret_values", "free_text", "delete_row", "Krypterade värden",
              "Encrypted values", rule=ENTRY_RULE, search=False),
        Field("created_by", "employee_ref", "zero", "Skapad av", "Created by"),
        Field("updated_by", "employee_ref", "zero", "Ändrad av", "Changed by"),
    ),
    places=(
        Place("Säkra uppgifter (formulär)", "Secure data (form)", columns=("customer_id",)),
        Place("Säkra uppgifter – skapad av", "Secure data – created by", columns=("created_by",)),
        Place("Säkra uppgifter – ändrad av", "Secure data – changed by", columns=("updated_by",)),
    ),
    not_personal=(
        (("form_name",), "the name of the entry's form"),
        (("wrapped_key",), "the entry's data key, encrypted"),
    ),
    rules=(
        RetentionRule(
            key=ENTRY_RULE, label_sv="Säkra uppgifter – automatisk radering",
            label_en="Secure data – automatic deletion", clock="created",
            clock_columns=("delete_after",), allowed_modes=("immediately",),
            default_mode="immediately", fixed=True,
        ),
    ),
)

# What the plugin declares (declare_records).
RECORDS = (VAULT_ENTRY,)
