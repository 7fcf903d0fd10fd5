"""Standard OTEL_* configuration, parsed by the specification's rules; explicit arguments win."""

from __future__ import annotations

import logging

import pytest

from otel_ops.config import _env
from otel_ops.config import settings as s


@pytest.fixture(autouse=True)
def _fresh_warnings():
    _env._warned.clear()


def test_empty_values_mean_unset():
    options = s.resolve(s.TracesOptions(), {"OTEL_TRACES_SAMPLER": "  ", "OTEL_BSP_MAX_QUEUE_SIZE": ""})
    assert options.sampler == "parentbased_always_on"
    assert options.max_queue_size == 2048


def test_booleans_are_true_only_for_true(caplog):
    assert s.resolve(s.CoreOptions(), {"OTEL_SDK_DISABLED": "TRUE"}).sdk_disabled is True
    assert s.resolve(s.CoreOptions(), {"OTEL_SDK_DISABLED": "false"}).sdk_disabled is False
    with caplog.at_level(logging.WARNING, "otel_ops.config"):
        assert s.resolve(s.CoreOptions(), {"OTEL_SDK_DISABLED": "1"}).sdk_disabled is False
    assert "OTEL_SDK_DISABLED" in caplog.text


def test_bad_values_are_warned_about_once_and_ignored(caplog):
    env = {
        "OTEL_BSP_MAX_QUEUE_SIZE": "lots",
        "OTEL_TRACES_SAMPLER": "sometimes",
        "OTEL_TRACES_SAMPLER_ARG": "2",
    }
    with caplog.at_level(logging.WARNING, "otel_ops.config"):
        options = s.resolve(s.TracesOptions(), env)
        s.resolve(s.TracesOptions(), env)
    assert options.max_queue_size == 2048
    assert options.sampler == "parentbased_always_on"
    assert options.sampler_arg == 1.0
    assert caplog.text.count("OTEL_BSP_MAX_QUEUE_SIZE") == 1
    assert "expected an integer" in caplog.text
    assert "between 0 and 1" in caplog.text


def test_explicit_arguments_win_over_environment():
    env = {"OTEL_TRACES_SAMPLER": "always_off", "OTEL_BSP_SCHEDULE_DELAY": "5000"}
    options = s.resolve(s.TracesOptions(sampler="traceidratio", sampler_arg=0.25), env)
    assert options.sampler == "traceidratio" and options.sampler_arg == 0.25
    assert options.schedule_delay == 5.0  # milliseconds in the environment, seconds in code


def test_generic_endpoint_gets_signal_paths_per_signal_endpoint_is_used_as_is():
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://loki:3100/otlp/v1/logs",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc,x-team=ai",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
    }
    traces = s.resolve_signal_export("traces", s.ExportOptions(), env)
    logs = s.resolve_signal_export("logs", s.ExportOptions(), env)
    assert traces.endpoint == "http://collector:4318/v1/traces"
    assert logs.endpoint == "http://loki:3100/otlp/v1/logs"
    assert traces.headers == {"authorization": "Bearer abc", "x-team": "ai"}
    assert traces.timeout == 2.5 and logs.timeout == 10.0


def test_default_is_the_local_collector_for_each_protocol():
    http = s.resolve_signal_export("metrics", s.ExportOptions(), {})
    grpc = s.resolve_signal_export("metrics", s.ExportOptions(), {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert http.endpoint == "http://localhost:4318/v1/metrics" and http.protocol == "http/protobuf"
    assert grpc.endpoint == "http://localhost:4317" and grpc.protocol == "grpc"


def test_per_signal_protocol_and_explicit_endpoint():
    env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:1"}
    explicit = s.resolve_signal_export("traces", s.ExportOptions(endpoint="http://arg:4317"), env)
    assert explicit.protocol == "grpc" and explicit.endpoint == "http://arg:4317"


def test_resource_attributes_and_lists():
    core = s.resolve(
        s.CoreOptions(), {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod,team=a%2Cb"}
    )
    assert core.resource_attributes == {"deployment.environment.name": "prod", "team": "a,b"}
    traces = s.resolve(s.TracesOptions(), {"OTEL_TRACES_EXPORTER": "console, otlp"})
    assert traces.exporter == ("console", "otlp")


def test_every_setting_is_documented():
    for options in (
        s.ExportOptions,
        s.TracesOptions,
        s.MetricsOptions,
        s.LogsOptions,
        s.HttpOptions,
        s.CoreOptions,
    ):
        for name, env, _default, doc in s.describe(options):
            assert env and doc, name


def test_queue_byte_bounds_and_value_length_limits_have_documented_defaults_and_variables():
    traces, logs = s.resolve(s.TracesOptions(), {}), s.resolve(s.LogsOptions(), {})
    assert traces.max_queue_bytes == logs.max_queue_bytes == 16 * 1024 * 1024
    assert traces.attribute_value_length_limit == logs.attribute_value_length_limit == 8192
    assert logs.body_length_limit == 16384

    shared = {"OTEL_OPS_MAX_QUEUE_BYTES": "1000000", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "500"}
    traces, logs = s.resolve(s.TracesOptions(), shared), s.resolve(s.LogsOptions(), shared)
    assert traces.max_queue_bytes == logs.max_queue_bytes == 1_000_000
    assert traces.attribute_value_length_limit == logs.attribute_value_length_limit == 500

    per_signal = {
        **shared,
        "OTEL_OPS_BSP_MAX_QUEUE_BYTES": "2000000",
        "OTEL_OPS_BLRP_MAX_QUEUE_BYTES": "3000000",
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "600",
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "700",
        "OTEL_OPS_LOG_BODY_LENGTH_LIMIT": "800",
    }
    traces, logs = s.resolve(s.TracesOptions(), per_signal), s.resolve(s.LogsOptions(), per_signal)
    assert (traces.max_queue_bytes, logs.max_queue_bytes) == (2_000_000, 3_000_000)
    assert (traces.attribute_value_length_limit, logs.attribute_value_length_limit) == (600, 700)
    assert logs.body_length_limit == 800
