"""``otel-ops backup``: create, list, verify, restore and prune backups."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from otel_ops.sidecar.backup import BackupService

app = typer.Typer(
    help="Back up and restore Prometheus, databases and the stack's configuration.", no_args_is_help=True
)

console = Console()
errors = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


@contextmanager
def _service() -> Iterator[BackupService]:
    """A service from the OTEL_OPS_BACKUP_* settings; backup errors end the command with a message."""
    from otel_ops.sidecar.backup import BackupError, BackupService, BackupSettings, UnknownSource
    from otel_ops.sidecar.backup.errors import SnapshotNotFound

    try:
        yield BackupService(BackupSettings())
    except (UnknownSource, SnapshotNotFound) as exc:
        raise _fail(str(exc), code=2) from None
    except BackupError as exc:
        raise _fail(str(exc)) from None


@contextmanager
def _progress(title: str) -> Iterator[Callable[[str, str], None]]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(title)

        def update(source: str, step: str) -> None:
            progress.update(task, description=f"{source}: {step}")

        yield update


@app.command("init")
def init() -> None:
    """Create the restic repository (and a password file when no password is configured)."""
    with _service() as service:
        written = service.init()
        console.print(f"created restic repository at {service.settings.repository_location}")
        if written is not None:
            console.print(
                f"generated its password in [bold]{written}[/] (mode 0600): keep a copy somewhere else, "
                "the backups cannot be read without it"
            )


@app.command("create")
def create(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Source to back up (repeatable); default: all configured."),
    ] = None,
) -> None:
    """Back up sources into the restic repository, one snapshot per source."""
    with _service() as service, _progress("backing up") as update:
        results = service.create(source or None, progress=update)
    table = Table(title="Backups")
    for column in ("source", "snapshot", "files", "bytes", "seconds", "result"):
        table.add_column(column)
    for r in results:
        outcome = "[green]ok[/]" if r.ok else f"[red]failed:[/] {r.error}"
        table.add_row(
            r.source, r.snapshot_id or "-", str(r.files), str(r.bytes), f"{r.duration_s:.1f}", outcome
        )
    console.print(table)
    if not all(r.ok for r in results):
        raise _fail("some backups failed (see the table)")


@app.command("list")
def list_snapshots(
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
) -> None:
    """List the snapshots in the repository (of a source no longer configured too, with --source)."""
    with _service() as service:
        snapshots = service.list(source)
        if source and not snapshots:
            from otel_ops.sidecar.backup.sources import select_sources

            select_sources(service.settings, [source])  # not configured and never backed up: say so
    table = Table(title=f"Snapshots in {service.settings.repository_location}")
    for column in ("id", "time (UTC)", "source", "kind", "host"):
        table.add_column(column)
    for s in snapshots:
        table.add_row(s.short_id, f"{s.time:%Y-%m-%d %H:%M:%S}", s.source or "-", s.kind or "-", s.host)
    console.print(table)


@app.command("verify")
def verify(
    snapshot: Annotated[
        str | None, typer.Argument(help="Snapshot id; default: latest of every source.")
    ] = None,
    subset: Annotated[
        str | None, typer.Option("--read-data-subset", help="Read only this part of the data, e.g. 10%.")
    ] = None,
) -> None:
    """Read the repository data back and compare restored files with the manifest checksums."""
    with _service() as service, _progress("verifying") as update:
        update("repository", "reading data back (restic check)")
        result = service.verify(snapshot, read_data_subset=subset)
    table = Table(title="Verify")
    table.add_column("checked")
    table.add_column("result")
    table.add_row("repository data", "[green]ok[/]" if result.repository_check == "ok" else "[red]damaged[/]")
    for snapshot_id, problems in result.snapshots.items():
        table.add_row(
            f"snapshot {snapshot_id}", "[green]ok[/]" if not problems else f"[red]{len(problems)} problems"
        )
    console.print(table)
    if not result.ok:
        raise _fail("verification failed:\n" + "\n".join(f"  - {p}" for p in result.problems))


@app.command("restore")
def restore(
    snapshot: Annotated[str, typer.Argument(help="Snapshot id, or 'latest' (with --source).")],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            "-t",
            help="Directory (config, SQLite; an empty one for Prometheus) or PostgreSQL conninfo/URL.",
        ),
    ],
    source: Annotated[str | None, typer.Option("--source", "-s", help="With 'latest': this source.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace what the target holds where it differs from the snapshot (else refused)."
        ),
    ] = False,
) -> None:
    """Restore a snapshot: restore to scratch, check it, and only then write it to the target. A target
    holding data that differs from the snapshot is left alone unless --force."""
    with _service() as service, _progress("restoring") as update:
        result = service.restore(snapshot, target, source=source, progress=update, replace=force)
    console.print(
        f"[green]restored[/] snapshot {result.snapshot.short_id} ({result.source}): {result.installed}"
    )


@app.command("drill")
def drill() -> None:
    """Restore the latest snapshot of every source to scratch space, run every restore check, report."""
    with _service() as service, _progress("restore drill") as update:
        results = service.drill(progress=update)
    table = Table(title="Restore drill")
    for column in ("source", "snapshot", "time (UTC)", "result"):
        table.add_column(column)
    for r in results:
        outcome = "[green]ok[/]" if r.ok else "[red]failed:[/] " + "; ".join(r.problems)
        table.add_row(r.source, r.snapshot.short_id, f"{r.snapshot.time:%Y-%m-%d %H:%M:%S}", outcome)
    console.print(table)
    if not results:
        raise _fail("no snapshots to drill")
    if not all(r.ok for r in results):
        raise _fail("the restore drill failed for some sources")


@app.command("prune")
def prune(
    keep_daily: Annotated[int | None, typer.Option(min=0, help="Daily snapshots kept per source.")] = None,
    keep_weekly: Annotated[int | None, typer.Option(min=0, help="Weekly snapshots kept per source.")] = None,
    keep_monthly: Annotated[
        int | None, typer.Option(min=0, help="Monthly snapshots kept per source.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be removed.")] = False,
) -> None:
    """Forget snapshots beyond the keep counts (default: the configured ones) and prune the repository."""
    with _service() as service, _progress("applying retention") as update:
        update("repository", "restic forget" + (" (dry run)" if dry_run else " --prune"))
        result = service.prune(keep_daily, keep_weekly, keep_monthly, dry_run=dry_run)
    table = Table(title="Would remove" if dry_run else "Removed")
    for column in ("id", "time (UTC)", "source"):
        table.add_column(column)
    for s in result.remove:
        table.add_row(s.short_id, f"{s.time:%Y-%m-%d %H:%M:%S}", s.source or "-")
    console.print(table)
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb} {len(result.remove)} snapshots, keeping {len(result.keep)}")
