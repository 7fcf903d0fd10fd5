"""An explanation for a person on call: Rich panels, a span tree, log lines, tables and links.

Times are UTC, with their date whenever it is not today's (a window spanning days shows both dates). A
section whose store could not be asked says so, rather than that it found nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from otel_ops.explain.model import ErrorGroup, Explanation, LogRecord, Problem, Span, TraceView, Window, iso

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


#: What each store is to an explanation, for "could not ask the trace store (Jaeger at …)".
_ROLES = {
    "Jaeger": "trace store",
    "Tempo": "trace store",
    "VictoriaLogs": "log store",
    "Loki": "log store",
    "Prometheus": "metrics store",
    "Alertmanager": "alert store",
}


def _clock(seconds: float | None) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) + " UTC" if seconds is not None else "-"


def _day(seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def _when(seconds: float | None, now: float) -> str:
    """A moment: its time of day when it is today (UTC), else its date and minute."""
    if seconds is None or _day(seconds) == _day(now):
        return _clock(seconds)
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _dated_width(moments: Iterable[float | None], now: float) -> int:
    """How much wider than a time of day the widest of ``moments`` is shown (its date)."""
    return max((len(_when(moment, now)) - len(_clock(0)) for moment in moments), default=0)


def _dated(window: Window, now: float) -> bool:
    """Whether ``window`` needs dates to be read right: it spans days, or is not today."""
    return not _day(window.start) == _day(window.end) == _day(now)


def _span(window: Window, now: float) -> str:
    """``window`` as times of day when it lies within today, else with dates (minutes from an hour on)."""
    if not _dated(window, now):
        return f"{_clock(window.start)} → {_clock(window.end)}"
    shape = "%Y-%m-%d %H:%M UTC" if window.seconds >= 3600 else "%Y-%m-%d %H:%M:%S UTC"
    start, end = (time.strftime(shape, time.gmtime(moment)) for moment in (window.start, window.end))
    return f"{start} → {end}"


def _length(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{round(hours / 24, 1):g} d"


def _not_asked(explanation: Explanation, section: str) -> list[str]:
    """Why ``section`` is empty or partial: the stores that could not be asked for it, as Problems say."""
    return [_could_not_ask(problem) for problem in explanation.unanswered.get(section, [])]


def _could_not_ask(problem: Problem) -> str:
    role = _ROLES.get(problem.store, "store")
    return f"could not ask the {role} ({problem.store} at {problem.url}): {problem.message}"


def _ago(seconds: float | None, now: float) -> str:
    if seconds is None:
        return ""
    delta = max(0, int(now - seconds))
    if delta < 120:
        return f"{delta}s ago"
    if delta < 7200:
        return f"{delta // 60}m ago"
    return f"{delta // 3600}h ago" if delta < 172800 else f"{delta // 86400}d ago"


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def render(explanation: Explanation, console: Console, *, now: float | None = None) -> None:
    """Print ``explanation`` readably on ``console``, at any width: panels, trees and tables wrap (ids and
    URLs are never cut), whether or not the console soft-wraps. ``now`` (default: the clock) decides
    which times are today's."""
    now = time.time() if now is None else now

    def show(renderable: RenderableType) -> None:
        console.print(renderable, soft_wrap=False, highlight=False)

    if explanation.alert is not None:
        show(_alert_panel(explanation, now))
    else:
        header = Text(f"{explanation.subject.capitalize()} {explanation.query}", style="bold")
        show(header.append(f"  window {_span(explanation.window, now)}", style="not bold"))
    if explanation.exemplars:
        show(_exemplars(explanation, console.width, now))
    for reason in _not_asked(explanation, "exemplars"):
        show(Text(f"Exemplar traces of the alerted series: {reason}", style="yellow"))
    if explanation.trace is not None:
        show(_trace_tree(explanation.trace))
    elif explanation.trace_id:
        reasons = _not_asked(explanation, "trace")
        if reasons:
            show(Text(f"Trace {explanation.trace_id}: {'; '.join(reasons)}", style="yellow"))
        else:
            show(Text(f"trace {explanation.trace_id} is not in the trace store", style="yellow"))
    if explanation.trace_id or explanation.logs:
        title = f"Logs of trace {explanation.trace_id or ''}"
        searched = explanation.logs_window
        if searched is not None and searched != explanation.window:
            title += f", {_span(searched, now)}"
        show(_log_lines(explanation.logs, title, _not_asked(explanation, "logs"), now))
    if explanation.related_logs or "fingerprint_logs" in explanation.unanswered:
        reasons = _not_asked(explanation, "fingerprint_logs")
        show(_log_lines(explanation.related_logs, "Recent log records with this error", reasons, now))
    if explanation.errors or "errors" in explanation.unanswered:
        show(_errors(explanation.errors, explanation, console.width, now))
    if explanation.links:
        console.print(_links(explanation), soft_wrap=False, crop=False)
    for note in explanation.notes:
        show(f"[dim]note: {note}[/]")
    for problem in explanation.problems:
        show(
            f"[bold red]incomplete:[/] {problem.store} at {problem.url}: {problem.message}"
            + (f"\n  {problem.hint}" if problem.hint else "")
        )


