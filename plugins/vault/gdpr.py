"""The vault's GDPR declarations of what is not a record; the core's engine runs them.

The entry is a record, declared once in :mod:`plugins.vault.records` (its personal data,
rule ``vault_entries``, record type and search places are derived from that spec). Here:
the forms, access lists, decryption log, pending reveals and key versions, which are
settings and logs, not records.

* **Auto-delete (M12)** is the fixed rule ``vault_entries``. Each entry carries its own
  deadline, ``delete_after = created_at + the form's auto_delete_days``, as the rule's
  clock column, and the rule runs in mode "immediately": the engine's sweep deletes every
  entry whose deadline has passed (the ``delete_row`` fields make it delete rows) and
  writes the run to ``gdpr_run`` like every other rule. Deleting the row deletes the
  entry's wrapped data key with its ciphertexts (crypto-shredding). A form without
  auto-delete leaves ``delete_after`` null, which is never due.
* **Erasure of a customer** deletes the customer's entries: ``customer_id`` is a
  ``customer_ref`` with strategy ``delete_row``, so when the customers plugin's rule (or an
  erasure) anonymizes a customer, the core deletes the entries that reference it.
* The reveal audit log (who, entry, field names, time, IP) is deleted after 3 months,
  like the product's other logs (M24): the fixed rule ``vault_audit``.
* Person search finds a customer's entries by the customer link and shows the form's name
  (record type ``vault_entry``, number column ``form_name``). It never indexes an entry's
  values, plain or encrypted, and shows an entry's value only to an employee on the form's
  access lists (the record spec's ``can_open``: :func:`plugins.vault.records.can_open_entry`).
"""

from __future__ import annotations

from core.contracts import (
    NotPersonal,
    PersonalDataField,
    RetentionRule,
    SearchSource,
    TwoFactorContext,
)
from plugins.vault.tables import (
    VaultAccess,
    VaultAudit,
    VaultField,
    VaultForm,
    VaultKeyVersion,
    VaultPending,
)

AUDIT_RULE = "vault_audit"
AUDIT_DAYS = 90


def _access_link(access_id: int) -> str:
    return f"/api/vault/access/{access_id}"


def _audit_link(audit_id: int) -> str:
    return f"/api/vault/audit/{audit_id}"


def personal_data() -> list[PersonalDataField | NotPersonal]:
    """The vault's settings and logs; the entry is declared in :mod:`plugins.vault.records`."""
    return [
        PersonalDataField(
            VaultAccess, "employee_id", "employee_ref", "delete_row",
            "Behörighet till formulär", "Access to a form",
        ),
        PersonalDataField(
            VaultAudit, "employee_id", "employee_ref", "zero",
            "Användare i dekrypteringslogg", "User in decryption log",
        ),
        PersonalDataField(
            VaultPending, "employee_id", "employee_ref", "delete_row",
            "Påbörjad dekryptering (väntar på SMS-kod)",
            "Started decryption (waiting for an SMS code)",
        ),
        PersonalDataField(
            VaultAudit, "ip", "ip", "delete_row",
            "IP-nummer i dekrypteringslogg", "IP address in decryption log",
            rule=AUDIT_RULE,
        ),
        NotPersonal(
            VaultForm, ("name", "purpose"),
            "a form's definition, written once for every customer, not about one person",
        ),
        NotPersonal(VaultField, ("name", "kind"), "a form field's name and kind"),
        NotPersonal(VaultAccess, ("level",), "a choice from a fixed list"),
        NotPersonal(VaultAudit, ("action", "outcome", "field_names"), "what was done, to what"),
        NotPersonal(VaultKeyVersion, ("check_value", "status"), "key-check material, the state"),
        NotPersonal(VaultPending, ("token_hash", "binder_hash"), "hashes of a one-time step"),
    ]


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=AUDIT_RULE,
            label_sv="Säkra uppgifter – logg över dekrypteringar",
            label_en="Secure data – decryption log",
            clock="created",
            table=VaultAudit,
            clock_columns=("at",),
            allowed_modes=("days",),
            default_mode="days",
            default_days=AUDIT_DAYS,
            fixed=True,
        ),
    ]


def search_sources() -> list[SearchSource]:
    """Where person search looks besides the entries (whose places the record spec
    derives): who may read a form, and the decryption log. Never the values, plain or
    encrypted: they are what the form's access lists guard, and the index is readable by
    every GDPR searcher."""
    place_sv, place_en = "Säkra uppgifter", "Secure data"
    return [
        SearchSource(VaultAccess, "employee_id", "employee_ref", "settings",
                     f"{place_sv} – behörigheter", f"{place_en} – access lists", link=_access_link),
        SearchSource(VaultAudit, "employee_id", "employee_ref", "settings",
                     f"{place_sv} – dekrypteringslogg", f"{place_en} – decryption log", link=_audit_link),
        SearchSource(VaultPending, "employee_id", "employee_ref", "settings",
                     f"{place_sv} – påbörjad dekryptering", f"{place_en} – started decryption"),
        SearchSource(VaultAudit, "ip", "ip", "settings",
                     f"{place_sv} – dekrypteringslogg", f"{place_en} – decryption log", link=_audit_link),
    ]


def two_factor_contexts() -> list[TwoFactorContext]:
    return [
        TwoFactorContext(
            key="vault_decrypt",
            label_sv="Säkra uppgifter – dekryptering",
            label_en="Secure data – decryption",
            module="vault",
            order=90,
            user_verification=True,
        )
    ]
