"""Parse the Omnichannel webhook deliveries, and guard their unsigned URLs.

Omnichannel sends four hooks this module reads (``omnichannel.md``
section 4), told apart by their shape so that one URL can serve them all:

- the **bot webhook** (:class:`BotMessage`): the Chat SDK's post-comment
  delivery plus ``app_code`` and ``channel``;
- **custom agent allocation** (:class:`AgentAllocationNeeded`): a customer
  wrote in a room without an agent;
- **mark as resolved** (:class:`RoomResolved`);
- **new session** (:class:`NewSession`): a customer's first message, or
  the first after a resolve.

**None of them is signed.** Qiscus documents no signature, HMAC or secret
header for any Omnichannel webhook (only the Chat SDK webhook carries
``QISCUS-SDK-SIGNATURE``). What integrators do instead, and what
:func:`verify_token` and :class:`HookGuard` give you: register the hook's URL
with a long random token in it (``https://you.example/hook?token=...``),
compare it in constant time on every delivery, and optionally accept
deliveries only from known source addresses. Anyone who learns the URL can
still forge a delivery: keep it secret, use https, and treat a delivery as
a hint to re-read the room (``OmnichannelClient.get_customer_room``) before
doing anything irreversible.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .. import webhooks as chat_webhooks
from ..errors import InvalidArgumentError, ResponseShapeError
from ..models import Comment, Room, User
from ..webhooks import WebhookError, WebhookEvent
from . import _convert as wire
from ._rooms import read_nested, read_options
from .models import Agent, OmnichannelRoom, RoomLog, Service

__all__ = [
    "TOKEN_PARAMETER",
    "AgentAllocationNeeded",
    "BotMessage",
    "HookGuard",
    "NewSession",
    "OmnichannelEvent",
    "ResolvedCustomer",
    "Resolver",
    "RoomResolved",
    "WebhookChannel",
    "WebhookError",
    "parse",
    "verify_token",
]

#: The query parameter :class:`HookGuard` reads the URL token from.
TOKEN_PARAMETER = "token"  # noqa: S105 - a parameter name


def _empty() -> Mapping[str, Any]:
    return {}


@attrs.frozen
class WebhookChannel:
    """The bot webhook's ``channel``: ``{"id", "name", "source"}``."""

    id: str | None
    name: str | None = None
    source: str | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)


@attrs.frozen
class BotMessage:
    """A customer's message, delivered to the bot webhook (4.1).

    Attributes:
        event: The Chat SDK delivery it is (sender, room, comment), as
            :func:`aioqiscus.webhooks.parse` reads it, with the room's
            options parsed.
        app_code: The app code.
        channel: Where the customer writes from, where the delivery says.
        extras: Other top-level keys, as they arrived.
    """

    event: WebhookEvent
    app_code: str | None = None
    channel: WebhookChannel | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)

    @property
    def room(self) -> Room:
        """The room (its options parsed)."""
        return self.event.room

    @property
    def comment(self) -> Comment:
        """The customer's comment."""
        return self.event.comment

    @property
    def sender(self) -> User:
        """Who wrote (the customer, or the bot itself on ``post_comment_rest``)."""
        return self.event.sender

    @property
    def info(self) -> OmnichannelRoom:
        """The room's options, typed (channel, source, resolved, waiting)."""
        return read_options(self.room.id, self.room.options)


@attrs.frozen
class AgentAllocationNeeded:
    """Custom agent allocation (4.2): a room without an agent needs one.

    Attributes:
        room_id: The room.
        app_code: The app code (``app_code``, else ``app_id``, which holds
            the code too).
        candidate_agent: The agent Qiscus would pick, where sent.
        latest_service: The room's latest service, where sent.
        customer_extras: The customer's ``extras`` (a JSON string in the
            samples), as it arrived.
        extras: Other keys (a value of an unexpected type included).
    """

    room_id: str
    app_code: str | None = None
    source: str | None = None
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None
    is_resolved: bool | None = None
    is_new_session: bool | None = None
    candidate_agent: Agent | None = None
    latest_service: Service | None = None
    customer_extras: Any = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)


@attrs.frozen
class Resolver:
    """Who resolved a room (``resolved_by``; ``type`` is a string here)."""

    id: str | None
    email: str | None = None
    name: str | None = None
    type: str | None = None
    is_available: bool | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)


@attrs.frozen
class ResolvedCustomer:
    """The customer of a resolved room (one source only: every field optional)."""

    user_id: str | None
    name: str | None = None
    avatar_url: str | None = None
    additional_info: tuple[Any, ...] = ()
    extras: Mapping[str, Any] = attrs.field(factory=_empty)


@attrs.frozen
class RoomResolved:
    """Mark as resolved (4.3): an admin, supervisor or agent resolved a room."""

    service: Service
    resolved_by: Resolver | None = None
    customer: ResolvedCustomer | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)

    @property
    def room_id(self) -> str | None:
        """The resolved room."""
        return self.service.room_id


