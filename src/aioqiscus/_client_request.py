"""The escape hatch: ``client.request()``, mixed into :class:`~aioqiscus.QiscusClient`.

Reaches an endpoint the client does not wrap (a new server feature, an
undocumented parameter) with everything the wrapped calls have: the
credential headers, negotiation, retries for idempotent verbs only, the
attempt deadline, the response size limit, redaction and typed errors. The
path is always below the dialect's prefix on the client's own base URL, so
the secret key never goes to another host: what could leave it (a full URL,
``..``, a query or fragment in the path, CR/LF) is refused before sending.
"""

from __future__ import annotations

import json as std_json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from ._diagnose import not_qiscus
from ._envelope import read_body
from ._validate import VERSIONS, check_url_value
from ._wire import Dialect, Query, RequestSpec
from .errors import InvalidArgumentError, ResponseShapeError

if TYPE_CHECKING:
    from ._negotiate import Negotiator
    from ._transport import Transport

__all__: list[str] = []

#: Verbs the escape hatch sends, and whether repeating each is harmless
#: (RFC 9110 9.2.2): POST and PATCH are never retried once they may have
#: reached the server.
METHODS = {"GET": True, "PUT": True, "DELETE": True, "POST": False, "PATCH": False}
#: A scheme (``https:``) or an authority (``//host``) at the start: a URL.
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|[/\\]{2})")
#: What a query value may be.
_SCALARS = (str, int, float)


def check_method(value: object) -> str:
    """An HTTP verb of :data:`METHODS`, upper case."""
    if not isinstance(value, str):
        msg = f"method must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    method = value.upper()
    if method not in METHODS:
        msg = f"method must be one of {', '.join(METHODS)}, got {value!r}"
        raise InvalidArgumentError(msg)
    return method


def check_path(value: object) -> str:
    """A path below a dialect's prefix, without a leading slash.

    Refused: a URL (to any host: the credentials go only to the base URL),
    ``..`` segments, CR/LF and other control characters, ``?`` and ``#``
    (pass ``params=``), backslashes; also when percent-encoded.
    """
    if not isinstance(value, str):
        msg = f"path must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    decoded = unquote(value)
    if _URL.match(value) or _URL.match(decoded):
        msg = (
            f"path must be relative to the API prefix (e.g. 'user_profile'), not "
            f"a URL: {value!r}; the request goes to the client's base_url only"
        )
        raise InvalidArgumentError(msg)
    for text in (value, decoded):
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):  # noqa: PLR2004
            msg = f"path must not contain control characters (CR, LF...): {value!r}"
            raise InvalidArgumentError(msg)
        if "?" in text or "#" in text:
            msg = f"path must not contain '?' or '#' (pass params=...): {value!r}"
            raise InvalidArgumentError(msg)
        if "\\" in text or ".." in text.split("/"):
            msg = f"path must not contain '..' segments or backslashes: {value!r}"
            raise InvalidArgumentError(msg)
    path = value.removeprefix("/")
    if not path:
        msg = "path must name an endpoint, e.g. 'user_profile'"
        raise InvalidArgumentError(msg)
    return path


def check_params(value: object) -> Query:
    """Query parameters as ordered pairs; a sequence value repeats its key."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        msg = f"params must be a mapping, got {type(value).__name__}"
        raise TypeError(msg)
    pairs: list[tuple[str, str]] = []
    for key, item in value.items():
        if not isinstance(key, str):
            msg = f"params keys must be str, got {type(key).__name__}"
            raise TypeError(msg)
        many = isinstance(item, Sequence) and not isinstance(item, str)
        pairs.extend((key, _query_value(key, v)) for v in (item if many else [item]))
    return tuple(pairs)


def _query_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _SCALARS):
        # Held to the limit of every wrapped call's ids: httpx refuses a URL
        # over 64 KiB with an exception of its own.
        return check_url_value(str(value), f"params[{key!r}]")
    msg = f"params[{key!r}] must be a str, int, float or bool (or a list of them)"
    raise TypeError(msg)


def check_body(value: object) -> Mapping[str, Any] | None:
    """A JSON object that encodes as strict JSON (RFC 8259), or ``None``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        msg = f"json must be a mapping (a JSON object), got {type(value).__name__}"
        raise TypeError(msg)
    try:
        std_json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        msg = f"json is not JSON-serialisable: {exc}"
        raise InvalidArgumentError(msg) from exc
    return value


def check_dialect(value: object) -> Dialect | None:
    """A pinned dialect (``"v2"``, ``"v2.1"``, a :class:`Dialect`), or ``None``."""
    if value is None or isinstance(value, Dialect):
        return value
    # VERSIONS maps "auto" to None: refused here too (None is the default).
    found = VERSIONS.get(value) if isinstance(value, str) else None
    if found is None:
        msg = f"dialect must be 'v2', 'v2.1' or None, got {value!r}"
        raise InvalidArgumentError(msg)
    return found


class RequestOperations:
    """``request()``: any endpoint, with the client's auth, retries and errors."""

    if TYPE_CHECKING:  # provided by QiscusClient
        _negotiator: Negotiator
        _transport: Transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        dialect: Literal["v2", "v2.1"] | Dialect | None = None,
        raw: bool = False,
    ) -> Any:
        """Call an endpoint the client does not wrap; return its decoded JSON.

        ``await client.request("GET", "user_profile", params={"user_id": u})``
        sends ``GET /api/v2.1/rest/user_profile?user_id=u`` on a v2.1
        server, with the client's credentials, deadline, size limit and
        retry policy (GET, PUT and DELETE are retried; POST and PATCH are
        not once they may have reached the server, and such a failure raises
        :class:`~aioqiscus.errors.AmbiguousSendError`).

        Args:
            method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
            path: The endpoint, relative to the dialect's prefix
                (``/api/v2.1/rest/``); a leading ``/`` is ignored.
            params: Query parameters; a list value repeats its key (name it
                ``"ids[]"`` where the server expects that).
            json: The JSON object sent as the body.
            dialect: The dialect whose prefix to use; by default the
                negotiated one (negotiating first if needed).
            raw: Return the whole decoded body instead of its ``results``.

        Returns:
            The envelope's ``results`` (or the whole body where it has none,
            or with *raw*).

        Raises:
            InvalidArgumentError: before sending, for an unknown method, a
                URL or a path with ``..``, CR/LF, ``?`` or ``#``, a body that
                is not JSON, an unknown dialect.
            APIError: the server answered an error status (its subclass:
                :class:`~aioqiscus.errors.NotFoundError`, ...).
            TransportError: no complete answer arrived.
            ResponseShapeError: the answer is not JSON.
        """
        verb = check_method(method)
        endpoint = check_path(path)
        query = check_params(params)
        body = check_body(json)
        pinned = check_dialect(dialect)
        negotiator = self._negotiator
        served = (
            pinned or negotiator.dialect or await negotiator.resolve(self._transport)
        )
        spec = RequestSpec(
            verb,
            f"{served.prefix}/{endpoint}",
            query,
            body,
            idempotent=METHODS[verb],
        )
        answer = await self._transport.send(spec, "request", served)
        try:
            data = read_body(answer)
        except ResponseShapeError as exc:
            if answer.status_code >= 300:  # noqa: PLR2004 - a redirect, said as such
                raise
            raise not_qiscus(exc, self._transport.base_url) from exc
        if not raw and isinstance(data, dict) and "results" in data:
            return data["results"]
        return data
