"""``otel-ops alerts``: list, acknowledge and resolve alerts in Alertmanager.

Acknowledging creates a silence for exactly the alert's labels (an acknowledged alert keeps its one
silence, extended when the new expiry is later); resolving marks the alert resolved and expires its
acknowledgement silences.  Both are written to the sidecar's audit log in the data dir
(``OTEL_OPS_DATA_DIR``), like the same actions through the sidecar's API.

Exit codes: 0 done; 1 no such alert, or Alertmanager unreachable or refusing; 2 bad arguments (an expiry
out of range or unparsable, an empty comment, an ambiguous fingerprint prefix, bad settings).
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(help="List, acknowledge and resolve alerts (through Alertmanager).", no_args_is_help=True)

T = TypeVar("T")
_errors = Console(stderr=True, soft_wrap=True)

AlertmanagerOption = Annotated[
    str | None,
    typer.Option(
        "--alertmanager",
        "--alertmanager-url",
        help="Alertmanager URL (default OTEL_OPS_ALERTMANAGER_URL, else the local stack's, else :9093).",
    ),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the audit log is (default OTEL_OPS_DATA_DIR).")
]
AuthorOption = Annotated[
    str | None, typer.Option("--author", help="Who acts (default: the OTEL_OPS_USER or login name).")
]


# The alert table's columns with the ids whole: below this, one block per alert.
_ALERT_TABLE_MIN_WIDTH = 150


def _author(author: str | None) -> str:
    return author or os.environ.get("OTEL_OPS_USER") or getpass.getuser()


def _alertmanager_url(alertmanager: str | None) -> str:
    from otel_ops.cli._urls import component_url

    return component_url("alertmanager", alertmanager, "--alertmanager")


def _audit_log(data_dir: Path | None) -> Path:
    """The audit log in --data-dir, else in OTEL_OPS_DATA_DIR, else in the sidecar's default data dir."""
    from otel_ops.sidecar.settings import AUDIT_LOG_NAME, DEFAULT_DATA_DIR

    from_env = os.environ.get("OTEL_OPS_DATA_DIR", "").strip()
    return (data_dir or (Path(from_env) if from_env else DEFAULT_DATA_DIR)) / AUDIT_LOG_NAME


def _run(alertmanager: str | None, data_dir: Path | None, action: Callable[[Any], Awaitable[T]]) -> T:
    """``action`` on the alert service of this Alertmanager and data dir. Only the two settings it needs
    are read: the rest of the sidecar's environment (its port, its checks) is none of this command's
    business."""
    from otel_ops import _http as http_clients
    from otel_ops.sidecar.alerts import AlertmanagerClient, AlertmanagerError, AlertRequestError, AlertService
    from otel_ops.sidecar.audit import AuditLog

    url, audit_log = _alertmanager_url(alertmanager), _audit_log(data_dir)

    async def go() -> T:
        async with http_clients.async_client(timeout=10.0) as http:
            client = AlertmanagerClient(url, http)
            return await action(AlertService(client, AuditLog(audit_log)))

    try:
        return asyncio.run(go())
    except AlertRequestError as exc:
        _errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=1 if exc.status == 404 else 2) from None
    except AlertmanagerError as exc:
        _errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=1) from None


def _notifications_dir(data_dir: Path | None) -> Path | None:
    """Where the sidecar recorded Alertmanager's notifications: --data-dir, else OTEL_OPS_DATA_DIR, else
    the sidecar of the stack started by `otel-ops up` (``<state dir>/sidecar``) when there is one."""
    if data_dir is not None or os.environ.get("OTEL_OPS_DATA_DIR", "").strip():
        return data_dir
    from otel_ops.stack.processes import state_dir

    stack_sidecar = state_dir(create=False) / "sidecar"
    return stack_sidecar if stack_sidecar.is_dir() else None


