"""Cassettes: the raw HTTP exchanges of a contract run, recorded and redacted.

:class:`Recorder` is an ``httpx`` transport wrapped around a real one: it
records every exchange made while a step is running (the step's operation
and dialect travel in a context variable), never the request headers (they
carry the secret). :func:`redact` scrubs a cassette before it is written:
the secret, tokens, passwords and the emails of real users. Cassettes are
written atomically.

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx

from ..backends import DEFAULT_MAX_RESPONSE_BYTES, BoundedBody

VERSION = 1
#: What replaces a redacted string.
REDACTED = "<redacted>"
#: Set (to anything but "" or "0") to refuse every non-loopback host.
LOOPBACK_ONLY_ENV = "AIOQISCUS_CONTRACT_LOOPBACK_ONLY"

_SENSITIVE_KEY = re.compile(
    r"^(?:token|password|secret|secret_key|rt_?key|.*_token|.*_secret)$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
#: How much of a body that is not JSON we keep.
_TEXT_LIMIT = 500
#: The author of system events: no person's address (qiscus-rest-v2.md).
SYSTEM_USER = "system@qiscus.com"
#: Tokens and app ids shorter than this are not masked inside other text.
_MIN_MASKED = 6


@attrs.frozen
class Tag:
    """Which step of the tour is running: recorded with each exchange."""

    operation: str
    dialect: str
    #: Whether the step reads data the tour did not create (other users,
    #: exports): every foreign string in its answers is redacted.
    app_data: bool = False


_current: contextvars.ContextVar[Tag | None] = contextvars.ContextVar(
    "aioqiscus_contract_tag", default=None
)


@contextlib.contextmanager
def tagged(tag: Tag | None) -> Iterator[None]:
    """Record the exchanges made inside the block under *tag* (None: do not)."""
    token = _current.set(tag)
    try:
        yield
    finally:
        _current.reset(token)


@attrs.define
class Interaction:
    """One recorded exchange, as in the cassette's ``interactions`` list."""

    operation: str
    dialect: str
    method: str
    path: str
    query: list[list[str]]
    body: Any
    status: int
    response: Any
    #: The body when it was not JSON (an HTML 404), truncated; else None.
    text: str | None = None
    app_data: bool = False

    def to_json(self) -> dict[str, Any]:
        """The cassette form."""
        response: dict[str, Any] = {"status": self.status, "body": self.response}
        if self.text is not None:
            response["text"] = self.text
        data: dict[str, Any] = {
            "operation": self.operation,
            "dialect": self.dialect,
            "request": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "body": self.body,
            },
            "response": response,
        }
        if self.app_data:
            data["app_data"] = True
        return data

    @classmethod
    def from_json(cls, data: Any) -> Interaction:
        """Read one cassette entry.

        Raises:
            ValueError: The entry is not a recorded interaction.
        """
        try:
            request, response = data["request"], data["response"]
            return cls(
                operation=str(data["operation"]),
                dialect=str(data["dialect"]),
                method=str(request["method"]),
                path=str(request["path"]),
                query=[[str(k), str(v)] for k, v in request.get("query") or []],
                body=request.get("body"),
                status=int(response["status"]),
                response=response.get("body"),
                text=response.get("text"),
                app_data=bool(data.get("app_data", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"not a recorded interaction: {exc!r}"
            raise ValueError(msg) from exc


@attrs.define
class Cassette:
    """A recorded run: when, the server's facts, and the exchanges."""

    server: dict[str, Any]
    interactions: list[Interaction]
    recorded_at: str = attrs.Factory(
        lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    def to_json(self) -> dict[str, Any]:
        """The file's JSON document."""
        return {
            "version": VERSION,
            "recorded_at": self.recorded_at,
            "server": self.server,
            "interactions": [i.to_json() for i in self.interactions],
        }

    @classmethod
    def load(cls, path: Path) -> Cassette:
        """Read a cassette file.

        Raises:
            ValueError: Not a version 1 cassette.
            OSError: The file cannot be read.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            msg = f"{path} is not a JSON cassette: {exc}"
            raise ValueError(msg) from exc
        if not isinstance(data, dict) or data.get("version") != VERSION:
            msg = f"{path} is not a version {VERSION} aioqiscus contract cassette"
            raise ValueError(msg)
        entries = data.get("interactions")
        if not isinstance(entries, list):
            msg = f"{path} has no interactions list"
            raise ValueError(msg)  # noqa: TRY004 - a bad file, not a bad argument
        server = data.get("server")
        return cls(
            server=server if isinstance(server, dict) else {},
            interactions=[Interaction.from_json(e) for e in entries],
            recorded_at=str(data.get("recorded_at", "")),
        )

    def save(self, path: Path) -> None:
        """Write the cassette atomically: a reader sees the old file or the new."""
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        directory = path.resolve().parent
        fd, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=directory
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# ---------------------------------------------------------------- recording


def is_loopback(host: str) -> bool:
    """Whether *host* names this machine (``localhost``, 127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_only_from_env() -> bool:
    """Whether the environment asks to refuse every non-loopback host."""
    return os.environ.get(LOOPBACK_ONLY_ENV, "") not in ("", "0")


def decode(content: bytes) -> tuple[Any, str | None]:
    """(JSON value, None), or (None, the text) when *content* is not JSON."""
    if not content.strip():
        return None, ""
    try:
        return json.loads(content), None
    except (ValueError, RecursionError):
        return None, content.decode("utf-8", "replace")[:_TEXT_LIMIT]


class Recorder(httpx.AsyncBaseTransport):
    """Record the exchanges of tagged steps; forward everything to *inner*.

    Args:
        inner: The real transport.
        base_path: The path of the base URL, stripped from recorded paths so a
            cassette replays against any server.
        loopback_only: Refuse (``httpx.ConnectError``, nothing sent) every
            request to a host that is not loopback.
        max_response_bytes: The largest body read, decoded, as the client's
            backends bound it: past it, the request raises
            :class:`~aioqiscus.errors.ResponseTooLargeError`.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        base_path: str = "",
        loopback_only: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._inner = inner
        self.max_response_bytes = max_response_bytes
        self._base_path = base_path.rstrip("/")
        self.loopback_only = loopback_only
        self.interactions: list[Interaction] = []
        self.hosts: set[str] = set()

    async def aclose(self) -> None:
        """Close the inner transport (its connection pool)."""
        await self._inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through the inner transport, recording the exchange."""
        host = request.url.host
        if self.loopback_only and not is_loopback(host):
            msg = f"refused {host!r}: {LOOPBACK_ONLY_ENV} allows loopback hosts only"
            raise httpx.ConnectError(msg, request=request)
        self.hosts.add(host)
        tag = _current.get()
        response = await self._inner.handle_async_request(request)
        # The stream itself, not aiter_raw(): a transport may hand back a
        # response it has already read (httpx.MockTransport does).
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):  # pragma: no cover
            msg = "the inner transport returned a synchronous stream"
            raise TypeError(msg)
        # Every answer, recorded or not, is read as the backends read it:
        # decoded and counted as it arrives, never past max_response_bytes
        # (an endless or inflating body would otherwise fill the memory).
        where = (request.method, str(request.url))
        decoded = BoundedBody(response.headers, self.max_response_bytes, where)
        chunks = []
        try:
            async for chunk in stream:
                decoded.feed(chunk)
                chunks.append(chunk)
        finally:
            await response.aclose()
        # Hand the client an unread response with the original headers (a
        # gzip answer stays gzip).
        forwarded = httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(b"".join(chunks)),
            extensions=response.extensions,
            request=request,
        )
        if tag is not None:
            body, text = decode(decoded.result())
            self.interactions.append(
                self._interaction(tag, request, body, text, response.status_code)
            )
        return forwarded

    def _interaction(
        self,
        tag: Tag,
        request: httpx.Request,
        body: Any,
        text: str | None,
        status: int,
    ) -> Interaction:
        path = request.url.path
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        sent, sent_text = decode(request.content) if request.content else (None, None)
        return Interaction(
            operation=tag.operation,
            dialect=tag.dialect,
            method=request.method,
            path=path,
            query=[[k, v] for k, v in request.url.params.multi_items()],
            body=sent if sent_text is None else sent_text,
            status=status,
            response=body,
            text=text,
            app_data=tag.app_data,
        )


# ---------------------------------------------------------------- redaction


@attrs.frozen
class Redactor:
    """What to scrub from a cassette.

    Args:
        prefix: The run prefix: emails starting with it are the tour's own.
        secrets: Strings to mask wherever they appear (the secret key, the
            app id, every token seen).
    """

    prefix: str
    secrets: tuple[str, ...]

    def __call__(self, value: Any, *, key: str = "", foreign: bool = False) -> Any:
        """A redacted copy of *value* found under *key*.

        With *foreign*, every string that is not the tour's own (does not
        hold the prefix) is redacted too, except enum values.
        """
        if isinstance(value, Mapping):
            return {k: self(v, key=str(k), foreign=foreign) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key=key, foreign=foreign) for v in value]
        if not isinstance(value, str):
            return value
        if _SENSITIVE_KEY.match(key):
            return REDACTED
        if foreign and self.prefix not in value and key not in _KEEP_FOREIGN:
            return REDACTED
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return _EMAIL.sub(self._email, value)

    def _email(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if found.startswith(self.prefix) or found == SYSTEM_USER:
            return found
        return "redacted@example.invalid"


#: Keys whose values stay readable in foreign data: enums, not personal data.
_KEEP_FOREIGN = frozenset({"room_type", "chat_type", "type", "status"})


def tokens_in(value: Any) -> set[str]:
    """Every non-empty string held under a credential-like key in *value*."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for k, v in item.items():
                if isinstance(v, str) and v and _SENSITIVE_KEY.match(str(k)):
                    found.add(v)
                else:
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def redact(cassette: Cassette, *, prefix: str, secret: str, app_id: str) -> Cassette:
    """A copy of *cassette* safe to share.

    Masks the *secret* and every token found in any exchange wherever they
    appear, the values of credential-like keys (``token``, ``password``,
    ``secret``, ``*_token``), emails that are not the tour's own, and, in
    steps that read the app's own data, every string that is not the tour's.
    The *app_id* is masked too, unless it is so short that masking it would
    garble unrelated text.
    """
    found = {secret}
    if len(app_id) >= _MIN_MASKED:
        found.add(app_id)
    for item in cassette.interactions:
        tokens = tokens_in(item.body) | tokens_in(item.response)
        found |= {t for t in tokens if len(t) >= _MIN_MASKED and t != REDACTED}
    # Longest first, so a secret holding another is masked whole.
    scrub = Redactor(prefix, tuple(sorted(found, key=len, reverse=True)))
    interactions = [
        attrs.evolve(
            item,
            path=scrub(item.path),
            query=[[k, scrub(v, key=k.removesuffix("[]"))] for k, v in item.query],
            body=scrub(item.body),
            response=scrub(item.response, foreign=item.app_data),
            text=None if item.text is None else scrub(item.text, foreign=item.app_data),
        )
        for item in cassette.interactions
    ]
    return Cassette(scrub(cassette.server), interactions, cassette.recorded_at)
