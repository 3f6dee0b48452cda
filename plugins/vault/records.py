"""The vault's record: a vault entry (secure data kept for a customer by a form), declared
once. The rest of the vault (forms, access lists, the decryption log, pending reveals, key
versions) are settings and logs, not records: :mod:`plugins.vault.gdpr` keeps declaring them.

Decisions worth knowing:

* **Auto-delete (M12)** is the fixed rule ``vault_entries`` (the spec below):
  its clock is the entry's own ``delete_after`` and it runs in mode "immediately".
* Entries are not served by the generated record routes: who reads and changes an entry is
  the form's access lists, and reading a secret field takes a second factor
  (:mod:`plugins.vault.services`). The spec declares; the vault's services decide.
* Person search must show an entry hit under a place named after the column that matched
  (customer, created by, changed by), in the "workcloud" group, which one spec's places
  cannot say: the entry's fields are therefore ``search=False`` here and their search
  sources stay in :func:`plugins.vault.gdpr.search_sources`. The values, plain or
  encrypted, are never searched.
* ``can_open`` is :func:`can_open_entry`: either of the form's lists sees an entry, only
  the plain list changes it.
"""

from __future__ import annotations

from typing import Any

from core.contracts import Field, RecordSpec, RetentionRule
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
              "Customer (secure data)", search=False),
        Field("plain_values", "free_text", "delete_row", "Okrypterade värden",
              "Unencrypted values", rule=ENTRY_RULE, search=False),
        Field("secret_values", "free_text", "delete_row", "Krypterade värden",
              "Encrypted values", rule=ENTRY_RULE, search=False),
        Field("created_by", "employee_ref", "zero", "Skapad av", "Created by", search=False),
        Field("updated_by", "employee_ref", "zero", "Ändrad av", "Changed by", search=False),
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
