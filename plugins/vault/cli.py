"""``gallra vault ...``: master-key operations."""

from __future__ import annotations

import asyncio

import click


@click.group(help="Secure data (vault): master key operations.")
def vault() -> None:
    pass


@vault.command(
    "rotate-key",
    help=(
        "Add a new master-key version and rewrap every entry's data key to it, in batches "
        "(one transaction each) while the system keeps running. The old version stays in the "
        "key file and is marked retired when no entry needs it. With GALLRA_MASTER_KEY, add "
        "the new version there on every process first."
    ),
)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--resume", is_flag=True, help="Finish an interrupted rotation without adding a version.")
def rotate_key(batch_size: int, resume: bool) -> None:
    from plugins.vault.crypto import MasterKeyError
    from plugins.vault.keys import rotate

    async def progress(batch: int, done: int) -> None:
        click.echo(f"batch {batch}: {done} data key(s) rewrapped")

    try:
        result = asyncio.run(rotate(batch_size=batch_size, resume=resume, on_batch=progress))
    except MasterKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Master key version {result.version} is active; {result.rewrapped} data key(s) rewrapped.")
    if result.failed:
        raise click.ClickException(
            f"{result.failed} entr(y/ies) failed their integrity check and keep the old version; "
            "the old key stays until they are dealt with. Run again with --resume after."
        )
    if result.retired:
        click.echo(f"Retired version(s): {', '.join(map(str, result.retired))} (kept in the key file).")
