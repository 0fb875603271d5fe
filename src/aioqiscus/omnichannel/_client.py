"""OmnichannelClient: the customer-service face of Qiscus, on the same transport.

Strictly private; users import :class:`OmnichannelClient` from
:mod:`aioqiscus.omnichannel`. Each coroutine checks its arguments (the
library's own :mod:`aioqiscus._validate`), builds a pure
:class:`~aioqiscus.omnichannel._convert.Call`, and reads the answer as
send -> read body -> parse: the :class:`~aioqiscus._transport.Transport`
is the one :class:`~aioqiscus.QiscusClient` uses (backends, retries,
deadlines, size limits, redaction, hooks, tracing), given the Omnichannel
header names and base URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
import httpx

from .._envelope import read_body, structure
from .._paging import Listing
from .._retry import RetryPolicy
from .._setup import build_transport
from .._validate import (
    check_comment,
    check_credentials,
    check_id,
    check_ids,
    check_name,
    check_optional_text,
    check_page_size,
    check_path_id,
)
from .._wire import Page
from ..backends import DEFAULT_TIMEOUT, Backend, BackendName
from ..errors import ClientClosedError, InvalidArgumentError
from ..events import EventHooks
from ..payloads import Payload
from . import _convert as wire
from .models import (
    Agent,
    AgentAssignment,
    Channel,
    CustomerInfo,
    CustomerRoom,
    Division,
    Resolution,
    RoomLog,
    RoomTag,
)

__all__ = ["DEFAULT_BASE_URL", "OmnichannelClient"]

T = TypeVar("T")

#: The official Go SDK's default host (``omnichannel.md`` section 1; the
#: current documentation pages name ``https://omnichannel.qiscus.com``).
DEFAULT_BASE_URL = "https://multichannel.qiscus.com"
#: ``assign_agent``'s ``max_agent`` when none is given: the Go SDK's.
DEFAULT_MAX_AGENT = 5
#: ``scope`` values of ``iter_agents`` (empty: the server's default).
AGENT_SCOPES = ("", "division", "name", "email")


def _properties(value: object) -> list[tuple[str, Any]]:
    """Customer properties: a mapping of non-empty str keys to str values."""
    if not isinstance(value, Mapping):
        msg = f"properties must be a mapping of str to str, got {type(value).__name__}"
        raise TypeError(msg)
    pairs = []
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            msg = "properties keys must be non-empty str"
            raise InvalidArgumentError(msg)
        if not isinstance(item, str):
            msg = f"properties[{key!r}] must be a str, got {type(item).__name__}"
            raise TypeError(msg)
        pairs.append((key, item))
    return pairs


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        msg = f"{name} must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{name} must be a bool, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def merged(
    existing: Sequence[tuple[str, Any]], given: Sequence[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    """*existing* with each key of *given* replaced in place, new keys last.

    The Go SDK puts new properties first and keeps every old one, so a key
    given twice is stored twice (``omnichannel.md`` 2.5); here a key names
    one property.
    """
    values = dict(given)
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for key, value in existing:
        if key in seen:
            continue
        seen.add(key)
        out.append((key, values.pop(key, value)))
    out.extend(values.items())
    return out


class OmnichannelClient:
    """An async client for one app's Qiscus Omnichannel (formerly Multichannel).

    Every operation of the official Go SDK's ``multichannel`` package, typed,
    on the machinery :class:`~aioqiscus.QiscusClient` uses: the same
    backends, retries (idempotent reads only; a write that may have landed
    raises :class:`~aioqiscus.errors.AmbiguousSendError`), deadlines,
    response size limit, event hooks, OpenTelemetry and typed errors. The
    secret key is never shown in ``repr``, logs or errors.

    Args:
        app_code: The app code (``Qiscus-App-Id``, e.g. ``kovof-123``).
        secret_key: The app's secret key (``Qiscus-Secret-Key``).
        base_url: The Omnichannel host; the Go SDK's
            ``https://multichannel.qiscus.com`` by default. Must be https
            unless it is a loopback address.
        bot_email: The ``sender_email`` of :meth:`send_bot_message`; by
            default ``{app_code}_admin@qismo.com``, the app's admin user.
        http_client, backend, timeout, retry, max_in_flight,
        max_response_bytes, event_hooks, tracer_provider, meter_provider:
            As for :class:`~aioqiscus.QiscusClient`.

    Use it as an async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        app_code: str,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        bot_email: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        backend: Backend | BackendName | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen value
        max_in_flight: int | None = None,
        max_response_bytes: int | None = None,
        event_hooks: EventHooks | None = None,
        tracer_provider: object | None = None,
        meter_provider: object | None = None,
    ) -> None:
        check_credentials(app_code, secret_key, "app_code")
        self.app_code = app_code
        self.bot_email = check_id(
            bot_email or f"{app_code}_admin@qismo.com", "bot_email"
        )
        # Headers as the Go SDK and its api_test.go send them (section 1).
        self._transport = build_transport(
            app_code,
            secret_key,
            base_url=base_url,
            http_client=http_client,
            backend=backend,
            timeout=timeout,
            retry=retry,
            max_in_flight=max_in_flight,
            max_response_bytes=max_response_bytes,
            event_hooks=event_hooks,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            auth_headers={"Qiscus-App-Id": app_code, "Qiscus-Secret-Key": secret_key},
        )
        # One lock per room with a merge under way, held only while used.
        self._merging: dict[str, tuple[anyio.Lock, list[int]]] = {}

    def __repr__(self) -> str:
        return (
            f"OmnichannelClient(app_code={self.app_code!r}, "
            f"base_url={self._transport.base_url!r})"
        )

    async def __aenter__(self) -> Self:
        if self._transport.lifecycle.closed:
            msg = "the client was closed by aclose(); create a new OmnichannelClient"
            raise ClientClosedError(msg)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless the httpx client was injected).

        Later calls raise :class:`~aioqiscus.errors.ClientClosedError`.
        """
        await self._transport.aclose()

    async def _call(self, call: wire.Call[T], *, read: bool = True) -> T:
        raw = await self._transport.send(call.request, call.name)
        if not read:
            # The answer's body is not documented (the Go SDK ignores it):
            # only the status tells, and a redirect is never followed.
            if raw.status_code >= 300:  # noqa: PLR2004
                read_body(raw)  # raises the mapped error, or refuses a redirect
            return call.parse(None)
        body = read_body(raw)
        return structure(call.parse, body, call.name)

    def _listing(
        self,
        name: str,
        build: Callable[[int], wire.Call[Page[T]]],
        key: Callable[[T], str],
    ) -> Listing[T]:
        def fetch(number: int) -> Awaitable[Page[T]]:
            return self._call(build(number))

        return Listing(name, fetch, key)

    # ------------------------------------------------------------ room tags

    async def get_room_tags(self, room_id: str) -> list[RoomTag]:
        """The tags of room *room_id* (``GET /api/v1/room_tag/{room_id}``)."""
        room = check_path_id(room_id, "room_id")
        return await self._call(wire.get_room_tags(room))

    async def create_room_tag(self, room_id: str, tag: str) -> RoomTag:
        """Tag room *room_id* with *tag* (``POST /api/v1/room_tag/create``).

        Raises:
            AmbiguousSendError: The request may have tagged the room, but no
                answer arrived; read the tags before tagging again.
        """
        room = check_id(room_id, "room_id")
        name = check_name(tag, "tag")
        return await self._call(wire.create_room_tag(room, name))

    # ------------------------------------------------------------ customer info

    async def get_customer_info(self, room_id: str) -> CustomerInfo:
        """The customer's additional info, and the room's channel.

        ``GET /api/v1/qiscus/room/{room_id}/user_info``. The answer's
        channel carries its ``secret_key`` (in :attr:`Channel.credentials`,
        never shown in ``repr``).
        """
        room = check_path_id(room_id, "room_id")
        return await self._call(wire.get_customer_info(room))

    async def replace_customer_info(
        self, room_id: str, properties: Mapping[str, str]
    ) -> CustomerInfo:
        """Set the customer's additional info to *properties*, dropping the rest.

        ``POST /api/v1/qiscus/room/{room_id}/user_info`` replaces the whole
        list; :meth:`update_customer_info` keeps what is there.

        Raises:
            AmbiguousSendError: The write may have landed; no answer arrived.
        """
        room = check_path_id(room_id, "room_id")
        pairs = _properties(properties)
        return await self._call(wire.replace_customer_info(room, pairs))

    async def update_customer_info(
        self, room_id: str, properties: Mapping[str, str]
    ) -> CustomerInfo:
        """Add or change some of the customer's additional info, keeping the rest.

        No endpoint merges (``omnichannel.md`` 2.5): this reads the list,
        replaces the values of the keys given (appending new keys), and
        writes it back. Merges of one room through this client run one at a
        time, so concurrent merges lose nothing; a writer in another process
        can still race with it.

        Raises:
            AmbiguousSendError: The write may have landed; no answer arrived.
        """
        room = check_path_id(room_id, "room_id")
        pairs = _properties(properties)
        async with self._room_lock(room):
            current = await self._call(wire.get_customer_info(room))
            existing = [(p.key, p.value) for p in current.properties]
            return await self._call(
                wire.replace_customer_info(room, merged(existing, pairs))
            )

    @contextlib.asynccontextmanager
    async def _room_lock(self, room_id: str) -> AsyncIterator[None]:
        lock, users = self._merging.setdefault(room_id, (anyio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._merging[room_id]

    # ------------------------------------------------------------ rooms

    async def mark_as_resolved(
        self,
        room_id: str,
        *,
        notes: str | None = None,
        last_comment_id: str | None = None,
    ) -> Resolution:
        """Resolve room *room_id* (``POST /api/v1/admin/service/mark_as_resolved``).

        Args:
            room_id: The room.
            notes: The resolution notes.
            last_comment_id: The newest comment the service covers.

        Raises:
            AmbiguousSendError: The room may have been resolved; no answer
                arrived (:meth:`get_customer_room` tells).
        """
        room = check_id(room_id, "room_id")
        text = check_optional_text(notes, "notes")
        last = (
            None
            if last_comment_id is None
            else check_id(last_comment_id, "last_comment_id")
        )
        return await self._call(wire.mark_as_resolved(room, text, last))

    async def get_customer_room(self, room_id: str) -> CustomerRoom:
        """The Omnichannel view of room *room_id*.

        ``GET /api/v2/customer_rooms/{room_id}``.
        """
        room = check_path_id(room_id, "room_id")
        return await self._call(wire.get_customer_room(room))

    # ------------------------------------------------------------ the bot

    async def send_bot_message(
        self,
        room_id: str,
        message: str = "",
        *,
        payload: Payload | None = None,
        sender_email: str | None = None,
    ) -> None:
        """Post as the bot in room *room_id* (``POST /{app_code}/bot``).

        Args:
            room_id: The room.
            message: The text (required for a text message; a caption
                otherwise).
            payload: A typed payload (:class:`~aioqiscus.payloads.Buttons`,
                :class:`~aioqiscus.payloads.Card`, ...), sent as its
                ``to_wire()`` under ``payload`` with its type.
            sender_email: Who posts; the client's ``bot_email`` by default.

        Raises:
            AmbiguousSendError: The message may have been posted; no answer
                arrived.
        """
        room = check_id(room_id, "room_id")
        kind = check_comment(payload, None, _check_str(message, "message"))
        body: dict[str, Any] = {
            "sender_email": check_id(sender_email or self.bot_email, "sender_email"),
            "message": message,
            "room_id": room,
            "type": kind,
        }
        if payload is not None:
            body["payload"] = payload.to_wire()
        await self._call(wire.send_bot_message(self.app_code, body), read=False)

    async def set_bot_active(self, room_id: str, active: bool) -> RoomLog:
        """Turn the bot on or off in room *room_id* (``POST /bot/{id}/activate``).

        Switching it off is how a conversation is handed to a human.

        Raises:
            AmbiguousSendError: The switch may have happened; no answer
                arrived (:meth:`get_customer_room` tells).
        """
        room = check_path_id(room_id, "room_id")
        return await self._call(
            wire.set_bot_active(room, _check_bool(active, "active"))
        )

    # ------------------------------------------------------------ agents

    def iter_agents(
        self, *, search: str = "", scope: str = "", page_size: int = 20
    ) -> Listing[Agent]:
        """Every agent, or those matching *search* (``GET /api/v2/admin/agents``).

        Args:
            search: Text to look for; empty lists all.
            scope: Where to look: ``"name"``, ``"email"``, ``"division"``, or
                ``""`` for the server's default.
            page_size: Agents per request (``limit``).
        """
        _check_str(search, "search")
        if scope not in AGENT_SCOPES:
            msg = f"scope must be one of {AGENT_SCOPES}, got {scope!r}"
            raise InvalidArgumentError(msg)
        size = check_page_size(page_size)
        return self._listing(
            "iter_agents",
            lambda n: wire.list_agents(n, size, search, scope),
            _agent_key,
        )

    async def assign_agent(
        self,
        room_id: str,
        agent_id: str,
        *,
        replace_latest_agent: bool = False,
        max_agent: int = DEFAULT_MAX_AGENT,
    ) -> AgentAssignment:
        """Assign agent *agent_id* to room *room_id*.

        ``POST /api/v1/admin/service/assign_agent``.

        Args:
            room_id: The room.
            agent_id: The agent (:attr:`Agent.id`).
            replace_latest_agent: Whether the agent replaces the room's
                latest agent instead of joining them.
            max_agent: How many agents the room may have (the Go SDK's 5 by
                default).

        Raises:
            AmbiguousSendError: The agent may have been assigned; no answer
                arrived.
        """
        room = check_id(room_id, "room_id")
        agent = check_id(agent_id, "agent_id")
        limit = check_page_size(max_agent, "max_agent")
        replace = _check_bool(replace_latest_agent, "replace_latest_agent")
        return await self._call(wire.assign_agent(room, agent, replace, limit))

    def iter_agents_by_division(
        self,
        division_ids: Sequence[str],
        *,
        available: bool | None = None,
        sort: Literal["asc", "desc"] = "asc",
        page_size: int = 20,
    ) -> Listing[Agent]:
        """The agents of some divisions (``GET /api/v2/admin/agents/by_division``).

        Args:
            division_ids: The divisions (:attr:`Division.id`).
            available: Only available (``True``) or unavailable (``False``)
                agents; ``None`` for all.
            sort: ``"asc"``: fewest customers first; ``"desc"``: most first.
            page_size: Agents per request (``limit``).
        """
        divisions = check_ids(division_ids, "division_ids")
        if available is not None:
            _check_bool(available, "available")
        if sort not in ("asc", "desc"):
            msg = f"sort must be 'asc' or 'desc', got {sort!r}"
            raise InvalidArgumentError(msg)
        size = check_page_size(page_size)
        return self._listing(
            "iter_agents_by_division",
            lambda n: wire.list_agents_by_division(n, size, divisions, available, sort),
            _agent_key,
        )

    def iter_available_agents(self, room_id: str) -> Listing[Agent]:
        """The candidate agents for room *room_id*.

        ``GET /api/v2/admin/service/available_agents?room_id=`` (a secondary
        source, ``omnichannel.md`` section 3: its answer is read both as a
        list and as ``{"agents": [...]}``; no paging is documented).
        """
        room = check_id(room_id, "room_id")
        return self._listing(
            "iter_available_agents",
            lambda _n: wire.available_agents(room),
            _agent_key,
        )

    def iter_divisions(self, *, page_size: int = 20) -> Listing[Division]:
        """Every division (``GET /api/v2/divisions``)."""
        size = check_page_size(page_size)
        return self._listing(
            "iter_divisions", lambda n: wire.list_divisions(n, size), _division_key
        )

    async def list_channels(self) -> list[Channel]:
        """Every channel of the app (``GET /api/v2/channels``).

        Each :class:`Channel` says its ``kind`` (``"wa"``, ``"line"``, ...);
        the tokens and keys the answer carries are in its ``credentials``,
        never shown in ``repr``.
        """
        return await self._call(wire.list_channels())


def _agent_key(agent: Agent) -> str:
    return agent.id


def _division_key(division: Division) -> str:
    return division.id