@app.command("list")
def list_alerts(
    alertmanager: AlertmanagerOption = None,
    filter: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="Matcher like 'severity=\"page\"'; repeat it.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="The sidecar's data dir, where notifications record each alert's exemplar trace and top "
            "error (default OTEL_OPS_DATA_DIR, or the sidecar of `otel-ops up`).",
        ),
    ] = None,
) -> None:
    """Show the active alerts (silenced ones included, marked), with the exemplar trace and the top error
    fingerprint the sidecar recorded from each one's notification: `otel-ops explain` starts from them."""
    alerts = _run(alertmanager, _notifications_dir(data_dir), lambda service: service.list(filter))
    console = Console()
    if not alerts:
        console.print("no active alerts")
        return
    rows = []
    for alert in alerts:
        state = alert["state"] or ""
        if alert["silencedBy"]:
            state += f" (silenced by {', '.join(s[:8] for s in alert['silencedBy'])})"
        rows.append(
            (
                alert["fingerprint"],
                alert["alertname"] or "",
                alert["labels"].get("severity", ""),
                state,
                (alert["startsAt"] or "")[:19].replace("T", " "),
                alert["annotations"].get("summary", ""),
                alert.get("exemplarTraceId") or "",
                alert.get("topErrorFingerprint") or "",
            )
        )
    if console.width < _ALERT_TABLE_MIN_WIDTH:  # one block per alert: ids stay whole on a narrow terminal
        for fingerprint, name, severity, state, since, summary, trace_id, top_error in rows:
            block = Text(fingerprint, style="bold")
            block.append(f"  {name}  {severity}  {state}  since {since}")
            if summary:
                block.append(f"\n  {summary}")
            if trace_id or top_error:
                block.append(f"\n  exemplar trace {trace_id or '-'}  top error {top_error or '-'}")
            console.print(block, soft_wrap=False)
    else:
        table = Table()
        for column in ("fingerprint", "alert", "severity", "state", "since", "summary"):
            table.add_column(column, no_wrap=column in {"fingerprint", "since"}, overflow="fold")
        table.add_column("exemplar trace", no_wrap=True, min_width=32)
        table.add_column("top error", no_wrap=True, min_width=16)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    if any(alert.get("exemplarTraceId") or alert.get("topErrorFingerprint") for alert in alerts):
        console.print("explain one: otel-ops explain FINGERPRINT (or --trace ID, --fingerprint FP)")


FingerprintArgument = Annotated[
    str, typer.Argument(help="Alert fingerprint (or a unique prefix of 4+ characters).")
]


@app.command("ack")
def acknowledge(
    fingerprint: FingerprintArgument,
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why it is acknowledged (required).")],
    expires: Annotated[
        str,
        typer.Option(
            "--expires",
            "-e",
            help="How long, 1 minute to 90 days: a duration ('30m', '2h', '7d') or an ISO-8601 time.",
        ),
    ] = "2h",
    author: AuthorOption = None,
    alertmanager: AlertmanagerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Acknowledge an alert: silence exactly its labels until EXPIRES. An acknowledged alert keeps its
    silence (extended when EXPIRES is later; never shortened: resolve the alert to end it)."""
    result = _run(
        alertmanager,
        data_dir,
        lambda service: service.acknowledge(
            fingerprint, author=_author(author), comment=comment, expires=expires
        ),
    )
    what = {
        "created": "acknowledged",
        "extended": "extended the acknowledgement of",
        "existing": f"already acknowledged by {result['acknowledgedBy']}:",
    }[result["outcome"]]
    Console().print(
        f"{what} {result['fingerprint']}: silence {result['silenceId']} until {result['expiresAt']}",
        highlight=False,
    )


@app.command("resolve")
def resolve(
    fingerprint: FingerprintArgument,
    comment: Annotated[str, typer.Option("--comment", "-c", help="What was done.")] = "",
    author: AuthorOption = None,
    alertmanager: AlertmanagerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Resolve an alert now (it returns if its source still fires) and expire its acknowledgement."""
    result = _run(
        alertmanager,
        data_dir,
        lambda service: service.resolve(fingerprint, author=_author(author), comment=comment),
    )
    expired = ", ".join(result["expiredSilences"]) or "none"
    Console().print(
        f"resolved {result['fingerprint']} at {result['resolvedAt']} (expired silences: {expired})"
    )
