"""Observation of HTTP attempts: event hooks and OpenTelemetry.

:func:`observer` builds an :class:`Observer` only when there is something to
observe for: a hook (:mod:`aioqiscus.events`), or a configured OpenTelemetry
tracer provider (:mod:`aioqiscus._otel`). Otherwise it returns ``None`` and
the transport's path stays as it is: one ``is None`` test per attempt.

URLs handed to hooks and spans are redacted here: the secret key never
travels in a URL, but any registered secret is masked all the same, and the
values of credential-like query parameters become ``REDACTED`` (the
semantic conventions' ``url.full`` rule).

Strictly private: :class:`~aioqiscus._transport.Transport` owns the observer.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

from . import _redaction
from ._wire import RawResponse, RequestSpec
from .errors import InvalidArgumentError
from .events import EventHooks, RequestEvent, ResponseEvent, RetryEvent

if TYPE_CHECKING:
    from ._otel import Telemetry

__all__ = ["Observer", "check_hooks", "emit", "observer"]

logger = logging.getLogger("aioqiscus")

_KINDS = ("request", "response", "retry")
#: Query parameters whose values are credentials (``url.full`` redaction).
_CREDENTIAL = re.compile(
    r"token|password|secret|key|sig|signature|credential", re.IGNORECASE
)


def check_hooks(
    event_hooks: Mapping[str, Any] | None, kinds: Sequence[str] = _KINDS
) -> dict[str, tuple[Any, ...]]:
    """Check *event_hooks* before any request: known kinds, plain callables."""
    if event_hooks is None:
        return {}
    if not isinstance(cast("object", event_hooks), Mapping):
        named = "/".join(repr(k) for k in kinds)
        msg = f"event_hooks must be a mapping of {named} to lists"
        raise InvalidArgumentError(msg)
    found: dict[str, tuple[Any, ...]] = {}
    for kind, hooks in event_hooks.items():
        if kind not in kinds:
            msg = f"unknown event hook {kind!r}; expected one of {list(kinds)}"
            raise InvalidArgumentError(msg)
        if callable(hooks) or not isinstance(hooks, Sequence):
            msg = f"event_hooks[{kind!r}] must be a list of callables"
            raise InvalidArgumentError(msg)
        for hook in hooks:
            if not callable(hook):
                msg = f"event_hooks[{kind!r}] holds {hook!r}, which is not callable"
                raise InvalidArgumentError(msg)
            if inspect.iscoroutinefunction(hook):
                msg = (
                    f"event_hooks[{kind!r}]: {hook!r} is async; hooks are called "
                    "synchronously (start a task from a plain function instead)"
                )
                raise InvalidArgumentError(msg)
        if hooks:
            found[kind] = tuple(hooks)
    return found


def emit(hooks: tuple[Any, ...], event: object) -> None:
    """Call each hook with *event*; one that raises is logged and ignored."""
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("event hook %r failed; ignored", hook)


#: What loads telemetry: providers (or ``None`` for the global ones), version.
_Load = Callable[[object | None, object | None, str], "Telemetry | None"]


@functools.cache
def _otel_loader() -> _Load | None:
    """``aioqiscus._otel.load``, or ``None`` without OpenTelemetry: tried once.

    A failed import leaves nothing in ``sys.modules``, so trying at every
    client would find, compile and run the module again each time (2 ms a
    client without ``aioqiscus[otel]``).
    """
    try:
        from . import _otel  # noqa: PLC0415 - the optional aioqiscus[otel]
    except ImportError:
        return None
    return _otel.load


def _telemetry(
    tracer_provider: object | None, meter_provider: object | None
) -> Telemetry | None:
    load = _otel_loader()
    if load is None:
        if tracer_provider is not None or meter_provider is not None:
            msg = "OpenTelemetry providers need pip install 'aioqiscus[otel]'"
            raise InvalidArgumentError(msg)
        return None
    from . import __version__  # noqa: PLC0415 - the package is loaded by now

    return load(tracer_provider, meter_provider, __version__)


def observer(
    *,
    base_url: str,
    event_hooks: EventHooks | Mapping[str, Any] | None,
    tracer_provider: object | None,
    meter_provider: object | None,
) -> Observer | None:
    """An observer for these hooks and providers, or ``None`` if none is due.

    Raises:
        InvalidArgumentError: *event_hooks* is malformed, or a provider was
            given without OpenTelemetry installed.
    """
    hooks = check_hooks(event_hooks)
    telemetry = _telemetry(tracer_provider, meter_provider)
    if not hooks and telemetry is None:
        return None
    return Observer(base_url, hooks, telemetry)


def _error_name(exc: BaseException) -> str:
    return type(exc).__name__


class Observer:
    """Report each HTTP attempt to the hooks and, if configured, as a span.

    Strictly private.
    """

    def __init__(
        self,
        base_url: str,
        hooks: Mapping[str, tuple[Any, ...]],
        telemetry: Telemetry | None,
    ) -> None:
        self._base_url = base_url
        parts = urlsplit(base_url)
        default_port = 443 if parts.scheme == "https" else 80
        self._server = {
            "server.address": parts.hostname or "",
            "server.port": parts.port or default_port,
        }
        self._on_request = hooks.get("request", ())
        self._on_response = hooks.get("response", ())
        self._on_retry = hooks.get("retry", ())
        self._telemetry = telemetry

    def url(self, spec: RequestSpec) -> str:
        """The request's absolute URL, redacted."""
        url = self._base_url + spec.path
        if spec.query:
            query = [
                (k, "REDACTED" if _CREDENTIAL.search(k) else v) for k, v in spec.query
            ]
            url += "?" + urlencode(query)
        return _redaction.scrub(url)

    _emit = staticmethod(emit)

    async def exchange(
        self,
        send: Callable[[RequestSpec, int], Awaitable[RawResponse]],
        spec: RequestSpec,
        attempt: int,
        operation: object,
        dialect: object,
    ) -> RawResponse:
        """Run one attempt (*send*), reporting it before and after.

        *operation* and *dialect* are reported as text (``str()``).
        """
        operation, dialect = str(operation), str(dialect)
        url = self.url(spec)
        method = spec.method
        if self._on_request:
            self._emit(
                self._on_request,
                RequestEvent(operation, dialect, method, url, attempt),
            )
        common = {"http.request.method": method, **self._server}
        attributes: dict[str, Any] = {
            "url.full": url,
            "qiscus.operation": operation,
            "qiscus.dialect": dialect,
        }
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        telemetry = self._telemetry
        scope = (
            nullcontext(None)
            if telemetry is None
            else telemetry.attempt(method, common, attributes)
        )
        head = (operation, dialect, method, url, attempt)
        started = time.perf_counter()
        with scope as span:
            try:
                raw = await send(spec, attempt)
            except BaseException as exc:
                elapsed = time.perf_counter() - started
                if telemetry is not None and span is not None:
                    telemetry.failed(span, common, exc, elapsed)
                self._responded(head, None, elapsed, None, _error_name(exc))
                raise
            elapsed = time.perf_counter() - started
            if telemetry is not None and span is not None:
                telemetry.answered(span, common, raw.status_code, elapsed)
        request_id = raw.headers.get("x-request-id")
        self._responded(head, raw.status_code, elapsed, request_id, None)
        return raw

    def _responded(
        self,
        head: tuple[str, str, str, str, int],
        status: int | None,
        elapsed: float,
        request_id: str | None,
        error: str | None,
    ) -> None:
        """Report an attempt's end (*head*: operation to attempt) to the hooks."""
        if self._on_response:
            event = ResponseEvent(*head, status, elapsed, request_id, error)
            self._emit(self._on_response, event)

    def retry(
        self,
        spec: RequestSpec,
        attempt: int,
        delay: float,
        operation: object,
        dialect: object,
        outcome: RawResponse | BaseException,
    ) -> None:
        """Report that *attempt* ended in *outcome*; the next follows in *delay* s."""
        if not self._on_retry:
            return
        if isinstance(outcome, BaseException):
            status, error = None, _error_name(outcome)
        else:
            status, error = outcome.status_code, None
        event = RetryEvent(
            str(operation),
            str(dialect),
            spec.method,
            self.url(spec),
            attempt,
            delay,
            status,
            error,
        )
        self._emit(self._on_retry, event)
