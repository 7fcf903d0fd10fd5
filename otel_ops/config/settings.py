"""otel-ops settings, declared once: each with its argument, its environment variable and its default.

Option groups are plain dataclasses whose fields default to ``None`` ("not given"). :func:`resolve` fills
every unset field from the environment (by the OpenTelemetry parsing rules in :mod:`._env`) and then from
the declared default, so an explicit argument always wins over the environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from otel_ops.config import _env

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")

# -- documented defaults ---------------------------------------------------------------------------------
_DEFAULT_SERVICE_NAME = "unknown_service"
_DEFAULT_PROTOCOL = "http/protobuf"
_DEFAULT_HTTP_ENDPOINT = "http://localhost:4318"
_DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
_DEFAULT_EXPORT_TIMEOUT_S = 10.0
_DEFAULT_SHUTDOWN_TIMEOUT_S = 2.0
_DEFAULT_SCHEDULE_DELAY_S = 1.0
_DEFAULT_LOGS_SCHEDULE_DELAY_S = 1.0
_DEFAULT_MAX_QUEUE_SIZE = 2048
_DEFAULT_MAX_EXPORT_BATCH_SIZE = 512
_DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024  # per signal: with the collector down, at most this is held
_DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT = 8192  # characters of one string attribute value
_DEFAULT_LOG_BODY_LENGTH_LIMIT = 16384  # characters of one exported log message
_DEFAULT_METRIC_EXPORT_INTERVAL_S = 60.0
_DEFAULT_CARDINALITY_LIMIT = 2000
_DEFAULT_EXCLUDED_PATHS = ("/health", "/healthz", "/livez", "/readyz", "/ready", "/live", "/metrics")
_DEFAULT_REQUEST_ID_HEADER = "x-request-id"
_DEFAULT_PROMETHEUS_HOST = "localhost"
_DEFAULT_PROMETHEUS_PORT = 9464

T = TypeVar("T")


def setting(
    env: str | tuple[str, ...] | None,
    parse: Callable[[str], Any] | None,
    default: Any,
    doc: str,
) -> Any:
    """Declare one setting: its environment variable(s) (first set one wins), parser, default and doc."""
    names = (env,) if isinstance(env, str) else (env or ())
    return field(default=None, metadata={"env": names, "parse": parse, "default": default, "doc": doc})


def resolve(options: T, environ: Mapping[str, str] | None = None) -> T:
    """A copy of ``options`` with every unset field taken from the environment, then from its default."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(options):  # type: ignore[arg-type]
        value = getattr(options, f.name)
        meta = f.metadata
        if value is None and meta:
            for name in meta["env"]:
                value = _env.read(name, meta["parse"], environ)
                if value is not None:
                    break
            if value is None:
                default = meta["default"]
                value = default() if callable(default) else default
        values[f.name] = value
    return dataclasses.replace(options, **values)  # type: ignore[type-var]


def describe(options_type: type) -> list[tuple[str, str, Any, str]]:
    """(field, env vars, default, doc) rows, for documentation and ``otel-ops`` help output."""
    rows = []
    for f in dataclasses.fields(options_type):
        if f.metadata:
            default = f.metadata["default"]
            rows.append((f.name, ", ".join(f.metadata["env"]), default, f.metadata["doc"]))
    return rows


_parse_exporters = _env.parse_list


@dataclass(frozen=True)
class ExportOptions:
    """Where telemetry goes: OTLP settings shared by all signals (per-signal variables win for theirs)."""

    endpoint: str | None = setting(
        "OTEL_EXPORTER_OTLP_ENDPOINT", str, None, "Base OTLP endpoint; the signal path is appended for HTTP."
    )
    protocol: str | None = setting(
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        _env.parse_choice("http/protobuf", "grpc"),
        _DEFAULT_PROTOCOL,
        "OTLP transport: http/protobuf or grpc.",
    )
    headers: dict[str, str] | None = setting(
        "OTEL_EXPORTER_OTLP_HEADERS", _env.parse_key_values, dict, "Headers sent with every export (k=v,...)."
    )
    timeout: float | None = setting(
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        _env.parse_millis_as_seconds,
        _DEFAULT_EXPORT_TIMEOUT_S,
        "Timeout of one export request (the variable is in milliseconds; the argument in seconds).",
    )
    compression: str | None = setting(
        "OTEL_EXPORTER_OTLP_COMPRESSION", _env.parse_choice("gzip", "none"), "none", "gzip or none."
    )
    certificate: str | None = setting(
        "OTEL_EXPORTER_OTLP_CERTIFICATE", str, None, "CA bundle to verify the endpoint's TLS certificate."
    )
    insecure: bool | None = setting(
        "OTEL_EXPORTER_OTLP_INSECURE",
        _env.parse_bool,
        False,
        "gRPC only: plaintext for https-less endpoints.",
    )


