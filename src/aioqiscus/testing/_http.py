"""HTTP plumbing of the fake server: ASGI in and out, request parsing.

Strictly private. It holds what any endpoint needs and none of what one
endpoint means: the ASGI types and helpers (reading the body, lifespan,
sending an answer or dropping the connection), the path split into dialect,
endpoint and item id, body decoding (JSON, form, multipart), the
:class:`Request` handlers read their parameters from, the :class:`Reject`
they raise to answer an error, the bodies of malformed-answer faults, and the
in-process httpx transport.
"""

from __future__ import annotations

import email.policy
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from email.parser import BytesParser
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

if TYPE_CHECKING:
    from ._store import CommentRecord

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
#: What a handler answers: the status and the JSON document.
Reply = tuple[int, dict[str, Any]]

JSON = "application/json"
HTML_404 = (
    b"<html><head><title>404 Not Found</title></head><body>"
    b"<center><h1>404 Not Found</h1></center><hr><center>nginx</center>"
    b"</body></html>"
)


class ConnectionDropped(Exception):  # noqa: N818 - it names an event, not a bug
    """Raised by the app to drop the connection after processing a request."""


class Reject(Exception):  # noqa: N818 - control flow inside the app
    """Answer an error envelope: *status*, *message* and its details."""

    def __init__(self, status: int, message: str, *details: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def invalid(*details: str) -> Reject:
    """A 400 ``Validation error`` with *details*."""
    return Reject(400, "Validation error", *details)


def loads(data: str | bytes) -> Any:
    """``json.loads`` whose every failure (deep nesting too) is a ValueError."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        msg = "JSON nested too deeply"
        raise ValueError(msg) from exc


def json_or_400(data: str | bytes, detail: str) -> Any:
    """*data* decoded; a 400 with *detail* when it is not JSON."""
    try:
        return loads(data)
    except ValueError:
        raise invalid(detail) from None


def dump(document: dict[str, Any]) -> bytes:
    """A JSON document as the servers send it (UTF-8, not ASCII-escaped)."""
    return json.dumps(document, ensure_ascii=False).encode()


class Request:
    """What a handler gets besides the store: parameters and a webhook list.

    Parameters come from the body (JSON or form) and the query string; an
    item id from the path (``exports/abc``) is the parameter ``:id``.

    Attributes:
        app_id: The app the request was sent to.
        origin: The scheme and host the request was sent to
            (``http://127.0.0.1:8080``), where backup downloads are served.
        posted: Comments the handler posted that the app announces by webhook.
    """

    __slots__ = ("_body", "_query", "app_id", "origin", "posted")

    def __init__(
        self,
        query: list[tuple[str, str]],
        body: Any,
        app_id: str,
        *,
        origin: str = "http://127.0.0.1",
    ) -> None:
        self._query = query
        self._body: dict[str, Any] = body if isinstance(body, dict) else {}
        self.app_id = app_id
        self.origin = origin
        self.posted: list[CommentRecord] = []

    def _lookup(self, name: str) -> Any:
        for key in (name, f"{name}[]"):
            if key in self._body:
                return self._body[key]
        array = [v for k, v in self._query if k == f"{name}[]"]
        if array:
            return array
        plain = [v for k, v in self._query if k == name]
        if not plain:
            return None
        return plain[0] if len(plain) == 1 else plain

    def raw(self, name: str) -> Any:
        """The value as sent (JSON value, form string or query value)."""
        return self._lookup(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string (a JSON number is taken as its text); ``None`` if absent."""
        value = self._lookup(name)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if value is None or value == "":
            if required:
                raise invalid(f"{name} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid(f"{name} must be a string")
        return str(value)

    def required(self, name: str) -> str:
        """A string that must be present and non-empty."""
        value = self.text(name, required=True)
        assert value is not None  # noqa: S101 - text(required=True) ensures it
        return value

    def strings(self, name: str, *, required: bool = False) -> list[str]:
        """An array of non-empty strings (one string counts as one element)."""
        value = self._lookup(name)
        if value is None:
            if required:
                raise invalid(f"{name} is required")
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v for v in value
        ):
            raise invalid(f"{name} must be an array of strings")
        return value

    def flag(self, name: str) -> bool:
        """A boolean: JSON ``true`` or the text ``true``/``1``."""
        value = self._lookup(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def number(self, name: str, default: int, *, maximum: int | None = None) -> int:
        """A positive integer, *default* when absent, capped at *maximum*."""
        value = self._lookup(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid(f"{name} must be an integer") from None
        if number < 1:
            raise invalid(f"{name} must be >= 1")
        return min(number, maximum) if maximum else number

    def json_text(self, name: str) -> str | None:
        """An option-like field: a JSON string, or an object we serialise."""
        value = self._lookup(name)
        if value is None:
            return None
        if isinstance(value, dict):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, str):
            return value
        raise invalid(f"{name} must be a JSON string")


# ---------------------------------------------------------------- the request


def split(path: str) -> tuple[str | None, str, str | None]:
    """(dialect, endpoint, item id): ``exports/abc`` is ``exports/:id``, ``abc``."""
    parts = path.strip("/").split("/")
    if len(parts) >= 4 and parts[0] == "api" and parts[2] == "rest":  # noqa: PLR2004
        if len(parts) == 5:  # noqa: PLR2004
            return parts[1], f"{parts[3]}/:id", parts[4]
        return parts[1], "/".join(parts[3:]), None
    return None, "", None


def query_pairs(scope: Scope) -> list[tuple[str, str]]:
    """The query string's pairs, in order, blanks kept."""
    raw: bytes = scope.get("query_string", b"")
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)


def origin(scope: Scope, headers: dict[str, str]) -> str:
    """Where the request was sent: scheme and ``Host`` (or the bound address)."""
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", None)
        name = f"[{server[0]}]" if ":" in server[0] else server[0]
        host = name if server[1] is None else f"{name}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def header_map(scope: Scope) -> dict[str, str]:
    """The request headers, names lower-cased."""
    return {
        k.decode("latin-1").lower(): v.decode("latin-1")
        for k, v in scope.get("headers", [])
    }


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the ASGI lifespan protocol: nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def decode_body(body: bytes, headers: dict[str, str]) -> Any:
    """The body as a dict: JSON object, form fields or multipart parts.

    Raises:
        Reject: A 400 for a body that is not JSON or not a JSON object.
    """
    if not body.strip():
        return {}
    ctype = headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        return _multipart(body, ctype)
    if "application/x-www-form-urlencoded" in ctype:
        return _form(body)
    data = json_or_400(body, "request body is not valid JSON")
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


def _form(body: bytes) -> dict[str, Any]:
    """Form fields; ``key[]`` and repeated keys become lists."""
    form: dict[str, Any] = {}
    for key, value in parse_qsl(
        body.decode("utf-8", "replace"), keep_blank_values=True
    ):
        if key.endswith("[]") or key in form:
            existing = form.get(key)
            form[key] = (
                [*existing, value]
                if isinstance(existing, list)
                else ([existing, value] if existing is not None else [value])
            )
        else:
            form[key] = value
    return form


def _multipart(body: bytes, ctype: str) -> dict[str, Any]:
    """Form fields as strings and files as (filename, bytes)."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise invalid("malformed multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        content = part.get_payload(decode=True)
        content = content if isinstance(content, bytes) else b""
        filename = part.get_filename()
        fields[name] = (filename, content) if filename else content.decode()
    return fields


def decode_for_journal(body: bytes, headers: dict[str, str]) -> Any:
    """The body as the journal shows it: decoded, or as text if undecodable."""
    try:
        decoded = decode_body(body, headers)
    except Reject:
        return body.decode("utf-8", "replace")
    if isinstance(decoded, dict):
        # Keep file uploads readable in the journal: their size, not bytes.
        return {
            k: (f"<file {v[0]}: {len(v[1])} bytes>" if isinstance(v, tuple) else v)
            for k, v in decoded.items()
        }
    return decoded


def mask(headers: dict[str, str]) -> dict[str, str]:
    """The headers with every secret's value replaced by ``***``."""
    return {k: ("***" if "secret" in k else v) for k, v in headers.items()}


# ---------------------------------------------------------------- the answer


async def respond(
    send: Send,
    status: int,
    content: bytes,
    ctype: str,
    *,
    retry_after: str | None = None,
    drop: bool = False,
    clock_skew: float = 0.0,
) -> None:
    """Send the answer; with *drop*, only half the body, leaving it unfinished.

    The caller then raises :class:`ConnectionDropped` to drop the connection.
    The ``Date`` header reads the server's clock, *clock_skew* seconds off.
    """
    headers = [
        (b"content-type", ctype.encode()),
        (b"content-length", str(len(content)).encode()),
        (b"date", formatdate(time.time() + clock_skew, usegmt=True).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if drop:
        half = content[: len(content) // 2]
        await send({"type": "http.response.body", "body": half, "more_body": True})
        return
    await send({"type": "http.response.body", "body": content})


def reason(status: int) -> str:
    """The message of an injected status fault's error envelope."""
    return {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Error")


def malformed(kind: str) -> tuple[bytes, str]:
    """The body and content type of a malformed-answer fault."""
    if kind == "html":
        return b"<html><body><h1>It works!</h1></body></html>", "text/html"
    if kind == "truncated":
        return b'{"results": {"room": {"room_id": "1", "room_na', JSON
    if kind == "wrong_types":
        # Every results key the client reads, each with the wrong JSON type.
        wrong = {
            "room": 5,
            "rooms": "x",
            "rooms_info": 1,
            "participants": {"a": 1},
            "participants_added": 3,
            "participants_removed": 3,
            "unread_counts": 7,
            "comment": [],
            "comments": "x",
            "user": None,
        }
        return json.dumps({"results": wrong, "status": 200}).encode(), JSON
    if kind == "not_envelope":
        return b'{"ok": true}', JSON
    return b"", JSON


class InProcessTransport(httpx.AsyncBaseTransport):
    """ASGITransport that turns a dropped connection into ``httpx.ReadError``."""

    def __init__(self, app: App) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Call the app; a dropped connection is a read error, as on a socket."""
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            msg = "connection dropped by the fake server"
            raise httpx.ReadError(msg, request=request) from exc
