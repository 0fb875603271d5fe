"""OpenTelemetry: one client span, and one duration, per HTTP attempt.

Follows the stable HTTP client semantic conventions
(``docs/http/http-spans.md`` and ``http-metrics.md`` of
open-telemetry/semantic-conventions): a ``CLIENT`` span named after the
method for each attempt, with ``http.request.method``, ``url.full``
(redacted), ``server.address``, ``server.port``,
``http.response.status_code``, ``error.type`` and, on retries,
``http.request.resend_count``; plus ``qiscus.operation`` and
``qiscus.dialect``. The ``http.client.request.duration`` histogram (seconds,
the advised buckets) gets the same duration.

Imported only when a client is built with OpenTelemetry in reach
(``aioqiscus[otel]``); :func:`load` returns ``None`` unless a tracer provider
is configured, so an unconfigured process pays nothing per call.

Strictly private: :mod:`aioqiscus._observe` uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import anyio
from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .errors import InvalidArgumentError

__all__ = ["Telemetry", "load"]

#: The semantic conventions version the attributes follow.
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
#: http-metrics.md: the advised buckets of ``http.client.request.duration``.
DURATION_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)


def _configured(provider: trace.TracerProvider) -> bool:
    # Until an application sets one, the API hands out a proxy that records
    # nothing (or the explicit no-op provider).
    return not isinstance(
        provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


def load(
    tracer_provider: object | None, meter_provider: object | None, version: str
) -> Telemetry | None:
    """Telemetry on the given providers (else the global ones), or ``None``.

    ``None`` when neither *tracer_provider* nor a global tracer provider is
    configured.

    Raises:
        InvalidArgumentError: A provider is not an OpenTelemetry provider.
    """
    for name, given, kind in (
        ("tracer_provider", tracer_provider, trace.TracerProvider),
        ("meter_provider", meter_provider, metrics.MeterProvider),
    ):
        if given is not None and not isinstance(given, kind):
            msg = f"{name} must be an OpenTelemetry {kind.__name__}, got {given!r:.60}"
            raise InvalidArgumentError(msg)
    provider = tracer_provider or trace.get_tracer_provider()
    if not isinstance(provider, trace.TracerProvider) or not _configured(provider):
        return None
    meters = cast("metrics.MeterProvider | None", meter_provider)
    tracer = trace.get_tracer("aioqiscus", version, provider, schema_url=SCHEMA_URL)
    meter = metrics.get_meter("aioqiscus", version, meters, SCHEMA_URL)
    duration = meter.create_histogram(
        "http.client.request.duration",
        unit="s",
        description="Duration of HTTP client requests.",
        explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
    )
    return Telemetry(tracer, duration)


class Telemetry:
    """Spans and the duration histogram of one client."""

    def __init__(self, tracer: trace.Tracer, duration: metrics.Histogram) -> None:
        self._tracer = tracer
        self._duration = duration

    @contextmanager
    def attempt(
        self, method: str, common: dict[str, Any], attributes: dict[str, Any]
    ) -> Iterator[Span]:
        """The current span of one attempt.

        *common* holds the attributes the span and the duration share
        (method, server); *attributes* the span's own.
        """
        with self._tracer.start_as_current_span(
            method,
            kind=SpanKind.CLIENT,
            attributes={**common, **attributes},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span

    def answered(
        self, span: Span, common: dict[str, Any], status: int, elapsed: float
    ) -> None:
        """The attempt got *status*: 4xx and 5xx are errors for a client."""
        measured = {**common, "http.response.status_code": status}
        span.set_attribute("http.response.status_code", status)
        if status >= 400:  # noqa: PLR2004 - http-spans.md: client 4xx and 5xx
            span.set_attribute("error.type", str(status))
            span.set_status(Status(StatusCode.ERROR))
            measured["error.type"] = str(status)
        self._duration.record(elapsed, measured)

    def failed(
        self, span: Span, common: dict[str, Any], exc: BaseException, elapsed: float
    ) -> None:
        """The attempt raised *exc*; a cancellation is not an error."""
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            return
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        span.set_attribute("error.type", kind)
        span.set_status(Status(StatusCode.ERROR))
        self._duration.record(elapsed, {**common, "error.type": kind})
