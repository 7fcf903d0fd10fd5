"""An explanation for a person on call: Rich panels, a span tree, log lines, tables and links."""

from __future__ import annotations

import time

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from otel_ops.explain.model import ErrorGroup, Explanation, LogRecord, Span, TraceView, iso

_SEVERITY_STYLES = {
    "ERROR": "bold red",
    "CRITICAL": "bold red",
    "FATAL": "bold red",
    "WARNING": "yellow",
    "WARN": "yellow",
}
_TRACE_ID_WIDTH = 32
_FINGERPRINT_WIDTH = 16
# The exemplar table's columns, whole, with room for a route: below this, one line per exemplar.
_EXEMPLAR_TABLE_MIN_WIDTH = 100
# The error table's columns, whole, with room for an error type: below this, one block per error group.
_ERROR_TABLE_MIN_WIDTH = 130
#: Jaeger's web UI is not part of its Go module (the native stack has none): say so next to its links.
_NO_JAEGER_UI = "Jaeger's web UI is not part of the native stack: these are its API's URLs (JSON)."


def _clock(seconds: float | None) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) + " UTC" if seconds is not None else "-"


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return ""
    delta = max(0, int(time.time() - seconds))
    if delta < 120:
        return f"{delta}s ago"
    if delta < 7200:
        return f"{delta // 60}m ago"
    return f"{delta // 3600}h ago" if delta < 172800 else f"{delta // 86400}d ago"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def render(explanation: Explanation, console: Console) -> None:
    """Print ``explanation`` readably on ``console``, at any width: panels, trees and tables wrap (ids and
    URLs are never cut), whether or not the console soft-wraps."""

    def show(renderable: RenderableType) -> None:
        console.print(renderable, soft_wrap=False, highlight=False)

    if explanation.alert is not None:
        show(_alert_panel(explanation))
    else:
        window = explanation.window
        show(
            f"[bold]{explanation.subject.capitalize()} {explanation.query}[/]  "
            f"window {_clock(window.start)} → {_clock(window.end)}"
        )
    if explanation.exemplars:
        show(_exemplars(explanation, console.width))
    if explanation.trace is not None:
        show(_trace_tree(explanation.trace))
    elif explanation.trace_id:
        show(f"[yellow]trace {explanation.trace_id} is not in the trace store[/]")
    if explanation.trace_id or explanation.logs:
        show(_log_lines(explanation.logs, f"Logs of trace {explanation.trace_id or ''}"))
    if explanation.related_logs:
        show(_log_lines(explanation.related_logs, "Recent log records with this error"))
    if explanation.errors:
        show(_errors(explanation.errors, explanation, console.width))
    if explanation.links:
        console.print(_links(explanation), soft_wrap=False, crop=False)
    for note in explanation.notes:
        show(f"[dim]note: {note}[/]")
    for problem in explanation.problems:
        show(
            f"[bold red]incomplete:[/] {problem.store} at {problem.url}: {problem.message}"
            + (f"\n  {problem.hint}" if problem.hint else "")
        )


def _alert_panel(explanation: Explanation) -> Panel:
    alert = explanation.alert
    assert alert is not None
    lines = Text()
    lines.append(f"{alert.state}", style="bold red" if alert.state in {"active", "firing"} else "yellow")
    lines.append(f" since {_clock(alert.starts_at)} ({_ago(alert.starts_at)}), from {alert.source}")
    if alert.fingerprint:
        lines.append(f", fingerprint {alert.fingerprint}")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    lines.append(f"\nlabels: {labels}")
    for key in ("summary", "description"):
        if alert.annotations.get(key):
            lines.append(f"\n{key}: {alert.annotations[key]}")
    window = explanation.window
    minutes = round(window.seconds / 60)
    lines.append(f"\nwindow: {_clock(window.start)} → {_clock(window.end)} ({minutes} min)")
    if alert.others:
        lines.append(f"\n{len(alert.others)} more alert(s) of this name: ", style="dim")
        others = ", ".join(str(o.get("fingerprint") or o.get("labels")) for o in alert.others)
        lines.append(others, style="dim")
    return Panel(lines, title=f"[bold]{alert.name}[/]", title_align="left")


def _exemplars(explanation: Explanation, width: int) -> RenderableType:
    title = "Exemplar traces of the alerted series (Prometheus)"
    explained = explanation.trace.trace_id if explanation.trace else None
    rows = []
    for exemplar in explanation.exemplars:
        route = Text(exemplar.route or exemplar.series.get("span_name", ""))
        if exemplar.trace_id == explained:
            route.append("  ◀ explained below", style="bold")
        status = Text(exemplar.status_code or "", style="red" if exemplar.failing else "")
        rows.append(
            (exemplar.trace_id, route, status, _ms(exemplar.value_seconds * 1000), exemplar.timestamp)
        )
    if width < _EXEMPLAR_TABLE_MIN_WIDTH:
        lines: list[RenderableType] = [Text(title, style="italic")]
        for trace_id, route, status, duration, timestamp in rows:
            line = Text(trace_id, style="bold")
            line.append("  ").append_text(status).append(f"  {duration}  {_clock(timestamp)}  ")
            lines.append(line.append_text(route))
        return Group(*lines)
    table = Table(title=title, title_justify="left")
    table.add_column("trace id", no_wrap=True, min_width=_TRACE_ID_WIDTH)
    table.add_column("route / span", overflow="fold")
    for column in ("status", "duration", "time"):
        table.add_column(column, no_wrap=True)
    for trace_id, route, status, duration, timestamp in rows:
        table.add_row(trace_id, route, status, duration, _clock(timestamp))
    return table


