"""LLM calls and agent runs by the OpenTelemetry GenAI semantic conventions, plus their cost in USD.

``with llm_call(provider="openai", model="gpt-4o") as call: ...; call.set_usage(input_tokens=.., ..)``
records a CLIENT span named ``{operation} {model}``, the ``gen_ai.client.token.usage`` and
``gen_ai.client.operation.duration`` histograms with their advised buckets, the time to the first streamed
chunk, and ``gen_ai.client.cost.usd`` from the price table. ``agent_run`` does the same for agents.
Both work as context managers (sync and async) and as decorators.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_ops.instrumentation._fingerprint import exception_type_name

F = TypeVar("F", bound=Callable[..., Any])

# Advised buckets from the GenAI semantic conventions.
TOKEN_BUCKETS = tuple(float(4**i) for i in range(14))  # 1, 4, 16, ... 67108864
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TIME_TO_FIRST_CHUNK_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
)

# USD per million tokens (input, output). List prices change: keep your own table in OTEL_OPS_GENAI_PRICES.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "o3-mini": (1.10, 4.40),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-1.5-flash": (0.075, 0.30),
}


class PriceTable:
    """Model -> (input, output) USD per million tokens; a model matches its longest listed prefix
    (``gpt-4o-2024-08-06`` is priced as ``gpt-4o``)."""

    def __init__(self, prices: Mapping[str, Any] | None = None) -> None:
        self._prices: dict[str, tuple[float, float]] = dict(DEFAULT_PRICES)
        for model, value in (prices or {}).items():
            self._prices[model] = _parse_price(model, value)
        self._by_length = sorted(self._prices, key=len, reverse=True)

    @classmethod
    def from_file(cls, path: str | Path, extra: Mapping[str, Any] | None = None) -> PriceTable:
        file = Path(path)
        try:
            text = file.read_text()
        except OSError as exc:
            raise ValueError(f"cannot read the GenAI price table {file}: {exc.strerror}") from exc
        is_yaml = file.suffix in (".yaml", ".yml")
        if is_yaml and importlib.util.find_spec("yaml") is None:
            raise ValueError(
                f"the GenAI price table {file} is YAML, which needs PyYAML: pip install pyyaml "
                "(or write the table as JSON)"
            )
        try:
            if is_yaml:
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as exc:
            raise ValueError(f"the GenAI price table {file} is not valid JSON/YAML: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ValueError(f"the GenAI price table {file} must map model names to prices")
        return cls({**data, **(extra or {})})

    def lookup(self, model: str | None) -> tuple[float, float] | None:
        if not model:
            return None
        price = self._prices.get(model)
        if price is not None:
            return price
        for name in self._by_length:
            if model.startswith(name):
                return self._prices[name]
        return None

    def cost(self, model: str | None, input_tokens: int | None, output_tokens: int | None) -> float | None:
        price = self.lookup(model)
        if price is None:
            return None
        return ((input_tokens or 0) * price[0] + (output_tokens or 0) * price[1]) / 1_000_000


def _parse_price(model: str, value: Any) -> tuple[float, float]:
    try:
        if isinstance(value, Mapping):
            return float(value["input"]), float(value["output"])
        first, second = value
        return float(first), float(second)
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"price for {model!r} must be {{'input': USD per 1M tokens, 'output': USD per 1M tokens}}"
        ) from None


class GenAIInstruments:
    def __init__(self, meter: Any, prices: PriceTable) -> None:
        self.prices = prices
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens used per LLM call, by token type.",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="Duration of LLM calls.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time from request to the first streamed chunk.",
            explicit_bucket_boundaries_advisory=TIME_TO_FIRST_CHUNK_BUCKETS,
        )
        self.cost = meter.create_counter(
            "gen_ai.client.cost.usd", unit="{USD}", description="Cost of LLM calls in US dollars."
        )
        self.agent_runs = meter.create_counter("gen_ai.agent.runs", unit="{run}", description="Agent runs.")
        self.agent_duration = meter.create_histogram(
            "gen_ai.agent.duration",
            unit="s",
            description="Duration of agent runs.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )


def _instruments() -> GenAIInstruments | None:
    from otel_ops.instrumentation._telemetry import current

    telemetry = current()
    return telemetry.genai if telemetry is not None else None


class _Recorder:
    """Shared span handling for llm_call and agent_run: context manager (sync/async) and decorator."""

    span_kind = SpanKind.CLIENT

    def __init__(self) -> None:
        self._span: trace.Span | None = None
        self._token: Any = None
        self._start = 0.0
        self.error_type: str | None = None

    def _span_name(self) -> str:
        raise NotImplementedError

    def _start_attributes(self) -> dict[str, Any]:
        raise NotImplementedError

    def _finish(self, duration: float) -> None:
        raise NotImplementedError

    @property
    def span(self) -> trace.Span:
        return self._span or trace.INVALID_SPAN

    def __enter__(self) -> Any:
        from opentelemetry import context as otel_context

        tracer = trace.get_tracer("otel_ops.genai")
        self._span = tracer.start_span(
            self._span_name(), kind=self.span_kind, attributes=self._start_attributes()
        )
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        from opentelemetry import context as otel_context

        duration = time.perf_counter() - self._start
        span = self.span
        if exc is not None and self.error_type is None:
            self.error_type = exception_type_name(exc)
            from otel_ops.instrumentation._errors import record_exception

            record_exception(exc, span)
        if self.error_type is not None:
            span.set_attribute("error.type", self.error_type)
            span.set_status(Status(StatusCode.ERROR))
        try:
            self._finish(duration)
        finally:
            span.end()
            otel_context.detach(self._token)

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    def fail(self, error_type: str) -> None:
        """Mark the operation failed without an exception (e.g. a refusal or a filtered response)."""
        self.error_type = error_type

    def _fresh(self) -> _Recorder:
        raise NotImplementedError

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class llm_call(_Recorder):
    """Record one LLM call. Report usage with :meth:`set_usage`, streaming with :meth:`first_chunk`."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        operation: str = "chat",
        server_address: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.provider = provider
        self.request_model = model
        self.operation = operation
        self.server_address = server_address
        self.extra = dict(attributes or {})
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.response_model: str | None = None
        self.time_to_first_chunk: float | None = None
        self.cost_usd: float | None = None

    def _fresh(self) -> llm_call:
        return llm_call(
            provider=self.provider,
            model=self.request_model,
            operation=self.operation,
            server_address=self.server_address,
            attributes=self.extra,
        )

    def _span_name(self) -> str:
        return f"{self.operation} {self.request_model}"

    def _start_attributes(self) -> dict[str, Any]:
        attributes = {
            "gen_ai.operation.name": self.operation,
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": self.request_model,
            **self.extra,
        }
        if self.server_address:
            attributes["server.address"] = self.server_address
        return attributes

    def set_usage(self, *, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def set_response(
        self,
        *,
        model: str | None = None,
        response_id: str | None = None,
        finish_reasons: list[str] | None = None,
    ) -> None:
        self.response_model = model
        span = self.span
        if model:
            span.set_attribute("gen_ai.response.model", model)
        if response_id:
            span.set_attribute("gen_ai.response.id", response_id)
        if finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", list(finish_reasons))

    def first_chunk(self) -> None:
        """Call when the first streamed chunk arrives (only the first call counts)."""
        if self.time_to_first_chunk is None:
            self.time_to_first_chunk = time.perf_counter() - self._start

    def _finish(self, duration: float) -> None:
        span = self.span
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": self.operation,
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": self.request_model,
        }
        if self.response_model:
            attributes["gen_ai.response.model"] = self.response_model
        if self.server_address:
            attributes["server.address"] = self.server_address
        instruments = _instruments()
        prices = instruments.prices if instruments is not None else PriceTable()
        if self.input_tokens is not None:
            span.set_attribute("gen_ai.usage.input_tokens", self.input_tokens)
        if self.output_tokens is not None:
            span.set_attribute("gen_ai.usage.output_tokens", self.output_tokens)
        if self.input_tokens is not None or self.output_tokens is not None:
            self.cost_usd = prices.cost(
                self.response_model or self.request_model, self.input_tokens, self.output_tokens
            )
            if self.cost_usd is not None:
                span.set_attribute("gen_ai.usage.cost_usd", round(self.cost_usd, 8))
        if self.time_to_first_chunk is not None:
            span.set_attribute("gen_ai.response.time_to_first_chunk", self.time_to_first_chunk)
        if instruments is None:
            return
        if self.input_tokens is not None:
            instruments.token_usage.record(self.input_tokens, {**attributes, "gen_ai.token.type": "input"})
        if self.output_tokens is not None:
            instruments.token_usage.record(self.output_tokens, {**attributes, "gen_ai.token.type": "output"})
        if self.time_to_first_chunk is not None:
            instruments.time_to_first_chunk.record(self.time_to_first_chunk, attributes)
        if self.cost_usd:
            instruments.cost.add(self.cost_usd, attributes)
        if self.error_type is not None:
            attributes["error.type"] = self.error_type
        instruments.duration.record(duration, attributes)


class agent_run(_Recorder):
    """Record one agent execution (``invoke_agent`` span, ``gen_ai.agent.runs`` and its duration)."""

    span_kind = SpanKind.INTERNAL

    def __init__(
        self, name: str, *, agent_id: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.name = name
        self.agent_id = agent_id
        self.extra = dict(attributes or {})

    def _fresh(self) -> agent_run:
        return agent_run(self.name, agent_id=self.agent_id, attributes=self.extra)

    def _span_name(self) -> str:
        return f"invoke_agent {self.name}"

    def _start_attributes(self) -> dict[str, Any]:
        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": self.name, **self.extra}
        if self.agent_id:
            attributes["gen_ai.agent.id"] = self.agent_id
        return attributes

    def _finish(self, duration: float) -> None:
        instruments = _instruments()
        if instruments is None:
            return
        status = "error" if self.error_type is not None else "ok"
        instruments.agent_runs.add(1, {"gen_ai.agent.name": self.name, "status": status})
        attributes = {"gen_ai.agent.name": self.name, "status": status}
        if self.error_type is not None:
            attributes["error.type"] = self.error_type
        instruments.agent_duration.record(duration, attributes)