def _alert_panel(explanation: Explanation, now: float) -> Panel:
    alert = explanation.alert
    assert alert is not None
    lines = Text()
    lines.append(f"{alert.state}", style="bold red" if alert.state in {"active", "firing"} else "yellow")
    since = f"{_when(alert.starts_at, now)} ({_ago(alert.starts_at, now)})"
    lines.append(f" since {since}, from {alert.source}")
    if alert.fingerprint:
        lines.append(f", fingerprint {alert.fingerprint}")
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    lines.append(f"\nlabels: {labels}")
    for key in ("summary", "description"):
        if alert.annotations.get(key):
            lines.append(f"\n{key}: {alert.annotations[key]}")
    window = explanation.window
    lines.append(f"\nwindow: {_span(window, now)} ({_length(window.seconds)})")
    if alert.others:
        lines.append(f"\n{len(alert.others)} more alert(s) of this name: ", style="dim")
        others = ", ".join(str(o.get("fingerprint") or o.get("labels")) for o in alert.others)
        lines.append(others, style="dim")
    return Panel(lines, title=f"[bold]{alert.name}[/]", title_align="left")


def _exemplars(explanation: Explanation, width: int, now: float) -> RenderableType:
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
    if width < _EXEMPLAR_TABLE_MIN_WIDTH + _dated_width((row[-1] for row in rows), now):
        lines: list[RenderableType] = [Text(title, style="italic")]
        for trace_id, route, status, duration, timestamp in rows:
            line = Text(trace_id, style="bold")
            line.append("  ").append_text(status).append(f"  {duration}  {_when(timestamp, now)}  ")
            lines.append(line.append_text(route))
        return Group(*lines)
    table = Table(title=title, title_justify="left")
    table.add_column("trace id", no_wrap=True, min_width=_TRACE_ID_WIDTH)
    table.add_column("route / span", overflow="fold")
    for column in ("status", "duration", "time"):
        table.add_column(column, no_wrap=True)
    for trace_id, route, status, duration, timestamp in rows:
        table.add_row(trace_id, route, status, duration, _when(timestamp, now))
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


def _log_time(nanos: int, now: float) -> str:
    stamp = iso(nanos / 1e9) or ""
    return stamp[11:23] if stamp[:10] == _day(now) else f"{stamp[:10]} {stamp[11:23]}"


def _log_lines(records: list[LogRecord], title: str, not_asked: list[str], now: float) -> RenderableType:
    """The records as a table; when there are none, why: none found, or the store could not be asked."""
    if not records:
        if not_asked:
            return Text(f"{title}: {'; '.join(not_asked)}", style="yellow")
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
            _log_time(record.time_unix_nano, now),
            Text(severity, style=_SEVERITY_STYLES.get(severity, "")),
            record.service,
            message,
        )
    if not_asked:
        return Group(table, *(Text(f"{title}: {reason}", style="yellow") for reason in not_asked))
    return table


def _errors(groups: list[ErrorGroup], explanation: Explanation, width: int, now: float) -> RenderableType:
    """The error groups (a table, or one block each when narrow), then the stores that could not be asked
    for them: a count shown as ``-`` is unknown, not zero."""
    title = f"Error fingerprints, {_span(explanation.window, now)}"
    reasons = [Text(f"{title}: {reason}", style="yellow") for reason in _not_asked(explanation, "errors")]
    if not groups:
        return Group(*reasons)
    dated = _dated_width((g.first_seen for g in groups), now) + _dated_width(
        (g.last_seen for g in groups), now
    )
    if width >= _ERROR_TABLE_MIN_WIDTH + dated:
        return Group(_error_table(groups, title, now), *reasons)
    blocks: list[RenderableType] = [Text(title, style="italic")]
    for group in groups:
        block = Text()
        block.append(group.fingerprint, style="bold")
        block.append(f"  {group.error_type or ''}", style="red")
        block.append(
            f"\n  {_count(group.count)} errors, {_count(group.log_records)} log records, "
            f"{_when(group.first_seen, now)} → {_when(group.last_seen, now)}"
        )
        if group.message:
            block.append(f"\n  {group.message}")
        if _example_trace(group):
            block.append(f"\n  example trace {_example_trace(group)}")
        blocks.append(block)
    return Group(*blocks, *reasons)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _example_trace(group: ErrorGroup) -> str:
    return group.example_trace_id or (group.trace_ids[0] if group.trace_ids else "")


def _error_table(groups: list[ErrorGroup], title: str, now: float) -> Table:
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
            _when(group.first_seen, now),
            _when(group.last_seen, now),
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
