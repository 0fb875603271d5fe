"""Errors that say where the cause is: not a Qiscus server, a dialect not served.

Pure: each function takes an error the envelope reader raised and what the
client knows (its base URL, the request, the dialect and how it was
chosen) and returns the same kind of error with a message that names the
likely cause and what to try. Strictly private; the client calls these on
its error paths only.
"""

from __future__ import annotations

from ._wire import Dialect, RequestSpec
from .errors import NotFoundError, ResponseShapeError

__all__ = ["bare_not_found", "not_qiscus"]

#: The opening of every "wrong server" message: users search for it.
NOT_QISCUS = "this does not look like a Qiscus server at {url}"


def not_qiscus(error: ResponseShapeError, base_url: str) -> ResponseShapeError:
    """A success status whose body is not a Qiscus envelope (HTML, other JSON)."""
    start = NOT_QISCUS.format(url=base_url)
    return ResponseShapeError(f"{start}: {error}; check base_url")


def bare_not_found(
    error: NotFoundError,
    *,
    base_url: str,
    request: RequestSpec,
    dialect: Dialect,
    pinned: bool,
) -> NotFoundError:
    """A 404 without a Qiscus envelope on a route of the dialect in use.

    Pinned: the server may not serve that dialect (try ``auto``).
    Negotiated v2: the probe's bare 404 was taken for a v2 server, and v2's
    routes 404 too: not a Qiscus server. Negotiated v2.1 (the probe got a
    Qiscus answer): this route is not served there.
    """
    where = f"{request.method} {request.path}"
    if pinned:
        text = (
            f"{where} on {base_url} answered a 404 without a Qiscus envelope: the "
            f"server may not serve the pinned {dialect} dialect; try "
            "api_version='auto' (or check base_url)"
        )
    elif dialect is Dialect.V2:
        start = NOT_QISCUS.format(url=base_url)
        text = (
            f"{start}: {where} answered a 404 without a Qiscus envelope, as the "
            "v2.1 probe did; check base_url"
        )
    else:
        text = (
            f"{where} on {base_url} answered a 404 without a Qiscus envelope: "
            "the server does not serve this route"
        )
    return NotFoundError(
        404,
        f"{text} ({error.message})",
        body=error.body,
        request_id=error.request_id,
        from_envelope=False,
    )
