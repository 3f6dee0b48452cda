"""The vault's tables. Every tenant-owned row carries tenant_id.

An entry keeps its values in one row (plain values as JSON, encrypted values as JSON of
ciphertexts) beside its wrapped data key, so deleting the row shreds the entry: values and
the key that could decrypt them go in one statement, and a customer erasure that deletes the
row (declared ``delete_row``) leaves nothing behind in other tables.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class VaultForm(Table, tablename="vault_form"):
    """A form of secure data (Formulär): its fields, purpose, access lists and retention."""

    tenant_id = Integer(index=True)
    name = Varchar(length=120)
    # "customer" (För kunds räkning: each entry belongs to a customer) or "internal".
    purpose = Varchar(length=16)
    # Entries older than this many days are deleted; null keeps them.
    auto_delete_days = Integer(null=True, default=None)
    require_two_factor = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class VaultField(Table, tablename="vault_field"):
    tenant_id = Integer(index=True)
    form_id = Integer(index=True)
    name = Varchar(length=120)
    position = Integer(default=0)
    # "text", "password", "url" or "note"
    kind = Varchar(length=16, default="text")
    encrypted = Boolean(default=False)


class VaultAccess(Table, tablename="vault_access"):
    """One user or group on one of a form's two access lists ("plain" or "encrypted").

    ``principal_created_at`` is the user's or group's creation time when it was granted:
    a grant only counts while it still matches, so a deleted group whose id is reused by a
    new group does not hand its access to the new one.
    """

    tenant_id = Integer(index=True)
    form_id = Integer(index=True)
    level = Varchar(length=16)
    # Exactly one of the two is set (the other is 0): they are separate columns so that
    # an anonymized employee's grants can be declared as employee references.
    employee_id = Integer(default=0, index=True)
    group_id = Integer(default=0, index=True)
    principal_created_at = Timestamptz(null=True, default=None)


class VaultEntry(Table, tablename="vault_entry"):
    tenant_id = Integer(index=True)
    form_id = Integer(index=True)
    # The form's name, copied so that person search can show it beside the customer.
    form_name = Varchar(length=120, default="")
    # The customer the entry is kept for (purpose "customer"); 0 for internal entries.
    customer_id = Integer(default=0, index=True)
    # {"<field id>": "value"} for the form's plain fields. Secret to everything but the
    # entry's own routes (its access lists decide): person search never indexes it and a
    # subject-access export names it without its value (#17.4).
    plain_values = Text(default="{}", secret=True)
    # {"<field id>": {"v": key version, "c": base64(nonce || ciphertext)}}
    secret_values = Text(default="{}")
    # The master-key version whose tenant key wraps the data key; rotation changes both.
    key_version = Integer(index=True)
    wrapped_key = Text()
    created_by = Integer(default=0)
    updated_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # created_at + the form's auto_delete_days (null: kept). The retention rule
    # "vault_entries" deletes the entry once this has passed.
    delete_after = Timestamptz(null=True, default=None, index=True)
    # Required of a retention rule's table; entries are deleted, never anonymized in place.
    anonymized_at = Timestamptz(null=True, default=None)


class VaultAudit(Table, tablename="vault_audit"):
    """Every reveal and every refused attempt: who, which entry and fields, when, from where.

    Never a value. ``field_names`` is a JSON list of the field names asked for.
    """

    tenant_id = Integer(index=True)
    employee_id = Integer(index=True)
    entry_id = Integer(index=True)
    form_id = Integer(default=0)
    action = Varchar(length=16, default="reveal")
    outcome = Varchar(length=32)
    field_names = Text(default="[]")
    ip = Varchar(length=64, default="")
    at = Timestamptz(default=TimestamptzNow())
    anonymized_at = Timestamptz(null=True, default=None)


class VaultPending(Table, tablename="vault_pending"):
    """A reveal of the pages waiting for its SMS code, after the password was checked.

    The code form carries only a random token (its SHA-256 here), never the password; the
    step is bound to a cookie of the same browser (``binder_hash``), to the employee and the
    entry, lives ten minutes and may be re-posted a few times, then it is gone.
    """

    tenant_id = Integer(index=True)
    employee_id = Integer(default=0, index=True)
    entry_id = Integer(default=0)
    token_hash = Varchar(length=64, unique=True)
    binder_hash = Varchar(length=64)
    uses = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class VaultKeyVersion(Table, tablename="vault_key_version"):
    """The master-key versions of the installation (not of a tenant): the key check values
    that prove at start-up that the configured key is the right one, and rotation state.

    status: "active" (wraps new data keys), "retiring" (a rotation is rewrapping away from
    it) or "retired" (no data key uses it any more; its key may leave the key file once no
    backup needs it).
    """

    version = Integer(unique=True)
    check_value = Varchar(length=64)
    status = Varchar(length=16, default="active")
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


VAULT_TABLES: list[type[Table]] = [
    VaultForm,
    VaultField,
    VaultAccess,
    VaultEntry,
    VaultAudit,
    VaultKeyVersion,
    VaultPending,
]
