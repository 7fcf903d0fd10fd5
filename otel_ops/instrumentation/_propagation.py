"""Incoming context: the request's headers as the carrier the configured propagators read.

Every propagator in ``OTEL_PROPAGATORS`` (or set with ``propagate.set_global_textmap``) sees every header,
under its lower-case name; a header sent more than once is one comma-joined value, as HTTP combines repeated
field lines (RFC 9110, section 5.3), so two ``baggage`` headers give all their entries and two
``traceparent`` headers are invalid (a new trace), as W3C Trace Context requires. With only the W3C
propagators configured (the default), headers they never read are not decoded at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import propagate
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

Carrier = dict[str, str]
_W3C = {
    TraceContextTextMapPropagator: (b"traceparent", b"tracestate"),
    W3CBaggagePropagator: (b"baggage",),
}


class HeaderGetter(Getter[Carrier]):
    """Reads a carrier of lower-case header names whatever the case of the key a propagator asks for."""

    def get(self, carrier: Carrier, key: str) -> list[str] | None:
        value = carrier.get(key)
        if value is None:
            value = carrier.get(key.lower())
        return None if value is None else [value]

    def keys(self, carrier: Carrier) -> list[str]:
        return list(carrier)


HEADER_GETTER = HeaderGetter()


def add_header(carrier: Carrier, name: bytes, value: bytes) -> None:
    """Add one ASGI header (lower-case name) to ``carrier``; repeated headers are comma-joined."""
    key = name.decode("latin-1")
    text = value.decode("latin-1")
    previous = carrier.get(key)
    carrier[key] = text if previous is None else f"{previous}, {text}"


def carrier_from(headers: Iterable[tuple[bytes, bytes]]) -> Carrier:
    carrier: Carrier = {}
    for name, value in headers:
        add_header(carrier, name, value)
    return carrier


def _read_fields(textmap: TextMapPropagator) -> frozenset[bytes] | None:
    """The header names ``textmap`` reads, when it is made only of W3C propagators; None for any other
    (a propagator may read headers beyond its ``fields``, e.g. Jaeger's ``uberctx-*`` baggage)."""
    members: list[TextMapPropagator] | None = getattr(textmap, "_propagators", None)
    if members is None:
        members = [textmap]
    names: set[bytes] = set()
    for member in members:
        fields = _W3C.get(type(member))
        if fields is None:
            return None
        names.update(fields)
    return frozenset(names)


class IncomingPropagation:
    """The global propagator at request time, and which headers it needs (None: all of them)."""

    def __init__(self) -> None:
        self._cached: tuple[TextMapPropagator | None, frozenset[bytes] | None] = (None, None)

    def current(self) -> tuple[TextMapPropagator, frozenset[bytes] | None]:
        textmap = propagate.get_global_textmap()
        cached = self._cached
        if cached[0] is not textmap:
            cached = self._cached = (textmap, _read_fields(textmap))
        return textmap, cached[1]

    @staticmethod
    def extract(textmap: TextMapPropagator, carrier: Carrier) -> Context:
        return textmap.extract(carrier, getter=HEADER_GETTER)