@attrs.frozen
class NewSession:
    """New session (4.4): a customer's first message, or the first after a resolve.

    Attributes:
        event: The message, as a Chat SDK delivery (sender, room with its
            options parsed, comment), where the delivery carries one.
        room_log: The room's Omnichannel record.
        is_new_session: As sent.
    """

    event: WebhookEvent | None
    room_log: RoomLog | None = None
    is_new_session: bool | None = None
    extras: Mapping[str, Any] = attrs.field(factory=_empty)

    @property
    def room_id(self) -> str | None:
        """The room."""
        if self.event is not None:
            return self.event.room.id
        return None if self.room_log is None else self.room_log.room_id

    @property
    def info(self) -> OmnichannelRoom | None:
        """The room's options, typed, where the delivery carries the room."""
        if self.event is None:
            return None
        return read_options(self.event.room.id, self.event.room.options)


#: What :func:`parse` returns.
OmnichannelEvent = BotMessage | AgentAllocationNeeded | RoomResolved | NewSession


# ---------------------------------------------------------------- guard


def verify_token(given: str | None, token: str) -> bool:
    """Whether the URL token *given* is *token*, compared in constant time.

    Args:
        given: The token the delivery's URL carries (``None`` if absent).
        token: Your secret (at least 16 characters: a short one is refused).
    """
    # Handlers pass whatever the framework hands them: check, never assume.
    sent: object = given
    key: object = token
    if not isinstance(key, str) or len(key) < MIN_TOKEN or not isinstance(sent, str):
        return False
    return hmac.compare_digest(sent.encode(), key.encode())


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: The shortest URL token accepted.
MIN_TOKEN = 16


def _networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


@attrs.frozen
class HookGuard:
    """The protection an unsigned Omnichannel webhook URL can have.

    ``HookGuard(token, allowed_sources=["203.0.113.0/24"]).allows(query_token,
    client_host)``: the URL token must match (constant time) and, when
    *allowed_sources* is given, the client address must be in one of them.

    Args:
        token: The secret in your webhook URL (at least 16 characters).
        allowed_sources: IP addresses or networks deliveries may come from;
            empty accepts any source. Behind a proxy, pass the address the
            proxy reports, not the proxy's.
    """

    token: str = attrs.field(repr=False)
    allowed_sources: tuple[Network, ...] = attrs.field(default=(), converter=_networks)

    def __attrs_post_init__(self) -> None:
        given: object = self.token
        if not isinstance(given, str) or len(given) < MIN_TOKEN:
            msg = (
                f"token must be a str of at least {MIN_TOKEN} characters "
                "(use secrets.token_urlsafe())"
            )
            raise InvalidArgumentError(msg)

    def allows(self, given: str | None, client_host: str | None = None) -> bool:
        """Whether a delivery with URL token *given* from *client_host* passes."""
        if not verify_token(given, self.token):
            return False
        return not self.allowed_sources or self.from_allowed(client_host)

    def from_allowed(self, client_host: str | None) -> bool:
        """Whether *client_host* is within :attr:`allowed_sources`."""
        if client_host is None:
            return False
        try:
            address = ipaddress.ip_address(client_host)
        except ValueError:
            return False
        return any(address in network for network in self.allowed_sources)

    def allows_url_query(
        self, query: Iterable[tuple[str, str]], client_host: str | None = None
    ) -> bool:
        """:meth:`allows` with the token read from query pairs (``token=``)."""
        given = next((v for k, v in query if k == TOKEN_PARAMETER), None)
        return self.allows(given, client_host)


# ---------------------------------------------------------------- parsing


