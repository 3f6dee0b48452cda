"""Secure data (Säkra uppgifter, M9-M13): an encrypted vault with per-form access lists.

Forms hold fields, some encrypted; entries are kept on behalf of a customer or for
internal use; two access lists per form say who reads plain values and who may decrypt.
Cryptography is in :mod:`plugins.vault.crypto`, the master key at run time in
:mod:`plugins.vault.keys`, the entry's declaration in :mod:`plugins.vault.records`, the
GDPR declarations of the settings and logs in :mod:`plugins.vault.gdpr`. See README.md
beside this file for the master key and its backup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.contracts import (
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    RecordSpec,
    RetentionRule,
    SearchSource,
    TwoFactorContext,
)
from core.plugins import hookimpl

if TYPE_CHECKING:
    import click
    from litestar import Litestar

NAME = "vault"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Säkra uppgifter",
        label_en="Secure data",
        description_sv="Krypterade uppgifter, t.ex. inloggningsuppgifter, i formulär med egna behörigheter.",
        description_en="Encrypted data such as login credentials, in forms with their own access lists.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.vault.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.vault.pages import pages
    from plugins.vault.routes import route_handlers

    return [*route_handlers(), *pages()]


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


# The entry is a record: its personal data, rule, record type and search places are
# derived from its spec (declare_records). These three hooks declare only what is not a
# record: the forms, access lists, decryption log, pending reveals and key versions.
@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.vault import gdpr

    return gdpr.personal_data()


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from plugins.vault import gdpr

    return gdpr.retention_rules()


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.vault.records import VAULT_ENTRY

    return [VAULT_ENTRY]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.vault import gdpr

    return gdpr.search_sources()


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.vault import gdpr

    return gdpr.two_factor_contexts()
