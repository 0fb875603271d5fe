"""Values the Omnichannel API answers, typed; what we do not know is kept.

Every model is a frozen attrs class whose fields are all optional (the Go
SDK's structs say a value's type when present, never that it is present:
``omnichannel.md`` "Nullability"), and whose ``extras`` holds every key the
answer carried that the model does not name, as it arrived. Ids are ``str``
like everywhere in aioqiscus (the API sends most of them as integers).
Credentials the API answers (an agent's ``authentication_token``, a
channel's ``secret_key`` or tokens) are never shown in ``repr``.

Wire names live in :mod:`aioqiscus.omnichannel._convert`, not here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ..models import Room

__all__ = [
    "Agent",
    "AgentAssignment",
    "Channel",
    "ChannelDetails",
    "CustomerInfo",
    "CustomerProperty",
    "CustomerRoom",
    "Division",
    "NamedRef",
    "OmnichannelRoom",
    "Resolution",
    "RoomLog",
    "RoomTag",
    "Service",
    "Source",
]


def _empty() -> Mapping[str, Any]:
    return {}


#: Keys whose values ``repr`` masks wherever a model keeps them in extras.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "authentication_token",
        "bot_token",
        "direct_login_token",
        "encoded_token",
        "long_lived_token",
        "qismo_key",
        "sdk_key",
        "secret_key",
    }
)


def _masked(extras: Mapping[str, Any]) -> str:
    return repr({k: "***" if k in SECRET_KEYS else v for k, v in extras.items()})


def _extras() -> Any:
    return attrs.field(factory=_empty, repr=_masked)


class Source(enum.Enum):
    """Where a customer writes from: a room option's ``channel``/``source``.

    Values are the ones the reference shows or names; a value it does not
    know is kept as a plain ``str`` (see :attr:`OmnichannelRoom.channel`).
    """

    WHATSAPP = "wa"
    LINE = "line"
    FACEBOOK = "fb"
    INSTAGRAM = "ig"
    TELEGRAM = "telegram"
    QISCUS = "qiscus"
    CUSTOM = "custom"


@attrs.frozen
class NamedRef:
    """An ``{"id", "name"}`` pair: an agent's channel or division."""

    id: str
    name: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class RoomTag:
    """A tag on a room (``get_room_tags``, ``create_room_tag``)."""

    id: str | None
    name: str | None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class CustomerProperty:
    """One ``{"key", "value"}`` of a customer's additional info."""

    key: str
    value: str


@attrs.frozen
class Channel:
    """One channel of the app (WhatsApp number, LINE account, widget, ...).

    Attributes:
        id: The channel id.
        kind: Which list it came from: ``"wa"``, ``"line"``, ``"fb"``,
            ``"ig"``, ``"qiscus"``, ``"telegram"``, ``"custom"``, or any
            other prefix of a ``*_channels`` list the server adds;
            ``None`` where the answer does not say (``get_customer_info``).
        name: Its name (``profile_name`` for Facebook pages).
        is_active: Whether it is active.
        credentials: The channel's secrets as answered (``secret_key``,
            ``access_token``, ``bot_token``, ``encoded_token``,
            ``long_lived_token``, ...). Never shown in ``repr``.
        extras: Every other key, as it arrived.
    """

    id: str | None
    kind: str | None = None
    name: str | None = None
    is_active: bool | None = None
    app_id: str | None = None
    badge_url: str | None = None
    use_channel_responder: bool | None = None
    credentials: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class CustomerInfo:
    """A customer's additional info, and the room's channel where answered.

    Attributes:
        user_id: The customer's user id.
        properties: The ``user_properties``, in order.
        first_initiated: When the customer first wrote (aware UTC).
        first_agent_response_time: When an agent first answered.
        channel_id, channel_name, is_blocked, channel: What
            ``get_customer_info`` adds (``replace_customer_info`` answers
            without them).
        extras: Every other key of ``data`` (and of ``data.extras``), as it
            arrived; a timestamp we could not read is kept here too.
    """

    user_id: str | None = None
    properties: tuple[CustomerProperty, ...] = ()
    first_initiated: datetime | None = None
    first_agent_response_time: datetime | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    is_blocked: bool | None = None
    channel: Channel | None = None
    extras: Mapping[str, Any] = _extras()

    def as_dict(self) -> dict[str, str]:
        """The properties as a dict (the last value of a repeated key wins)."""
        return {p.key: p.value for p in self.properties}