@dataclass(frozen=True)
class SignalExport:
    """The resolved OTLP settings of one signal."""

    signal: Signal
    endpoint: str
    protocol: str
    headers: dict[str, str]
    timeout: float
    compression: str
    certificate: str | None
    insecure: bool


def resolve_signal_export(
    signal: Signal, shared: ExportOptions, environ: Mapping[str, str] | None = None
) -> SignalExport:
    """Per-signal OTLP settings: explicit argument > per-signal variable > shared variable > default.

    ``shared`` must hold only explicitly given values (not yet resolved), so an explicit shared argument
    beats a per-signal environment variable, as explicit arguments beat the environment everywhere.
    """
    upper = signal.upper()
    shared_from_env = resolve(ExportOptions(), environ)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(ExportOptions):
        if f.name == "endpoint":
            continue
        value = getattr(shared, f.name)
        if value is None:
            value = _env.read(f"OTEL_EXPORTER_OTLP_{upper}_{f.name.upper()}", f.metadata["parse"], environ)
        if value is None:
            value = getattr(shared_from_env, f.name)
        values[f.name] = value

    if shared.endpoint is not None:
        endpoint = _signal_url(shared.endpoint, signal, values["protocol"])
    else:
        signal_endpoint = _env.read(f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT", str, environ)
        if signal_endpoint is not None:
            endpoint = signal_endpoint
        else:
            base = shared_from_env.endpoint or (
                _DEFAULT_GRPC_ENDPOINT if values["protocol"] == "grpc" else _DEFAULT_HTTP_ENDPOINT
            )
            endpoint = _signal_url(base, signal, values["protocol"])
    return SignalExport(signal=signal, endpoint=endpoint, **values)


def _signal_url(base: str, signal: Signal, protocol: str) -> str:
    if protocol == "grpc":
        return base
    return base.rstrip("/") + f"/v1/{signal}"


@dataclass(frozen=True)
class TracesOptions:
    exporter: tuple[str, ...] | None = setting(
        "OTEL_TRACES_EXPORTER", _parse_exporters, ("otlp",), "otlp, console or none (comma-separated)."
    )
    sampler: str | None = setting(
        "OTEL_TRACES_SAMPLER",
        _env.parse_choice(
            "always_on",
            "always_off",
            "traceidratio",
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ),
        "parentbased_always_on",
        "Sampler name, as in the OpenTelemetry specification.",
    )
    sampler_arg: float | None = setting(
        "OTEL_TRACES_SAMPLER_ARG", _env.parse_ratio, 1.0, "Ratio for the traceidratio samplers (0..1)."
    )
    schedule_delay: float | None = setting(
        "OTEL_BSP_SCHEDULE_DELAY",
        _env.parse_millis_as_seconds,
        _DEFAULT_SCHEDULE_DELAY_S,
        "Export every N ms.",
    )
    export_timeout: float | None = setting(
        "OTEL_BSP_EXPORT_TIMEOUT",
        _env.parse_millis_as_seconds,
        30.0,
        "Longest one batch export may take (ms).",
    )
    max_queue_size: int | None = setting(
        "OTEL_BSP_MAX_QUEUE_SIZE", _env.parse_positive_int, _DEFAULT_MAX_QUEUE_SIZE, "Spans held at most."
    )
    max_export_batch_size: int | None = setting(
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        _env.parse_positive_int,
        _DEFAULT_MAX_EXPORT_BATCH_SIZE,
        "Spans per export request.",
    )
    max_queue_bytes: int | None = setting(
        ("OTEL_OPS_BSP_MAX_QUEUE_BYTES", "OTEL_OPS_MAX_QUEUE_BYTES"),
        _env.parse_positive_int,
        _DEFAULT_MAX_QUEUE_BYTES,
        "Approximate encoded bytes of spans held at most; beyond, the oldest are dropped.",
    )
    attribute_count_limit: int | None = setting(
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"),
        _env.parse_non_negative_int,
        128,
        "Attributes kept per span.",
    )
    attribute_value_length_limit: int | None = setting(
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
        _env.parse_non_negative_int,
        _DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        "Longest string attribute value kept on spans and their events (characters; longer ones are cut).",
    )
    event_count_limit: int | None = setting(
        "OTEL_SPAN_EVENT_COUNT_LIMIT", _env.parse_non_negative_int, 128, "Events kept per span."
    )
    link_count_limit: int | None = setting(
        "OTEL_SPAN_LINK_COUNT_LIMIT", _env.parse_non_negative_int, 128, "Links kept per span."
    )
    propagators: tuple[str, ...] | None = setting(
        "OTEL_PROPAGATORS", _env.parse_list, ("tracecontext", "baggage"), "Context propagators, in order."
    )


@dataclass(frozen=True)
class MetricsOptions:
    exporter: tuple[str, ...] | None = setting(
        "OTEL_METRICS_EXPORTER",
        _parse_exporters,
        ("otlp",),
        "otlp, prometheus, console or none (comma-separated).",
    )
    export_interval: float | None = setting(
        "OTEL_METRIC_EXPORT_INTERVAL",
        _env.parse_millis_as_seconds,
        _DEFAULT_METRIC_EXPORT_INTERVAL_S,
        "Push interval in ms.",
    )
    export_timeout: float | None = setting(
        "OTEL_METRIC_EXPORT_TIMEOUT",
        _env.parse_millis_as_seconds,
        30.0,
        "Longest one metric export may take.",
    )
    cardinality_limit: int | None = setting(
        "OTEL_OPS_METRIC_CARDINALITY_LIMIT",
        _env.parse_positive_int,
        _DEFAULT_CARDINALITY_LIMIT,
        "Series per instrument; further attribute sets go to one overflow series.",
    )
    process_metrics: bool | None = setting(
        "OTEL_OPS_PROCESS_METRICS", _env.parse_bool, True, "CPU, memory, threads, fds and GC of the process."
    )
    prometheus_host: str | None = setting(
        "OTEL_EXPORTER_PROMETHEUS_HOST", str, _DEFAULT_PROMETHEUS_HOST, "Prometheus pull endpoint host."
    )
    prometheus_port: int | None = setting(
        "OTEL_EXPORTER_PROMETHEUS_PORT", _env.parse_positive_int, _DEFAULT_PROMETHEUS_PORT, "Its port."
    )


@dataclass(frozen=True)
class LogsOptions:
    exporter: tuple[str, ...] | None = setting(
        "OTEL_LOGS_EXPORTER", _parse_exporters, ("otlp",), "otlp, console or none (comma-separated)."
    )
    level: str | None = setting(
        "OTEL_OPS_LOG_LEVEL",
        _env.parse_choice("debug", "info", "warning", "error", "critical"),
        "info",
        "Lowest level captured from the app's loggers.",
    )
    console: str | None = setting(
        "OTEL_OPS_LOG_CONSOLE",
        _env.parse_choice("json", "text", "none"),
        "json",
        "Log lines on stdout: JSON with correlation ids, plain text, or none.",
    )
    capture: bool | None = setting(
        "OTEL_OPS_LOG_CAPTURE",
        _env.parse_bool,
        True,
        "Install otel-ops' handlers on the root logger (false: leave logging alone).",
    )
    schedule_delay: float | None = setting(
        "OTEL_BLRP_SCHEDULE_DELAY",
        _env.parse_millis_as_seconds,
        _DEFAULT_LOGS_SCHEDULE_DELAY_S,
        "Export every N ms.",
    )
    max_queue_size: int | None = setting(
        "OTEL_BLRP_MAX_QUEUE_SIZE", _env.parse_positive_int, _DEFAULT_MAX_QUEUE_SIZE, "Records held at most."
    )
    max_export_batch_size: int | None = setting(
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
        _env.parse_positive_int,
        _DEFAULT_MAX_EXPORT_BATCH_SIZE,
        "Records per export request.",
    )
    max_queue_bytes: int | None = setting(
        ("OTEL_OPS_BLRP_MAX_QUEUE_BYTES", "OTEL_OPS_MAX_QUEUE_BYTES"),
        _env.parse_positive_int,
        _DEFAULT_MAX_QUEUE_BYTES,
        "Approximate encoded bytes of log records held at most; beyond, the oldest are dropped.",
    )
    attribute_value_length_limit: int | None = setting(
        ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
        _env.parse_non_negative_int,
        _DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        "Longest string attribute value of an exported log record (characters; a stack trace keeps its end).",
    )
    body_length_limit: int | None = setting(
        "OTEL_OPS_LOG_BODY_LENGTH_LIMIT",
        _env.parse_non_negative_int,
        _DEFAULT_LOG_BODY_LENGTH_LIMIT,
        "Longest exported log message (characters; longer ones are cut; stdout lines stay whole).",
    )


@dataclass(frozen=True)
class HttpOptions:
    excluded_paths: tuple[str, ...] | None = setting(
        ("OTEL_OPS_EXCLUDED_PATHS", "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "OTEL_PYTHON_EXCLUDED_URLS"),
        _env.parse_list,
        _DEFAULT_EXCLUDED_PATHS,
        "Request paths (exact, or prefix ending in '*') that get no span or metric.",
    )
    request_id_header: str | None = setting(
        "OTEL_OPS_REQUEST_ID_HEADER", str, _DEFAULT_REQUEST_ID_HEADER, "Header carrying the request id."
    )
    client_propagation: bool | None = setting(
        "OTEL_OPS_CLIENT_PROPAGATION",
        _env.parse_bool,
        True,
        "Instrument httpx and requests so outgoing calls carry traceparent.",
    )


@dataclass(frozen=True)
class ScrubOptions:
    enabled: bool | None = setting(
        "OTEL_OPS_SCRUB",
        _env.parse_bool,
        True,
        "Redact secrets from logs, exceptions, span attributes, events and statuses.",
    )
    patterns: tuple[str, ...] | None = setting(
        "OTEL_OPS_SCRUB_PATTERNS",
        lambda value: tuple(p for p in value.split(";;") if p),
        (),
        "Extra regular expressions to redact, separated by ';;'.",
    )
    keys: tuple[str, ...] | None = setting(
        "OTEL_OPS_SCRUB_KEYS",
        _env.parse_list,
        (),
        "Extra attribute/header names whose values are always redacted.",
    )


@dataclass(frozen=True)
class GenAIOptions:
    prices_file: str | None = setting(
        "OTEL_OPS_GENAI_PRICES",
        str,
        None,
        "JSON or YAML price table (USD per million tokens per model) merged over the built-in one.",
    )
    prices: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CoreOptions:
    sdk_disabled: bool | None = setting(
        "OTEL_SDK_DISABLED", _env.parse_bool, False, "Turn all telemetry off (no-op providers)."
    )
    service_name: str | None = setting("OTEL_SERVICE_NAME", str, None, "service.name resource attribute.")
    resource_attributes: dict[str, str] | None = setting(
        "OTEL_RESOURCE_ATTRIBUTES", _env.parse_key_values, dict, "Extra resource attributes (k=v,...)."
    )
    shutdown_timeout: float | None = setting(
        "OTEL_OPS_SHUTDOWN_TIMEOUT",
        _env.parse_non_negative_float,
        _DEFAULT_SHUTDOWN_TIMEOUT_S,
        "Seconds the process may spend flushing telemetry at exit.",
    )


DEFAULT_SERVICE_NAME = _DEFAULT_SERVICE_NAME
