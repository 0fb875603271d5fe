"""The fake's Omnichannel: its endpoints, its control API, its webhooks.

Strictly private; users reach it as :attr:`FakeQiscus.omnichannel
<aioqiscus.testing.FakeQiscus.omnichannel>`. It serves the Go SDK's
operations (``omnichannel.md`` section 2) and ``available_agents``
(section 3) on the fake's own host, authenticated with ``Qiscus-App-Id`` and
``Qiscus-Secret-Key`` (the fake's app id and secret), over the same store as
the Chat SDK routes: a customer room is a Chat SDK room whose options carry
the channel and its state (4.1). Every JSON body here is written from the
reference, never from aioqiscus's converters.

Where the reference knows nothing, the fake chooses, and says so:

- errors answer ``{"status": N, "errors": "<message>"}`` (no source shows an
  Omnichannel error body, section 5.1);
- ``assign_agent`` refuses (400) an unknown, unavailable or full agent
  (full: as many rooms as its quota), the open report of section 2.9;
- the bot send answers ``{"data": {}}`` (its body is unseen, 2.6).

Webhooks (section 4) are delivered, unsigned as the real ones, to the URLs
given to :meth:`FakeOmnichannel.deliver_webhooks`, when a customer writes
(:meth:`FakeOmnichannel.customer_says`: new session, bot, allocation) and
when a room is resolved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ._http import Reject, Reply, decode_body
from ._store import (
    AgentRecord,
    ChannelRecord,
    CommentRecord,
    CustomerRoomRecord,
    OmnichannelState,
    RoomRecord,
    now,
)

if TYPE_CHECKING:
    from ._fake import FakeQiscus

__all__ = ["FakeOmnichannel", "OmniDelivery", "dispatch", "route"]

#: The channel kinds of ``GET /api/v2/channels`` (2.13), in its order.
CHANNEL_KINDS = ("custom", "fb", "ig", "line", "qiscus", "telegram", "wa")
#: The hooks :meth:`FakeOmnichannel.deliver_webhooks` knows.
HOOKS = ("bot", "allocation", "resolved", "new_session")


@attrs.frozen
class OmniRequest:
    """What a handler reads: path parameters, query pairs, the JSON body."""

    params: dict[str, str]
    query: list[tuple[str, str]]
    body: dict[str, Any]

    def get(self, key: str, default: str = "") -> str:
        """The first query value of *key*."""
        return next((v for k, v in self.query if k == key), default)

    def number(self, key: str, default: int) -> int:
        """A positive int query value."""
        raw = self.get(key, str(default))
        if not raw.isdigit() or int(raw) < 1:
            raise Reject(400, f"{key} must be a positive integer")
        return int(raw)


@attrs.frozen
class OmniDelivery:
    """One Omnichannel webhook the fake delivered (``status`` 0: unreachable)."""

    hook: str
    url: str
    body: bytes
    status: int

    def json(self) -> Any:
        """The delivered body, decoded."""
        return json.loads(self.body)


Handler = Callable[["FakeOmnichannel", OmniRequest], Reply]
_ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []


def _on(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        _ROUTES.append((method, regex, handler.__name__, handler))
        return handler

    return register


def route(method: str, path: str) -> tuple[str, Handler | None, dict[str, str]] | None:
    """The (name, handler, path parameters) of *path*; ``None`` if not ours.

    A known path asked with another verb has no handler (a 405).
    """
    found = None
    for verb, regex, name, handler in _ROUTES:
        match = regex.match(path)
        if match is None:
            continue
        if verb == method:
            return name, handler, match.groupdict()
        found = (name, None, match.groupdict())
    return found


# ---------------------------------------------------------------- shapes


def _php_time(stamp: str) -> dict[str, Any]:
    """A PHP date object (2.3, 2.12): ``{date, timezone_type, timezone}``."""
    return {
        "date": stamp.replace("T", " ").rstrip("Z") + ".000000",
        "timezone_type": 3,
        "timezone": "UTC",
    }


def _agent(agent: AgentRecord, omni: OmnichannelState) -> dict[str, Any]:
    """An agent of 2.8 and 2.10: ``user_roles`` holds its divisions."""
    return {
        "avatar_url": "",
        "created_at": agent.created_at,
        "current_customer_count": len(agent.rooms),
        "email": agent.email,
        "force_offline": agent.force_offline,
        "id": agent.id,
        "is_available": agent.is_available,
        "last_login": agent.created_at,
        "name": agent.name,
        "sdk_email": f"{agent.id}_{agent.email}",
        "sdk_key": f"sdk-{agent.token}",
        "type": 2,
        "type_as_string": "agent",
        "user_channels": [{"id": c.id, "name": c.name} for c in omni.channels.values()],
        "user_roles": [
            {"id": d, "name": omni.divisions[d][0]}
            for d in agent.division_ids
            if d in omni.divisions
        ],
    }


def _added_agent(agent: AgentRecord) -> dict[str, Any]:
    """The 22 fields of 2.9's ``added_agent`` (and 2.12's ``service.user``)."""
    return {
        "id": agent.id,
        "name": agent.name,
        "email": agent.email,
        "authentication_token": agent.token,
        "created_at": agent.created_at,
        "updated_at": agent.created_at,
        "sdk_email": f"{agent.id}_{agent.email}",
        "sdk_key": f"sdk-{agent.token}",
        "is_available": agent.is_available,
        "type": 2,
        "avatar_url": "",
        "app_id": 1,
        "is_verified": True,
        "notifications_room_id": "",
        "bubble_color": None,
        "qismo_key": f"qismo-{agent.token}",
        "direct_login_token": None,
        "last_login": agent.created_at,
        "force_offline": agent.force_offline,
        "deleted_at": None,
        "type_as_string": "agent",
        "assigned_rules": [],
    }


def _channel(channel: ChannelRecord, app_code: str) -> dict[str, Any]:
    """A channel of 2.13, by kind (its secrets under each kind's key)."""
    base = {
        "id": channel.id,
        "is_active": channel.is_active,
        "name": channel.name,
        "badge_url": None,
        "app_id": 1,
        "use_channel_responder": False,
    }
    extra: dict[str, dict[str, Any]] = {
        "custom": {
            "webhook_url": "",
            "logo_url": "",
            "identifier_key": channel.secret,
        },
        "fb": {"long_lived_token": channel.secret, "page_id": str(channel.id)},
        "ig": {
            "long_lived_token": channel.secret,
            "page_id": str(channel.id),
            "ig_id": str(channel.id),
        },
        "line": {"access_token": channel.secret, "secret_key": channel.secret},
        "qiscus": {"app_code": app_code, "secret_key": channel.secret},
        "telegram": {"username": channel.name, "bot_token": channel.secret},
        "wa": {"encoded_token": channel.secret, "phone_number": str(channel.id)},
    }
    shaped = {**base, **extra.get(channel.kind, {})}
    if channel.kind == "fb":
        shaped["profile_name"] = shaped.pop("name")
    return shaped


def _options(room: CustomerRoomRecord, channel: ChannelRecord) -> str:
    """The room options of 4.1, as the JSON string the room stores."""
    return json.dumps(
        {
            "channel": room.source,
            "channel_details": {
                "channel_id": channel.id,
                "name": channel.name,
                "phone": str(channel.id),
            },
            "is_resolved": room.resolved,
            "is_waiting": not room.agents and not room.resolved,
            "source": room.source,
        }
    )


def _room_log(fake: FakeOmnichannel, room: CustomerRoomRecord) -> dict[str, Any]:
    """The room record of 2.7 (``extras`` a JSON string)."""
    chat = fake.chat_room(room.room_id)
    return {
        "id": room.log_id,
        "app_id": 1,
        "user_id": room.customer,
        "room_id": str(room.room_id),
        "source": room.source,
        "created_at": room.created_at,
        "updated_at": now(),
        "is_handled_by_bot": room.bot_active,
        "start_service_comment_id": "",
        "user_avatar_url": "",
        "name": chat.name,
        "has_no_message": not chat.comments,
        "extras": "{}",
        "check_wa_contact": False,
        "origin": room.source,
        "room_badge": "",
        "is_waiting": not room.agents and not room.resolved,
        "sub_source": None,
        "channel_id": room.channel_id,
        "resolved": room.resolved,
        "resolved_ts": None,
        "type": None,
        "deleted_at": None,
        "customer_id": None,
    }


def _meta_pages(total: int, page: int, limit: int) -> dict[str, int]:
    """``meta`` of 2.10 and 2.11."""
    return {
        "limit": limit,
        "page": page,
        "total": total,
        "total_page": max(1, -(-total // limit)),
    }


# ---------------------------------------------------------------- handlers


@_on("GET", "/api/v1/room_tag/{room_id}")
def get_room_tags(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.1."""
    room = fake.room_or_404(req.params["room_id"])
    return 200, {"data": [{"id": i, "name": n} for i, n in room.tags]}


@_on("POST", "/api/v1/room_tag/create")
def create_room_tag(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.2: ``{room_id, tag}``."""
    room = fake.room_or_404(_required(req, "room_id"))
    tag = (next(fake.state.ids), _required(req, "tag"))
    room.tags.append(tag)
    return 200, {"data": {"id": tag[0], "name": tag[1]}}


@_on("GET", "/api/v1/qiscus/room/{room_id}/user_info")
def get_user_info(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.4: properties, RFC 3339 times, the room's channel."""
    room = fake.room_or_404(req.params["room_id"])
    channel = fake.state.channels[room.channel_id]
    return 200, {
        "data": {
            "extras": {"user_properties": list(room.properties)},
            "first_initiated": room.created_at,
            "first_agent_response_time": room.created_at,
            "user_id": room.customer,
            "channel_id": channel.id,
            "is_blocked": False,
            "channel_name": channel.name,
            "channel": {
                "id": channel.id,
                "app_code": fake.fake.app_id,
                "secret_key": channel.secret,
                "created_at": room.created_at,
                "updated_at": room.created_at,
                "is_active": channel.is_active,
                "app_id": 1,
                "forward_url": None,
                "forward_enabled": False,
                "name": channel.name,
                "badge_url": "",
                "use_channel_responder": False,
            },
        }
    }


@_on("POST", "/api/v1/qiscus/room/{room_id}/user_info")
def set_user_info(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.3: the list replaces the stored one; PHP date objects answered."""
    room = fake.room_or_404(req.params["room_id"])
    given = req.body.get("user_properties")
    if not isinstance(given, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in given
    ):
        raise Reject(400, "user_properties must be a list of {key, value}")
    room.properties = [{"key": p["key"], "value": p.get("value")} for p in given]
    return 200, {
        "data": {
            "extras": {"user_properties": list(room.properties)},
            "first_initiated": _php_time(room.created_at),
            "first_agent_response_time": _php_time(room.created_at),
            "user_id": room.customer,
        }
    }


@_on("POST", "/bot/{room_id}/activate")
def set_bot(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.7: ``{is_active}``."""
    room = fake.room_or_404(req.params["room_id"])
    active = req.body.get("is_active")
    if not isinstance(active, bool):
        raise Reject(400, "is_active must be a boolean")
    room.bot_active = active
    return 200, {"data": _room_log(fake, room)}


@_on("POST", "/{app_code}/bot")
def bot_send(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.6: the bot (or admin) posts in a room."""
    if req.params["app_code"] != fake.fake.app_id:
        raise Reject(404, "app not found")
    room = fake.room_or_404(_required(req, "room_id"))
    sender = _required(req, "sender_email")
    kind = req.body.get("type") or "text"
    fake.fake.store.upsert_user(sender, sender.split("@", maxsplit=1)[0])
    chat = fake.chat_room(room.room_id)
    if sender not in chat.participants:
        chat.participants.append(sender)
    fake.fake.store.add_comment(
        chat,
        sender,
        str(req.body.get("message") or ""),
        type=kind,
        payload=req.body.get("payload"),
    )
    return 200, {"data": {}}


@_on("GET", "/api/v2/admin/agents")
def get_agents(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.8: search by name or email; ``meta.per_page``, ``meta.total_count``."""
    page, limit = req.number("page", 1), req.number("limit", 20)
    search, scope = req.get("search").lower(), req.get("scope")
    found = [
        a
        for a in fake.state.agents.values()
        if not search
        or (scope in ("", "name") and search in a.name.lower())
        or (scope in ("", "email") and search in a.email.lower())
        or (
            scope == "division"
            and any(
                search in fake.state.divisions[d][0].lower()
                for d in a.division_ids
                if d in fake.state.divisions
            )
        )
    ]
    chunk = found[(page - 1) * limit : page * limit]
    return 200, {
        "data": {"agents": [_agent(a, fake.state) for a in chunk]},
        "meta": {"per_page": limit, "total_count": len(found)},
        "status": 200,
    }


@_on("GET", "/api/v2/admin/agents/by_division")
def get_agents_by_division(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.10: ``division_ids[]``, ``is_available``, ``sort`` by customer count."""
    page, limit = req.number("page", 1), req.number("limit", 20)
    wanted = {int(v) for k, v in req.query if k == "division_ids[]" and v.isdigit()}
    available = req.get("is_available")
    found = [
        a
        for a in fake.state.agents.values()
        if wanted & set(a.division_ids)
        and (not available or a.is_available == (available == "true"))
    ]
    found.sort(key=lambda a: len(a.rooms), reverse=req.get("sort") == "desc")
    chunk = found[(page - 1) * limit : page * limit]
    return 200, {
        "data": [_agent(a, fake.state) for a in chunk],
        "meta": _meta_pages(len(found), page, limit),
    }


@_on("GET", "/api/v2/admin/service/available_agents")
def get_available_agents(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """Section 3: available agents below their quota, ``data`` a list (ADI)."""
    fake.room_or_404(req.get("room_id"))
    found = [
        {
            "id": a.id,
            "name": a.name,
            "email": a.email,
            "is_available": a.is_available,
            "current_customer_count": len(a.rooms),
        }
        for a in fake.state.agents.values()
        if a.is_available and not a.force_offline and len(a.rooms) < a.quota
    ]
    return 200, {"data": found}


@_on("POST", "/api/v1/admin/service/assign_agent")
def assign_agent(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.9; refuses an unknown, unavailable or full agent (the fake's choice)."""
    room = fake.room_or_404(_required(req, "room_id"))
    agent_id = str(req.body.get("agent_id", ""))
    agent = fake.state.agents.get(int(agent_id)) if agent_id.isdigit() else None
    if agent is None:
        raise Reject(400, f"agent {agent_id} not found")
    if agent.id not in room.agents:
        if not agent.is_available or agent.force_offline:
            raise Reject(400, f"agent {agent.id} is not available")
        if len(agent.rooms) >= agent.quota:
            raise Reject(400, f"agent {agent.id} has reached the customer limit")
        if req.body.get("replace_latest_agent") is True and room.agents:
            fake.release(room, room.agents[-1])
        room.agents.append(agent.id)
        agent.rooms.append(room.room_id)
        fake.sync_options(room)
    return 200, {"data": {"added_agent": _added_agent(agent)}}


@_on("GET", "/api/v2/divisions")
def get_divisions(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.11."""
    page, limit = req.number("page", 1), req.number("limit", 20)
    found = list(fake.state.divisions.items())
    chunk = found[(page - 1) * limit : page * limit]
    return 200, {
        "data": [
            {
                "app_id": 1,
                "created_at": "2024-01-01T00:00:00Z",
                "id": i,
                "is_default_role": default,
                "name": name,
                "updated_at": "2024-01-01T00:00:00Z",
            }
            for i, (name, default) in chunk
        ],
        "meta": _meta_pages(len(found), page, limit),
    }


@_on("POST", "/api/v1/admin/service/mark_as_resolved")
def mark_as_resolved(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.12: the room is resolved, its agents freed; the resolve hook fires."""
    room = fake.room_or_404(_required(req, "room_id"))
    notes = req.body.get("notes")
    last = req.body.get("last_comment_id")
    chat = fake.chat_room(room.room_id)
    if last in (None, "") and chat.last_comment is not None:
        last = str(chat.last_comment.id)
    agent = fake.state.agents.get(room.agents[-1]) if room.agents else None
    service_id = next(fake.state.ids)
    for agent_id in list(room.agents):
        fake.release(room, agent_id)
    room.resolved = True
    room.services += 1
    fake.sync_options(room)
    stamp = now()
    service = {
        "notes": notes,
        "is_resolved": True,
        "resolved_at": _php_time(stamp),
        "user_id": agent.id if agent else None,
        "app_id": 1,
        "room_log_id": room.log_id,
        "room_id": str(room.room_id),
        "retrieved_at": _php_time(room.created_at),
        "first_comment_id": str(chat.comments[0].id) if chat.comments else "",
        "last_comment_id": last or "",
        "updated_at": stamp,
        "created_at": room.created_at,
        "id": service_id,
        "user": _added_agent(agent) if agent else None,
    }
    fake.queue(
        "resolved",
        {
            "service": {
                "id": service_id,
                "room_id": str(room.room_id),
                "is_resolved": True,
                "notes": notes,
                "first_comment_id": service["first_comment_id"],
                "last_comment_id": service["last_comment_id"],
                "source": room.source,
            },
            "resolved_by": {
                "id": agent.id if agent else 0,
                "email": agent.email
                if agent
                else f"{fake.fake.app_id}_admin@qismo.com",
                "name": agent.name if agent else "Admin",
                "type": "agent" if agent else "admin",
                "is_available": agent.is_available if agent else True,
            },
            "customer": {
                "user_id": room.customer,
                "name": fake.fake.store.users[room.customer].name,
                "avatar": "",
                "additional_info": list(room.properties),
            },
        },
    )
    return 200, {
        "data": {
            "service": service,
            "room_info": {
                "room": {
                    "room_avatar_url": chat.avatar_url,
                    "room_channel_id": chat.channel_id,
                    "room_id": str(chat.id),
                    "room_name": chat.name,
                    "room_options": chat.options,
                    "room_type": chat.type,
                }
            },
        }
    }


@_on("GET", "/api/v2/channels")
def get_channels(fake: FakeOmnichannel, req: OmniRequest) -> Reply:  # noqa: ARG001
    """2.13: seven lists, one per kind."""
    data: dict[str, list[dict[str, Any]]] = {f"{k}_channels": [] for k in CHANNEL_KINDS}
    for channel in fake.state.channels.values():
        data[f"{channel.kind}_channels"].append(_channel(channel, fake.fake.app_id))
    return 200, {"data": data}


@_on("GET", "/api/v2/customer_rooms/{room_id}")
def get_customer_room(fake: FakeOmnichannel, req: OmniRequest) -> Reply:
    """2.14."""
    room = fake.room_or_404(req.params["room_id"])
    chat = fake.chat_room(room.room_id)
    last = chat.last_comment
    mine = [c for c in chat.comments if c.sender == room.customer]
    return 200, {
        "data": {
            "customer_room": {
                "channel_id": room.channel_id,
                "contact_id": None,
                "id": room.log_id,
                "is_handled_by_bot": room.bot_active,
                "is_resolved": room.resolved,
                "is_waiting": not room.agents and not room.resolved,
                "last_comment_sender": last.sender if last else "",
                "last_comment_sender_type": (
                    "customer" if last and last.sender == room.customer else "agent"
                ),
                "last_comment_text": last.message if last else "",
                "last_comment_timestamp": last.timestamp if last else room.created_at,
                "last_customer_comment_text": mine[-1].message if mine else None,
                "last_customer_timestamp": (
                    mine[-1].timestamp if mine else room.created_at
                ),
                "name": chat.name,
                "room_badge": "",
                "room_id": str(room.room_id),
                "room_type": chat.type,
                "source": room.source,
                "user_avatar_url": "",
                "user_id": room.customer,
            }
        },
        "status": 200,
    }


def _authenticate(fake: FakeOmnichannel, headers: dict[str, str]) -> None:
    """The Go SDK's pair: ``Qiscus-App-Id`` and ``Qiscus-Secret-Key`` (1)."""
    if (
        headers.get("qiscus-app-id") != fake.fake.app_id
        or headers.get("qiscus-secret-key") != fake.fake.secret_key
    ):
        raise Reject(401, "Unauthorized")


def dispatch(
    fake: FakeOmnichannel,
    found: tuple[str, Handler | None, dict[str, str]],
    query: list[tuple[str, str]],
    body: bytes,
    headers: dict[str, str],
) -> Reply:
    """Authenticate and answer one request (*found* by :func:`route`)."""
    name, handler, params = found
    try:
        _authenticate(fake, headers)
        if handler is None:
            raise Reject(405, f"Method Not Allowed for {name}")  # noqa: TRY301
        request = OmniRequest(params, query, decode_body(body, headers))
        return handler(fake, request)
    except Reject as reject:
        # No source shows an Omnichannel error body: the fake's own.
        return reject.status, {"status": reject.status, "errors": reject.message}
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        return 400, {"status": 400, "errors": f"malformed request: {exc}"}


def _required(req: OmniRequest, key: str) -> str:
    value = req.body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise Reject(400, f"{key} is required")
    return value


# ---------------------------------------------------------------- control


class FakeOmnichannel:
    """The Omnichannel side of a :class:`~aioqiscus.testing.FakeQiscus`.

    Set up agents, divisions and channels, let customers write from a
    channel, and receive the Omnichannel webhooks, without a request::

        omni = fake.omnichannel
        wa = omni.add_channel("wa", "Support WA")
        omni.add_agent("Ana", "ana@example.com", quota=2)
        omni.deliver_webhooks(bot="http://127.0.0.1:8000/hook")
        await omni.customer_says("6281234567890", "hello", channel=wa)
    """

    def __init__(self, fake: FakeQiscus) -> None:
        self.fake = fake
        self.deliveries: list[OmniDelivery] = []
        self._hooks: dict[str, str] = {}
        self._transport: httpx.AsyncBaseTransport | None = None
        self._outbox: list[tuple[str, dict[str, Any]]] = []

    @property
    def state(self) -> OmnichannelState:
        """The store's Omnichannel records (reset with the fake)."""
        return self.fake.store.omnichannel

    @property
    def admin(self) -> str:
        """The app's admin user, a participant of every customer room (4.1)."""
        return f"{self.fake.app_id}_admin@qismo.com"

    # ------------------------------------------------------------ set-up

    def add_division(self, name: str, *, is_default: bool = False) -> int:
        """Add a division; returns its id."""
        division_id = next(self.state.ids)
        self.state.divisions[division_id] = (name, is_default)
        return division_id

    def add_agent(
        self,
        name: str,
        email: str,
        *,
        quota: int = 2,
        available: bool = True,
        divisions: list[int] | tuple[int, ...] = (),
    ) -> AgentRecord:
        """Add an agent serving at most *quota* rooms at once."""
        agent = AgentRecord(
            next(self.state.ids),
            name,
            email,
            quota=quota,
            is_available=available,
            division_ids=list(divisions),
        )
        self.state.agents[agent.id] = agent
        return agent

    def add_channel(self, kind: str, name: str) -> int:
        """Add a channel of *kind* (``"wa"``, ``"line"``, ``"qiscus"``...)."""
        if kind not in CHANNEL_KINDS:
            msg = f"kind must be one of {CHANNEL_KINDS}, got {kind!r}"
            raise ValueError(msg)
        channel = ChannelRecord(next(self.state.ids), kind, name)
        self.state.channels[channel.id] = channel
        return channel.id

    def deliver_webhooks(
        self,
        *,
        bot: str | None = None,
        allocation: str | None = None,
        resolved: str | None = None,
        new_session: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Deliver the Omnichannel webhooks (unsigned, as the real ones) here.

        One URL may serve several hooks. *transport* delivers in-process,
        e.g. ``httpx.ASGITransport(app=your_app)``.
        """
        given = {
            "bot": bot,
            "allocation": allocation,
            "resolved": resolved,
            "new_session": new_session,
        }
        self._hooks = {k: v for k, v in given.items() if v is not None}
        self._transport = transport

    # ------------------------------------------------------------ customers

    def customer_room(self, customer: str, channel: int) -> CustomerRoomRecord:
        """The customer's room on *channel*, created (Chat SDK room too) if new."""
        found = next(
            (
                r
                for r in self.state.rooms.values()
                if r.customer == customer and r.channel_id == channel
            ),
            None,
        )
        if found is not None:
            return found
        record = self.state.channels.get(channel)
        if record is None:
            msg = f"no channel {channel!r} in the fake"
            raise LookupError(msg)
        store = self.fake.store
        if customer not in store.users:
            store.upsert_user(customer, customer)
        if self.admin not in store.users:
            store.upsert_user(self.admin, "Admin")
        chat = store.create_room(
            store.users[customer].name, "group", self.admin, [customer]
        )
        room = CustomerRoomRecord(
            chat.id, next(self.state.ids), customer, channel, record.kind
        )
        self.state.rooms[chat.id] = room
        self.sync_options(room)
        return room

    async def customer_says(
        self, customer: str, text: str, *, channel: int
    ) -> CommentRecord:
        """*customer* writes *text* from *channel*, as Omnichannel receives it.

        The comment is stored in the customer's room (created on the first
        message); a resolved room opens a new session. Then the hooks fire,
        in this order, where a URL is set: new session (the session's first
        message), bot (while the bot is on in the room), allocation (while
        the room has no agent).
        """
        given: object = text
        if not isinstance(given, str) or not given.strip():
            msg = "text must be a non-empty str"
            raise ValueError(msg)
        room = self.customer_room(customer, channel)
        chat = self.chat_room(room.room_id)
        opened = room.resolved or not any(c.sender == customer for c in chat.comments)
        if room.resolved:
            room.resolved = False
            self.sync_options(room)
        comment = self.fake.store.add_comment(chat, customer, text)
        delivery = self._chat_delivery(room, chat, comment)
        if opened:
            self.queue(
                "new_session",
                {
                    "is_new_session": True,
                    "payload": delivery["payload"],
                    "room_log": {
                        k: v
                        for k, v in _room_log(self, room).items()
                        if k in _NEW_SESSION_LOG
                    },
                    "webhook_type": "NEW_SESSION_WEBHOOK",
                },
            )
        if room.bot_active:
            self.queue("bot", delivery)
        if not room.agents:
            self.queue("allocation", self._allocation(room, chat))
        await self.flush()
        return comment

    # ------------------------------------------------------------ helpers

    def chat_room(self, room_id: int) -> RoomRecord:
        """The Chat SDK room of a customer room."""
        return self.fake.store.rooms[room_id]

    def room_or_404(self, raw: str) -> CustomerRoomRecord:
        """The customer room *raw* names, or a 404."""
        room = self.state.rooms.get(int(raw)) if raw.isdigit() else None
        if room is None:
            raise Reject(404, f"room {raw} not found")
        return room

    def release(self, room: CustomerRoomRecord, agent_id: int) -> None:
        """Take agent *agent_id* off *room*."""
        if agent_id in room.agents:
            room.agents.remove(agent_id)
        agent = self.state.agents.get(agent_id)
        if agent is not None and room.room_id in agent.rooms:
            agent.rooms.remove(room.room_id)

    def sync_options(self, room: CustomerRoomRecord) -> None:
        """Write the room's state into its Chat SDK options (4.1)."""
        channel = self.state.channels[room.channel_id]
        self.chat_room(room.room_id).options = _options(room, channel)

    def queue(self, hook: str, body: dict[str, Any]) -> None:
        """Deliver *body* to *hook*'s URL at the next :meth:`flush`, if set."""
        if hook in self._hooks:
            self._outbox.append((hook, body))

    async def flush(self) -> None:
        """POST the queued deliveries, in order; record each answer."""
        outbox, self._outbox = self._outbox, []
        if not outbox:
            return
        async with httpx.AsyncClient(transport=self._transport, timeout=10) as client:
            for hook, document in outbox:
                url = self._hooks[hook]
                body = json.dumps(document).encode()
                try:
                    response = await client.post(
                        url, content=body, headers={"content-type": "application/json"}
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.deliveries.append(OmniDelivery(hook, url, body, status))

    def _chat_delivery(
        self, room: CustomerRoomRecord, chat: RoomRecord, comment: CommentRecord
    ) -> dict[str, Any]:
        """The bot webhook of 4.1: the Chat SDK shape, ``app_code``, ``channel``."""
        channel = self.state.channels[room.channel_id]
        sender = self.fake.store.users[comment.sender]
        stamp = comment.timestamp
        return {
            "app_code": self.fake.app_id,
            "channel": {"id": channel.id, "name": channel.name, "source": room.source},
            "type": "post_comment_mobile",
            "payload": {
                "type": "post_comment_mobile",
                "from": {
                    "avatar_url": sender.avatar_url,
                    "email": sender.identifier,
                    "id": sender.internal_id,
                    "id_str": str(sender.internal_id),
                    "name": sender.name,
                },
                "message": {
                    "comment_before_id": comment.before_id,
                    "comment_before_id_str": str(comment.before_id),
                    "created_at": stamp,
                    "disable_link_preview": False,
                    "extras": None,
                    "id": comment.id,
                    "id_str": str(comment.id),
                    "payload": None,
                    "text": comment.message,
                    "timestamp": stamp,
                    "type": comment.type,
                    "unique_temp_id": f"{room.source}_{comment.id}",
                    "unix_nano_timestamp": 0,
                    "unix_timestamp": 0,
                },
                "room": {
                    "id": str(chat.id),
                    "id_str": str(chat.id),
                    "is_public_channel": False,
                    "name": chat.name,
                    "options": chat.options,
                    "participants": [{"email": p} for p in chat.participants],
                    "room_avatar": chat.avatar_url,
                    "topic_id": str(chat.id),
                    "topic_id_str": str(chat.id),
                    "type": chat.type,
                },
            },
        }

    def _allocation(self, room: CustomerRoomRecord, chat: RoomRecord) -> dict[str, Any]:
        """The custom agent allocation webhook of 4.2 (DOC-WH's newer form)."""
        customer = self.fake.store.users[room.customer]
        candidates = sorted(
            (
                a
                for a in self.state.agents.values()
                if a.is_available and len(a.rooms) < a.quota
            ),
            key=lambda a: len(a.rooms),
        )
        return {
            "app_code": self.fake.app_id,
            "app_id": self.fake.app_id,
            "source": room.source,
            "name": customer.name,
            "email": customer.identifier,
            "avatar_url": customer.avatar_url,
            "extras": None,
            "is_resolved": room.resolved,
            "room_id": str(chat.id),
            "candidate_agent": _added_agent(candidates[0]) if candidates else None,
        }


#: The ``room_log`` keys of the new-session webhook (4.4).
_NEW_SESSION_LOG = frozenset(
    {
        "channel_id",
        "created_at",
        "extras",
        "has_no_message",
        "is_waiting",
        "name",
        "resolved",
        "room_badge",
        "room_id",
        "source",
        "user_avatar_url",
        "user_id",
    }
)