@attrs.frozen
class Agent:
    """An agent (or admin, supervisor) of the app.

    Attributes:
        id: The agent id.
        current_customer_count: How many customers the agent serves now.
        is_available: Whether the agent takes customers.
        force_offline: Whether an admin forced the agent offline.
        type: The numeric role; *type_as_string* names it (``"agent"``).
        channels: The agent's channels (``user_channels``).
        roles: The agent's divisions (``user_roles``) that are
            ``{"id", "name"}`` objects; other entries stay in *extras*.
        authentication_token: The agent's own API token, where answered.
            Never shown in ``repr``.
        sdk_key: The agent's Chat SDK key. Never shown in ``repr``.
        extras: Every other key, as it arrived (secrets masked in ``repr``).
    """

    id: str
    name: str | None = None
    email: str | None = None
    avatar_url: str | None = None
    is_available: bool | None = None
    force_offline: bool | None = None
    current_customer_count: int | None = None
    type: int | None = None
    type_as_string: str | None = None
    sdk_email: str | None = None
    last_login: datetime | None = None
    created_at: datetime | None = None
    channels: tuple[NamedRef, ...] = ()
    roles: tuple[NamedRef, ...] = ()
    authentication_token: str | None = attrs.field(default=None, repr=False)
    sdk_key: str | None = attrs.field(default=None, repr=False)
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class AgentAssignment:
    """What ``assign_agent`` answers: the agent added, and any other key."""

    agent: Agent | None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class Division:
    """A division (a team of agents)."""

    id: str
    name: str | None = None
    is_default: bool | None = None
    app_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class CustomerRoom:
    """The Omnichannel view of a customer's room (``get_customer_room``)."""

    room_id: str
    id: str | None = None
    name: str | None = None
    source: str | None = None
    channel_id: str | None = None
    room_type: str | None = None
    user_id: str | None = None
    user_avatar_url: str | None = None
    room_badge: str | None = None
    contact_id: str | None = None
    is_handled_by_bot: bool | None = None
    is_resolved: bool | None = None
    is_waiting: bool | None = None
    last_comment_sender: str | None = None
    last_comment_sender_type: str | None = None
    last_comment_text: str | None = None
    last_comment_at: datetime | None = None
    last_customer_comment_text: str | None = None
    last_customer_at: datetime | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class RoomLog:
    """A room's Omnichannel record (``set_bot_active``, new-session hooks).

    Attributes:
        extras_text: The record's own ``extras``, a string the server
            JSON-encodes (``omnichannel.md`` 2.7), as it arrived.
        extras: Every other key, as it arrived.
    """

    room_id: str | None
    id: str | None = None
    user_id: str | None = None
    name: str | None = None
    source: str | None = None
    channel_id: str | None = None
    is_handled_by_bot: bool | None = None
    is_waiting: bool | None = None
    resolved: bool | None = None
    has_no_message: bool | None = None
    room_badge: str | None = None
    user_avatar_url: str | None = None
    created_at: datetime | None = None
    extras_text: Any = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class Service:
    """One service of a room: a customer's session with an agent.

    Attributes:
        agent: The agent who served (``mark_as_resolved``'s ``service.user``).
        last_comment_id: A string, as most sources send it (one sends an
            int: kept as its text).
    """

    id: str | None
    room_id: str | None = None
    is_resolved: bool | None = None
    notes: str | None = None
    user_id: str | None = None
    app_id: str | None = None
    room_log_id: str | None = None
    first_comment_id: str | None = None
    last_comment_id: str | None = None
    resolved_at: datetime | None = None
    retrieved_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    agent: Agent | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class Resolution:
    """What ``mark_as_resolved`` answers: the service and the room.

    Attributes:
        room: The Chat SDK room from ``room_info.room`` (its options
            parsed); ``None`` where the answer has none or names a room type
            aioqiscus does not know (then ``extras`` holds it as sent).
    """

    service: Service | None
    room: Room | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class ChannelDetails:
    """A room option's ``channel_details`` (``omnichannel.md`` 4.1)."""

    channel_id: str | None = None
    name: str | None = None
    phone: str | None = None
    extras: Mapping[str, Any] = _extras()


@attrs.frozen
class OmnichannelRoom:
    """A typed view of an Omnichannel room's options.

    Built by :func:`aioqiscus.omnichannel.room_info` from a Chat SDK room.

    Attributes:
        room_id: The room's id.
        channel: The option ``channel``: a :class:`Source` when known, the
            text as sent otherwise, ``None`` when absent.
        source: The option ``source``, the same way.
        is_resolved: Whether the room is resolved (``"true"``/``"false"``
            strings of older deliveries read as booleans).
        is_waiting: Whether the customer waits for an agent.
        channel_details: The option ``channel_details``; ``None`` if absent
            or not an object.
        is_omnichannel: Whether the options carry any Omnichannel key at
            all (a plain Chat SDK room answers ``False``).
        extras: Every other option, as it arrived; options that were not a
            JSON object stay under ``"_raw"``, as on :class:`Room`.
    """

    room_id: str
    channel: Source | str | None = None
    source: Source | str | None = None
    is_resolved: bool | None = None
    is_waiting: bool | None = None
    channel_details: ChannelDetails | None = None
    is_omnichannel: bool = False
    extras: Mapping[str, Any] = _extras()
