"""A real pipeline with known traffic for the explain tests.

Jaeger, VictoriaLogs and the Collector (:func:`tests.support.stores.running_stores`), a real Prometheus on
the port the Collector remote-writes to, and the instrumented :mod:`checkout_app` under uvicorn. Requests
carry a ``traceparent`` with a trace id chosen here, so each test knows which traces should be found:
some checkouts succeed, some are declined (500, an error log record, one error fingerprint), one request
is slow. :func:`running_pipeline` returns once all of it has arrived in the three stores.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from otel_ops.stack.processes import ManagedProcess
from tests.collector.processes import Prometheus, start_prometheus
from tests.support.ports import free_port
from tests.support.services import uvicorn_app
from tests.support.stores import Stores, running_stores

APP_DIR = Path(__file__).parent
ROUTE = "/checkout/{order_id}"
ERROR_TYPE = "checkout_app.PaymentDeclined"


def new_trace_id() -> str:
    return uuid.uuid4().hex


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"


def poll(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """``check()`` until it returns something truthy; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")


@dataclass
class Pipeline:
    stores: Stores
    prometheus: Prometheus
    service_name: str
    app_url: str
    declined: list[str] = field(default_factory=list)  # trace ids of failed checkouts
    paid: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    fingerprint: str = ""  # of PaymentDeclined, as the instrumentation computed it

    @property
    def jaeger_url(self) -> str:
        return self.stores.jaeger_url

    @property
    def victorialogs_url(self) -> str:
        return self.stores.victorialogs_url

    def cli_urls(self) -> list[str]:
        """Store flags of ``otel-ops explain`` for this pipeline (Alertmanager on a closed port)."""
        return [
            *("--jaeger-url", self.jaeger_url),
            *("--victorialogs-url", self.victorialogs_url),
            *("--prometheus-url", self.prometheus.url),
            *("--alertmanager-url", f"http://127.0.0.1:{free_port()}"),
        ]

    def checkout(self, order_id: int, *, decline: bool = False, trace_id: str | None = None) -> str:
        trace_id = trace_id or new_trace_id()
        response = httpx.post(
            f"{self.app_url}/checkout/{order_id}",
            params={"decline": "true"} if decline else None,
            headers={"traceparent": traceparent(trace_id)},
            timeout=10,
        )
        assert response.status_code == (500 if decline else 200), response.text
        (self.declined if decline else self.paid).append(trace_id)
        return trace_id

    def slow_request(self) -> str:
        trace_id = new_trace_id()
        response = httpx.get(
            f"{self.app_url}/slow", headers={"traceparent": traceparent(trace_id)}, timeout=10
        )
        assert response.status_code == 200, response.text
        self.slow.append(trace_id)
        return trace_id


def _service(state: Path, port: int, service_name: str, otlp_endpoint: str) -> ManagedProcess:
    log = state / "checkout-service.log"
    return uvicorn_app(
        "checkout_app:app", APP_DIR, port, service_name, otlp_endpoint, log, export_delay_ms=200
    )


def _span_fingerprint(jaeger_url: str, trace_id: str) -> str:
    body = httpx.get(f"{jaeger_url}/api/v3/traces/{trace_id}", timeout=5).json()
    for resource in body["result"]["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for attribute in span.get("attributes", []):
                    if attribute["key"] == "error.fingerprint":
                        return str(attribute["value"]["stringValue"])
    return ""


def _logs(victorialogs_url: str, query: str) -> list[str]:
    response = httpx.post(f"{victorialogs_url}/select/logsql/query", data={"query": query}, timeout=5)
    return [line for line in response.text.splitlines() if line.strip()]


@contextmanager
def running_pipeline(state: Path, declined: int = 3, paid: int = 3) -> Iterator[Pipeline]:
    """The pipeline with ``declined`` failed and ``paid`` good checkouts and one slow request arrived."""
    with ExitStack() as cleanup, running_stores(state / "stores") as stores:
        prometheus = start_prometheus(state / "prometheus", port=stores.ports.prometheus)
        cleanup.callback(prometheus.process.stop)
        port = free_port()
        service_name = f"checkout-{uuid.uuid4().hex[:6]}"
        service = _service(state, port, service_name, stores.otlp_http)
        service.start()
        cleanup.callback(service.stop)
        service.wait_ready(30)
        pipeline = Pipeline(stores, prometheus, service_name, f"http://127.0.0.1:{port}")
        for order in range(declined + paid):
            pipeline.checkout(1000 + order, decline=order < declined)
        pipeline.slow_request()
        wait_until_arrived(pipeline)
        yield pipeline


def wait_until_arrived(pipeline: Pipeline, timeout: float = 60) -> None:
    """Every trace in Jaeger, the error logs in VictoriaLogs, exemplars and error counts in Prometheus."""
    jaeger = pipeline.jaeger_url
    for trace_id in [*pipeline.declined, *pipeline.paid, *pipeline.slow]:
        poll(
            f"trace {trace_id} in Jaeger",
            lambda t=trace_id: httpx.get(f"{jaeger}/api/v3/traces/{t}").is_success,
            timeout,
        )
    pipeline.fingerprint = poll(
        "the error fingerprint on the declined checkout's span",
        lambda: _span_fingerprint(jaeger, pipeline.declined[-1]),
        timeout,
    )
    poll(
        "the declined checkouts' error logs in VictoriaLogs",
        lambda: (
            len(_logs(pipeline.victorialogs_url, f"exception.fingerprint:={pipeline.fingerprint}"))
            >= len(pipeline.declined)
        ),
        timeout,
    )
    for trace_id in [*pipeline.paid, *pipeline.slow]:
        poll(
            f"logs of trace {trace_id}",
            lambda t=trace_id: _logs(pipeline.victorialogs_url, f"trace_id:={t}"),
            timeout,
        )
    service = pipeline.service_name
    poll(
        "failing exemplars of the service in Prometheus",
        lambda: [
            e
            for s in pipeline.prometheus.exemplars(
                f'http_server_request_duration_seconds_bucket{{service_name="{service}"}}'
            )
            if s["seriesLabels"].get("http_response_status_code") == "500"
            for e in s["exemplars"]
        ],
        timeout,
    )
    poll(
        "the declined checkouts counted in app_errors_total",
        lambda: (
            sum(
                float(r["value"][1])
                for r in pipeline.prometheus.query(f'app_errors_total{{service_name="{service}"}}')
            )
            >= len(pipeline.declined)
        ),
        timeout,
    )
