"""Secure data (Säkra uppgifter, M9-M13): an encrypted vault with per-form access lists.

Forms hold fields, some encrypted; entries are kept on behalf of a customer or for
internal use; two access lists per form say who reads plain values and who may decrypt.
Cryptography is in :mod:`plugins.vault.crypto`, the master key at run time in
:mod:`plugins.vault.keys`, the entry's declaration in :mod:`plugins.vault.records`, the
GDPR declarations of the settings and logs in :mod:`plugins.vault.gdpr`. See README.md
beside this file for the master key and its backup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.plugins import answer_from, hookimpl, module_hooks

if TYPE_CHECKING:
    import click
    from litestar import Litestar

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
# The entry is a record: its personal data, rule, record type and search places are
# derived from its spec (declare_records). The gdpr hooks declare only what is not a
# record: the forms, access lists, decryption log, pending reveals and key versions.
declare_records = answer_from(f"{__name__}.records", "RECORDS")
declare_personal_data = answer_from(f"{__name__}.gdpr", "personal_data")
declare_retention_rules = answer_from(f"{__name__}.gdpr", "retention_rules")
declare_search_sources = answer_from(f"{__name__}.gdpr", "search_sources")
declare_two_factor_contexts = answer_from(f"{__name__}.gdpr", "two_factor_contexts")


@hookimpl
def register_commands(cli: click.Group) -> None:
    from plugins.vault.cli import vault

    cli.add_command(vault)


@hookimpl
async def start_up(app: Litestar) -> None:
    """Refuse to serve with a missing or wrong master key when encrypted data exists."""
    from plugins.vault.crypto import MasterKeyError
    from plugins.vault.keys import VaultStartupError, check_keys

    try:
        await check_keys()
    except MasterKeyError as exc:
        raise VaultStartupError(f"Secure data (vault): {exc}") from exc