def _decode(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    given: object = body
    if isinstance(given, Mapping):
        return dict(given)
    return chat_webhooks.decode(body)  # type: ignore[arg-type]


def _chat_event(kind: str, payload: Any) -> WebhookEvent:
    """The Chat SDK part of a delivery (the room's options parsed).

    The documented samples carry comment id ``0`` (omnichannel.md 4.1): an
    id of 0 names no comment, so it is dropped, and a receiver tells
    messages apart by their ``unique_temp_id`` (``wa_wamid.`` on WhatsApp)
    instead of taking every message of a room for one.
    """
    # Read by the Chat SDK parser itself (one reader for both hooks); encoded
    # as compactly as it arrived, so a body within MAX_BODY stays within it.
    text = json.dumps(
        {"type": kind, "payload": payload}, ensure_ascii=False, separators=(",", ":")
    )
    event = chat_webhooks.parse(text)
    if event.comment.id == 0:
        event = attrs.evolve(event, comment=attrs.evolve(event.comment, id=None))
    return event


def _bot(data: dict[str, Any]) -> BotMessage:
    rest = {k: v for k, v in data.items() if k not in ("type", "payload")}
    app_code = rest.pop("app_code", None)
    channel = read_nested(
        rest.pop("channel", None), "channel", _CHANNEL, WebhookChannel, rest
    )
    return BotMessage(
        _chat_event(data["type"], data["payload"]),
        app_code=app_code if isinstance(app_code, str) else None,
        channel=channel,
        extras=rest,
    )


_CHANNEL: wire.Table = {
    "id": ("id", wire.read_text),
    "name": ("name", wire.read_text),
    "source": ("source", wire.read_text),
}
_ALLOCATION: wire.Table = {
    "room_id": ("room_id", wire.read_text),
    "source": ("source", wire.read_text),
    "name": ("name", wire.read_text),
    "email": ("email", wire.read_text),
    "avatar_url": ("avatar_url", wire.read_text),
    "is_resolved": ("is_resolved", wire.read_bool),
    "is_new_session": ("is_new_session", wire.read_bool),
    "candidate_agent": ("candidate_agent", wire.nested(wire.agent)),
    "latest_service": ("latest_service", wire.nested(wire.service)),
    "customer_extras": ("extras", lambda v: v),
}
_RESOLVER: wire.Table = {
    "id": ("id", wire.read_text),
    "email": ("email", wire.read_text),
    "name": ("name", wire.read_text),
    "type": ("type", wire.read_text),
    "is_available": ("is_available", wire.read_bool),
}


def _allocation(data: dict[str, Any]) -> AgentAllocationNeeded:
    known, extras = wire.read_fields(data, _ALLOCATION, "the allocation webhook")
    if known.get("room_id") is None:
        msg = "the allocation webhook has no usable room_id"
        raise ResponseShapeError(msg)
    code = extras.pop("app_code", None)
    if not isinstance(code, str):
        code = extras.get("app_id") if isinstance(extras.get("app_id"), str) else None
    return AgentAllocationNeeded(**known, app_code=code, extras=extras)


def _customer(data: Any) -> ResolvedCustomer | None:
    if not isinstance(data, dict):
        return None
    rest = dict(data)
    info = rest.pop("additional_info", None)
    return ResolvedCustomer(
        user_id=wire.read_text_or_none(rest.pop("user_id", None)),
        name=wire.read_text_or_none(rest.pop("name", None)),
        avatar_url=wire.read_text_or_none(rest.pop("avatar", None)),
        additional_info=tuple(info) if isinstance(info, list) else (),
        extras=rest
        if not info or isinstance(info, list)
        else {**rest, "additional_info": info},
    )


def _resolved(data: dict[str, Any]) -> RoomResolved:
    rest = dict(data)
    service = wire.service(rest.pop("service"))
    resolver = read_nested(
        rest.pop("resolved_by", None), "resolved_by", _RESOLVER, Resolver, rest
    )
    raw_customer = rest.pop("customer", None)
    customer = _customer(raw_customer)
    if customer is None and raw_customer is not None:
        rest["customer"] = raw_customer
    return RoomResolved(service, resolver, customer, extras=rest)


def _new_session(data: dict[str, Any]) -> NewSession:
    rest = dict(data)
    payload = rest.pop("payload", None)
    event = None
    if isinstance(payload, dict) and "room" in payload:
        event = _chat_event("post_comment_mobile", payload)
    elif payload is not None:
        rest["payload"] = payload
    log = rest.pop("room_log", None)
    flag = rest.pop("is_new_session", None)
    return NewSession(
        event,
        room_log=None if log is None else wire.room_log(log),
        is_new_session=flag if isinstance(flag, bool) else None,
        extras=rest,
    )


def kind_of(data: Mapping[str, Any]) -> str:
    """Which hook a decoded delivery is, by its shape.

    ``"bot"``, ``"allocation"``, ``"resolved"``, ``"new_session"``, or
    ``""`` when the shape tells none.
    """
    if data.get("webhook_type") == "NEW_SESSION_WEBHOOK" or "room_log" in data:
        return "new_session"
    if data.get("type") in chat_webhooks.EVENT_TYPES and "payload" in data:
        return "bot"
    if isinstance(data.get("service"), dict) and (
        "resolved_by" in data or "customer" in data
    ):
        return "resolved"
    if "room_id" in data and ("candidate_agent" in data or "app_id" in data):
        return "allocation"
    return ""


_PARSERS: dict[str, Callable[[dict[str, Any]], OmnichannelEvent]] = {
    "bot": _bot,
    "allocation": _allocation,
    "resolved": _resolved,
    "new_session": _new_session,
}


def parse(body: bytes | str | Mapping[str, Any]) -> OmnichannelEvent:
    """Parse any of the four Omnichannel deliveries, told apart by shape.

    Check the URL token first (:class:`HookGuard`): these hooks are unsigned.

    Raises:
        WebhookError: The body is over :data:`~aioqiscus.webhooks.MAX_BODY`,
            not a JSON object, of no known shape, or malformed; the only
            exception this function raises.
    """
    data = _decode(body)
    kind = kind_of(data)
    if not kind:
        keys = ", ".join(sorted(map(str, data))[:8])
        msg = f"not an Omnichannel webhook this library knows (keys: {keys})"
        raise WebhookError(msg)
    try:
        return _PARSERS[kind](data)
    except WebhookError:
        raise
    except Exception as exc:  # any failure of a parser means a malformed body
        msg = f"malformed {kind} webhook: {type(exc).__name__}: {exc}"
        raise WebhookError(msg[:500]) from exc