def _span_label(span: Span) -> Text:
    label = Text()
    label.append(span.name, style="bold")
    label.append(f"  {span.kind}", style="dim")
    if span.service:
        label.append(f"  {span.service}", style="cyan")
    label.append(f"  {_ms(span.duration_ms)}")
    if span.failed:
        label.append("  ERROR", style="bold red")
    if span.http_status_code is not None:
        label.append(f"  HTTP {span.http_status_code}", style="red" if span.http_status_code >= 500 else "")
    if span.http_route and span.http_route not in span.name:
        label.append(f"  route {span.http_route}")
    genai = span.genai or {}
    if "model" in genai:
        label.append(f"  {genai['model']}", style="magenta")
        if genai.get("provider"):
            label.append(f" ({genai['provider']})", style="magenta")
        if "input_tokens" in genai or "output_tokens" in genai:
            label.append(f"  {genai.get('input_tokens', '?')}→{genai.get('output_tokens', '?')} tokens")
        if genai.get("cost_usd") is not None:
            label.append(f"  ${genai['cost_usd']:.6f}")
    if span.exception:
        label.append(f"\n{span.exception['type']}: {span.exception['message']}", style="red")
    if span.error_fingerprint:
        label.append(f"  fingerprint {span.error_fingerprint}", style="red")
    return label


def _trace_tree(trace: TraceView) -> Tree:
    summary = Text()
    summary.append(f"Trace {trace.trace_id}", style="bold")
    summary.append(f"  ({trace.store})  {_ms(trace.duration_ms)}, {len(trace.spans)} spans")
    summary.append(f", {', '.join(trace.services)}")
    if trace.route:
        summary.append(f", route {trace.route}")
    if trace.http_status_code is not None:
        summary.append(f" → HTTP {trace.http_status_code}", style="red" if trace.failed else "green")
    genai = trace.genai_totals()
    if genai:
        summary.append(
            f"\nGenAI: {genai['calls']} call(s) to {', '.join(genai['models'])}, "
            f"{genai['input_tokens']}→{genai['output_tokens']} tokens, ${genai['cost_usd']:.6f}",
            style="magenta",
        )
    tree = Tree(summary)
    branches: list[Tree] = [tree]
    for span, depth in trace.tree():
        del branches[depth + 1 :]
        branches.append(branches[depth].add(_span_label(span)))
    return tree


def _log_lines(records: list[LogRecord], title: str) -> RenderableType:
    if not records:
        return Text(f"{title}: no log records", style="dim")
    table = Table(title=f"{title} ({len(records)})", title_justify="left", show_edge=False)
    for column in ("time", "level", "service"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold")
    for record in records:
        message = Text(record.message)
        if record.exception_type:
            message.append(f"\n{record.exception_type}: {record.exception_message or ''}", style="red")
        if record.fingerprint:
            message.append(f"  fingerprint {record.fingerprint}", style="red")
        severity = record.severity.upper()
        table.add_row(
            (iso(record.time_unix_nano / 1e9) or "")[11:23],
            Text(severity, style=_SEVERITY_STYLES.get(severity, "")),
            record.service,
            message,
        )
    return table


def _errors(groups: list[ErrorGroup], explanation: Explanation, width: int) -> RenderableType:
    window = explanation.window
    title = f"Error fingerprints, {_clock(window.start)} → {_clock(window.end)}"
    if width >= _ERROR_TABLE_MIN_WIDTH:
        return _error_table(groups, title)
    blocks: list[RenderableType] = [Text(title, style="italic")]
    for group in groups:
        block = Text()
        block.append(group.fingerprint, style="bold")
        block.append(f"  {group.error_type or ''}", style="red")
        block.append(
            f"\n  {_count(group.count)} errors, {_count(group.log_records)} log records, "
            f"{_clock(group.first_seen)} → {_clock(group.last_seen)}"
        )
        if group.message:
            block.append(f"\n  {group.message}")
        if _example_trace(group):
            block.append(f"\n  example trace {_example_trace(group)}")
        blocks.append(block)
    return Group(*blocks)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _example_trace(group: ErrorGroup) -> str:
    return group.example_trace_id or (group.trace_ids[0] if group.trace_ids else "")


def _error_table(groups: list[ErrorGroup], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("fingerprint", no_wrap=True, min_width=_FINGERPRINT_WIDTH)
    table.add_column("type", overflow="fold")
    for column in ("count", "log records", "first seen", "last seen"):
        table.add_column(column, no_wrap=True)
    table.add_column("example trace", no_wrap=True, min_width=_TRACE_ID_WIDTH)
    for group in groups:
        table.add_row(
            group.fingerprint,
            (group.error_type or "") + (f"\n{group.message}" if group.message else ""),
            _count(group.count),
            _count(group.log_records),
            _clock(group.first_seen),
            _clock(group.last_seen),
            _example_trace(group),
        )
    return table


def _links(explanation: Explanation) -> RenderableType:
    """Titles and whole URLs (never cut: a terminal wraps them, and they stay clickable)."""
    lines: list[RenderableType] = [Rule("Open in the stores", align="left")]
    for link in explanation.links:
        lines.append(Text(link.title, style="bold"))
        lines.append(Text(link.url, style=f"link {link.url}", overflow="ignore", no_wrap=True))
    if any(link.store == "Jaeger" for link in explanation.links):
        lines.append(Text(_NO_JAEGER_UI, style="dim"))
    return Group(*lines)
