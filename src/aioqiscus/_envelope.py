"""The Qiscus envelope, the same in both dialects (pure, no I/O).

Every answer is ``{"status": N, "results": {...}}`` or, for errors,
``{"status": N, "error": {"message": ..., "detailed_messages": [...]}}``
(``qiscus-rest-v2.md``, ``v2.1/*.md``). This module holds what reading that
takes and nothing dialect-specific:

- :func:`loads` and :func:`decode_json`: JSON decoding (msgspec with
  ``aioqiscus[fast]``) whose every failure is typed;
- :func:`is_envelope`: a Qiscus envelope, as opposed to a proxy's HTML page
  or another service's JSON error;
- :func:`error_from`: the :class:`~aioqiscus.errors.APIError` subclass for a
  status, with the envelope's messages;
- :func:`decipher`: ``results`` or the mapped error (gidgethub's
  ``sansio.decipher_response``), and :func:`read_body`, the whole body;
- :func:`structure`, :func:`field`, :func:`items`: running a dialect's parser
  on ``results`` so that any failure is a
  :class:`~aioqiscus.errors.ResponseShapeError`.

The transport uses it to map retryable statuses, the client to decipher
each response, the dialects to read ``results``. Every text taken from a
response into an error is scrubbed of registered secret keys before it is
cut to length (:func:`~aioqiscus._redaction.clip`), so a server that echoes
the key never gets it, or a prefix of it, into an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import _json
from ._redaction import clip
from ._retry import retry_after_seconds
from ._wire import RawResponse
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseShapeError,
    ServerError,
    scrub_body,
)

T = TypeVar("T")


def loads(data: str | bytes) -> Any:
    """Decode JSON (:mod:`aioqiscus._json`); every failure is a ValueError.

    Deeply nested input makes the decoder raise RecursionError, which must
    not escape as if it were a bug of ours.
    """
    try:
        return _json.loads(data)
    except RecursionError as exc:
        msg = "JSON nested too deeply"
        raise ValueError(msg) from exc


def describe(data: Any) -> str:
    """A short description of decoded JSON for error messages."""
    if isinstance(data, dict):
        return "an object with keys " + ", ".join(sorted(map(str, data))[:8])
    return f"a JSON {type(data).__name__}"


def _summary(text: str) -> str:
    """A one-line summary of a non-envelope error body (HTML, plain text)."""
    first = clip(" ".join(text.split()), 120)
    return first or "empty response body"


# ---------------------------------------------------------------- decoding


def decode_json(raw: RawResponse) -> Any:
    """Decode the body as JSON or raise :class:`ResponseShapeError`."""
    try:
        return loads(raw.body)
    except (ValueError, UnicodeDecodeError) as exc:
        msg = (
            f"expected a JSON body, got {raw.status_code} "
            f"{_summary(raw.body.decode('utf-8', 'replace'))!r}"
        )
        raise ResponseShapeError(msg) from exc


def is_envelope(data: Any) -> bool:
    """Whether *data* is a Qiscus envelope: ``results``, or an ``error`` object.

    Qiscus errors are objects (``{"message": ..., "detailed_messages": ...}``,
    shared/reference/README.md); a bare ``{"error": "Not Found"}`` is what
    many other servers and gateways answer, and proves nothing.
    """
    return isinstance(data, dict) and (
        "results" in data or isinstance(data.get("error"), dict)
    )


# ---------------------------------------------------------------- errors


def _error_class(status: int) -> type[APIError]:
    if status == 429:  # noqa: PLR2004
        return RateLimitError
    if status in (401, 403):
        return AuthenticationError
    if status == 404:  # noqa: PLR2004
        return NotFoundError
    if status >= 500:  # noqa: PLR2004
        return ServerError
    return BadRequestError


def error_from(raw: RawResponse) -> APIError:
    """Build the :class:`APIError` subclass for an error response.

    Reads the Qiscus envelope ``{"status": N, "error": {"message": ...,
    "detailed_messages": [...]}}`` where present; an HTML or plain-text body
    still yields the right class for its status. The error scrubs its own
    strings of registered secrets; the body is masked before it is cut.
    """
    text = raw.body.decode("utf-8", "replace")
    message = ""
    details: list[str] = []
    try:
        data = loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            found = error.get("detailed_messages")
            if isinstance(found, list):
                details = [str(d) for d in found]
        elif isinstance(error, str):
            message = error
    if not message:
        message = _summary(text)
    status = raw.status_code
    cls = _error_class(status)
    kwargs: dict[str, Any] = {
        "from_envelope": is_envelope(data),
        "detailed_messages": details,
        "body": scrub_body(text),
        "request_id": raw.headers.get("x-request-id"),
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after_seconds(raw.headers)
    return cls(status, message, **kwargs)


def read_body(raw: RawResponse) -> Any:
    """Return the decoded JSON body of a success, or raise the mapped error."""
    if raw.status_code >= 400:  # noqa: PLR2004
        raise error_from(raw)
    if raw.status_code >= 300:  # noqa: PLR2004
        # Redirects are never followed: they could carry credentials away.
        where = raw.headers.get("location", "an unknown location")
        msg = f"the server redirected ({raw.status_code}) to {where}; not followed"
        raise ResponseShapeError(msg)
    return decode_json(raw)


def decipher(raw: RawResponse) -> Any:
    """Return the envelope's ``results`` or raise the mapped error.

    Pure: the client calls it on every response the transport returns
    (gidgethub's ``decipher_response``).
    """
    # A success decoded at once: read_body's checks are for the others.
    data = decode_json(raw) if raw.status_code < 300 else read_body(raw)  # noqa: PLR2004
    if not isinstance(data, dict) or "results" not in data:
        msg = f"expected a Qiscus envelope with 'results', got {describe(data)}"
        raise ResponseShapeError(msg)
    return data["results"]


# ---------------------------------------------------------------- structuring


def structure(fn: Callable[[Any], T], data: Any, what: object) -> T:
    """Run a structuring function, mapping any failure to ResponseShapeError.

    *what* names the value in the error's message (a string, or an
    operation: formatted only on failure).
    """
    try:
        return fn(data)
    except ResponseShapeError:
        raise
    except Exception as exc:
        msg = f"malformed {what}: {_flatten(exc)}"
        raise ResponseShapeError(msg) from exc


def _flatten(exc: BaseException) -> str:
    import cattrs  # noqa: PLC0415 - on failure only: import aioqiscus skips it

    if isinstance(exc, cattrs.BaseValidationError):
        notes = [
            f"{_flatten(sub)} ({'; '.join(getattr(sub, '__notes__', []))})"
            for sub in exc.exceptions
        ]
        return clip("; ".join(notes), 500)
    return clip(f"{type(exc).__name__}: {exc}", 500)


def field(results: Any, *keys: str) -> Any:
    """The first of *keys* present in the ``results`` object.

    Several keys cover documents that disagree (``rooms`` vs ``rooms_info``).
    """
    if not isinstance(results, dict):
        msg = f"expected 'results' to be an object, got {describe(results)}"
        raise ResponseShapeError(msg)
    for key in keys:
        if key in results:
            return results[key]
    msg = f"'results' has none of {', '.join(keys)}; it has {describe(results)}"
    raise ResponseShapeError(msg)


def items(value: Any, what: str) -> list[Any]:
    """A JSON array (``null`` reads as empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"expected {what} to be a list, got {describe(value)}"
        raise ResponseShapeError(msg)
    return value
