"""FakeQiscus: a stateful ASGI app serving both Qiscus REST dialects."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import anyio
import attrs
import httpx

from . import _http as http
from . import _shapes as shapes
from ._faults import Fault, FaultRule, pick
from ._http import (
    ConnectionDropped,
    InProcessTransport,
    Receive,
    Reject,
    Reply,
    Request,
    Scope,
    Send,
    invalid,
    json_or_400,
    loads,
)
from ._store import BackupRecord, CommentRecord, RoomRecord, Store, UserRecord, now

__all__ = ["ConnectionDropped", "FakeQiscus", "JournalEntry", "WebhookDelivery"]

DIALECTS = ("v2", "v2.1")
IMPORT_LIMIT = 4 * 1024 * 1024
#: Handler failures that mean malformed input the checks did not foresee.
_MALFORMED_INPUT = (ValueError, TypeError, KeyError, AttributeError, IndexError)


@attrs.frozen
class WebhookDelivery:
    """One webhook the fake delivered: where, what, its signature, the answer.

    ``status`` is 0 when the receiver could not be reached.
    """

    url: str
    body: bytes
    signature: str
    status: int


@attrs.frozen
class JournalEntry:
    """One request the fake received.

    Attributes:
        method: HTTP verb.
        path: The URL path.
        dialect: ``v2``, ``v2.1`` or ``None`` for other paths.
        endpoint: The endpoint name (``create_room``), or ``""``.
        query: Query pairs in order.
        body: The decoded body (JSON value or form dict), or ``None``.
        headers: Request headers, with credential values masked.
        status: The status answered (``0`` if the connection was dropped).
        fault: The injected fault, if any.
    """

    method: str
    path: str
    dialect: str | None
    endpoint: str
    query: tuple[tuple[str, str], ...]
    body: Any
    headers: dict[str, str]
    status: int = 0
    fault: Fault | None = None


Handler = Callable[["FakeQiscus", Request], Reply]
_ROUTES: dict[tuple[str, str, str], Handler] = {}


def _route(dialect: str, methods: str, endpoint: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for method in methods.split(","):
            _ROUTES[dialect, method, endpoint] = fn
        return fn

    return register


class FakeQiscus:
    """A Qiscus server in memory, as an ASGI application.

    It serves ``/api/v2/rest/*`` and ``/api/v2.1/rest/*`` with the documented
    shapes, validates parameters per dialect, and can inject faults. Use it
    in-process (:meth:`transport`, :meth:`client`) or on a loopback socket
    (:func:`aioqiscus.testing.serve`).

    Args:
        app_id: The app id it accepts.
        secret_key: The secret it accepts (either header spelling).
        dialects: The dialects served: ``{"v2"}``, ``{"v2.1"}`` or both. Paths
            of an unserved dialect answer a plain HTML 404.
        seed: Seed for probabilistic faults.
    """

    def __init__(
        self,
        *,
        app_id: str = "fake-app",
        secret_key: str = "fake-secret",  # noqa: S107 - a fake credential
        dialects: Iterable[str] = DIALECTS,
        seed: int = 0,
    ) -> None:
        self.app_id = app_id
        self.secret_key = secret_key
        self.dialects = _check_dialects(dialects)
        self.seed = seed
        self.store = Store()
        self.journal: list[JournalEntry] = []
        self.faults: list[FaultRule] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._webhook: tuple[str, str, httpx.AsyncBaseTransport | None] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._rng = random.Random(seed)  # noqa: S311 - deterministic faults

    def __repr__(self) -> str:
        return f"FakeQiscus(app_id={self.app_id!r}, dialects={sorted(self.dialects)})"

    @property
    def export_steps(self) -> list[tuple[str, int]]:
        """What each poll of a new export reveals, in order; the last repeats.

        Set it to script progress or failure.
        """
        return self.store.export_steps

    @export_steps.setter
    def export_steps(self, steps: list[tuple[str, int]]) -> None:
        self.store.export_steps = steps

    @property
    def backups(self) -> dict[str, BackupRecord]:
        """Export and import jobs by unique id."""
        return self.store.backups

    @property
    def imported_rooms(self) -> dict[str, int]:
        """Room ids by the ``UniqueId`` of a rooms import row."""
        return self.store.imported_rooms

    # ------------------------------------------------------------ control

    def reset(
        self, *, dialects: Iterable[str] | None = None, seed: int | None = None
    ) -> None:
        """Forget all users, rooms, comments, faults and the journal."""
        if dialects is not None:
            self.dialects = _check_dialects(dialects)
        if seed is not None:
            self.seed = seed
        self.store = Store()
        self.journal.clear()
        self.faults.clear()
        self._rng = random.Random(self.seed)  # noqa: S311

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        avatar_url: str = "",
        extras: dict[str, Any] | None = None,
    ) -> UserRecord:
        """Register a user directly (no request); returns its record."""
        return self.store.upsert_user(
            user_id,
            name or user_id.split("@", maxsplit=1)[0],
            avatar_url=avatar_url,
            extras=extras,
        )

    def add_comment(self, room_id: str | int, sender: str, message: str) -> int:
        """Post a text comment directly (no request); returns its id."""
        room = self.store.rooms[int(room_id)]
        return self.store.add_comment(room, sender, message).id

    def room(self, room_id: str | int) -> RoomRecord:
        """The record of a room, for assertions."""
        return self.store.rooms[int(room_id)]

    def inject(
        self,
        fault: Fault,
        *,
        endpoints: Iterable[str] | str = (),
        dialects: Iterable[str] | str = (),
        probability: float = 1.0,
        times: int | None = None,
    ) -> FaultRule:
        """Make matching requests fail; rules are tried in the order added.

        Args:
            fault: What goes wrong.
            endpoints: Endpoint names (``"create_room"``); all when empty.
            dialects: ``"v2"``/``"v2.1"``; both when empty.
            probability: Chance per matching request (seeded).
            times: Stop after this many hits; ``None`` for no limit.
        """
        if not 0.0 <= probability <= 1.0:
            msg = "probability must be within [0, 1]"
            raise ValueError(msg)
        rule = FaultRule(
            fault,
            frozenset([endpoints] if isinstance(endpoints, str) else endpoints),
            frozenset([dialects] if isinstance(dialects, str) else dialects),
            probability,
            times,
        )
        self.faults.append(rule)
        return rule

    def deliver_webhooks(
        self,
        url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Deliver a signed ``post_comment_rest`` webhook for each new comment.

        Deliveries are made before the ``post_comment`` answer is sent, and
        recorded in :attr:`webhook_deliveries`.

        Args:
            url: Where to POST (``http://127.0.0.1:PORT/hook``).
            token: The signature token (``QISCUS-SDK-SIGNATURE`` key).
            transport: An httpx transport to deliver through, e.g.
                ``httpx.ASGITransport(app=your_app)`` to call your app
                in-process.
        """
        self._webhook = (url, token, transport)

    def requests(self, endpoint: str | None = None) -> list[JournalEntry]:
        """Journal entries, optionally only those for *endpoint*."""
        return [e for e in self.journal if endpoint is None or e.endpoint == endpoint]

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that calls this app in-process."""
        return InProcessTransport(self)

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` wired to this app in-process."""
        return httpx.AsyncClient(transport=self.transport(), **kwargs)

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI request (and the lifespan protocol)."""
        if scope["type"] == "lifespan":
            await http.lifespan(receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - websockets are not served
            return
        body = await http.read_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        query = http.query_pairs(scope)
        headers = http.header_map(scope)
        dialect, endpoint, item = http.split(path)
        entry = {
            "method": method,
            "path": path,
            "dialect": dialect,
            "endpoint": endpoint,
            "query": tuple(query),
            "body": http.decode_for_journal(body, headers),
            "headers": http.mask(headers),
        }
        fault = None
        if dialect is None or dialect not in self.dialects:
            status, content, ctype = 404, http.HTML_404, "text/html"
        else:
            fault = pick(self.faults, endpoint, dialect, self._rng)
            answer = await _fault_answer(fault) if fault is not None else None
            if answer is None:
                if item is not None:
                    query = [*query, (":id", item)]
                status, reply = self._dispatch(
                    dialect, method, endpoint, query, body, headers
                )
                answer = status, http.dump(reply), http.JSON
            status, content, ctype = answer
        self.journal.append(JournalEntry(**entry, status=status, fault=fault))
        if self._outbox:
            await self._flush_webhooks()
        drop = fault is not None and fault.kind == "drop"
        await http.respond(
            send,
            status,
            content,
            ctype,
            retry_after=fault.retry_after if fault is not None else None,
            drop=drop,
        )
        if drop:
            raise ConnectionDropped(path)

    def _dispatch(
        self,
        dialect: str,
        method: str,
        endpoint: str,
        query: list[tuple[str, str]],
        body: bytes,
        headers: dict[str, str],
    ) -> Reply:
        try:
            self._authenticate(headers)
            handler = _handler(dialect, method, endpoint)
            request = Request(query, http.decode_body(body, headers), self.app_id)
            reply = handler(self, request)
        except Reject as reject:
            return reject.status, shapes.error(
                reject.status, reject.message, *reject.details
            )
        except _MALFORMED_INPUT as exc:
            # Malformed input the checks above did not foresee: still a 400.
            return 400, shapes.error(
                400, "Validation error", f"malformed request: {exc}"
            )
        for comment in request.posted:
            self._enqueue_webhook(comment)
        return reply

    # ------------------------------------------------------------ helpers

    def _authenticate(self, headers: dict[str, str]) -> None:
        secret = headers.get("qiscus-sdk-secret") or headers.get("qiscus_sdk_secret")
        if secret != self.secret_key:
            raise Reject(401, "Unauthorized", "invalid QISCUS_SDK_SECRET")
        app = headers.get("qiscus-sdk-app-id") or headers.get("qiscus_sdk_app_id")
        if app is not None and app != self.app_id:
            raise Reject(400, "App not found", f"app {app} not found")

    # ------------------------------------------------------------ webhooks

    def _enqueue_webhook(self, comment: CommentRecord) -> None:
        if self._webhook is not None:
            room = self.store.rooms[comment.room_id]
            self._outbox.append(shapes.webhook(self.store, room, comment))

    async def _flush_webhooks(self) -> None:
        outbox, self._outbox = self._outbox, []
        if self._webhook is None:
            return
        url, token, transport = self._webhook
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            for event in outbox:
                body = json.dumps(event).encode()
                signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
                try:
                    response = await client.post(
                        url,
                        content=body,
                        headers={
                            "content-type": "application/json",
                            "QISCUS-SDK-SIGNATURE": signature,
                        },
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.webhook_deliveries.append(
                    WebhookDelivery(url, body, signature, status)
                )


async def _fault_answer(fault: Fault) -> tuple[int, bytes, str] | None:
    """The answer of a fault that skips processing; ``None`` to process.

    A delay fault waits here, then lets the request be processed.
    """
    if fault.kind == "status":
        reply = shapes.error(fault.status_code, http.reason(fault.status_code))
        return fault.status_code, http.dump(reply), http.JSON
    if fault.kind == "malformed":
        return 200, *http.malformed(fault.body)
    if fault.kind == "delay":
        await anyio.sleep(fault.seconds)
    return None


def _room_with_target(
    store: Store, identifiers: list[str], options: str | None
) -> RoomRecord:
    """The single room of exactly two users, created if they have none."""
    if len(set(identifiers)) != 2 or len(identifiers) != 2:  # noqa: PLR2004
        raise invalid("exactly 2 distinct users are required")
    store.users_or_404(identifiers)
    wanted = set(identifiers)
    for room in store.rooms.values():
        if room.type == "single" and set(room.participants) == wanted:
            return room
    return store.create_room(
        "", "single", identifiers[0], identifiers, options=options or ""
    )


# ---------------------------------------------------------------- v2 routes


@_route("v2", "GET", "user_profile")
def _v2_user_profile(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_email"))
    return 200, shapes.envelope({"user": shapes.user_v2(user)})


@_route("v2", "POST", "login_or_register")
def _v2_login(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.upsert_user(
        p.required("email"),
        p.text("username") or "",
        avatar_url=p.text("avatar_url"),
        password=p.text("password"),
    )
    return 200, shapes.envelope({"user": shapes.user_v2(user, token=True)})


def _create_group(
    fake: FakeQiscus, p: Request, name_key: str, avatar_key: str, options: str
) -> RoomRecord:
    """create_room in either dialect: the wire names differ, the rules do not."""
    name = p.required(name_key)
    creator = p.required("creator")
    members = p.strings("participants", required=True)
    fake.store.users_or_404([creator, *members])
    return fake.store.create_room(
        name,
        "group",
        creator,
        members,
        avatar_url=p.text(avatar_key) or "",
        options=options,
    )


@_route("v2", "POST", "create_room")
def _v2_create_room(fake: FakeQiscus, p: Request) -> Reply:
    options = p.json_text("options") or ""
    room = _create_group(fake, p, "name", "avatar_url", options)
    return 200, shapes.envelope(shapes.room_compact_v2(room))


@_route("v2", "GET", "get_or_create_room_with_target")
def _v2_target(fake: FakeQiscus, p: Request) -> Reply:
    emails = p.strings("emails", required=True)
    room = _room_with_target(fake.store, emails, None)
    if not room.name:
        room.name = " ".join(emails)
    comments: list[dict[str, Any]] = []
    return 200, shapes.envelope(
        {"comments": comments, "room": shapes.room_full_v2(fake.store, room)}
    )


@_route("v2", "POST", "get_rooms_info")
def _v2_rooms_info(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_email")).identifier
    ids = p.strings("room_id", required=True)
    show = p.flag("show_participants")
    rooms = [fake.store.room_or_404(i) for i in ids]
    found = [
        shapes.room_info_v2(fake.store, r, user, participants=show)
        for r in rooms
        if user in r.participants
    ]
    return 200, shapes.envelope({"rooms_info": found})


@_route("v2", "POST", "update_room")
def _v2_update_room(fake: FakeQiscus, p: Request) -> Reply:
    user = p.required("user_email")
    room = fake.store.group_or_404(p.text("room_id"))
    if user not in room.participants:
        raise invalid("user_email must be a participant of the room")
    changed = _apply_update(
        room, p.text("room_name"), p.text("room_avatar_url"), p.json_text("options")
    )
    return 200, shapes.envelope(
        {
            "changed": changed,
            "room": shapes.room_full_v2(fake.store, room),
            "comments": [],
        }
    )


@_route("v2", "POST", "add_room_participants")
def _v2_add(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.group_or_404(p.text("room_id"))
    emails = p.strings("emails", required=True)
    _add(fake, room, emails)
    return 200, shapes.envelope(shapes.room_compact_v2(room))


@_route("v2", "POST", "remove_room_participants")
def _v2_remove(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.group_or_404(p.text("room_id"))
    _remove(room, p.strings("emails", required=True))
    return 200, shapes.envelope(shapes.room_compact_v2(room))


@_route("v2", "GET", "get_user_rooms")
def _v2_user_rooms(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_email")).identifier
    rooms = _rooms_of(fake, user, p.text("room_type"))
    # "Will show maximum 20 data per page" (qiscus-rest-v2.md).
    page = p.number("page", 1)
    chunk = rooms[(page - 1) * 20 : page * 20]
    show = p.flag("show_participants")
    return 200, shapes.envelope(
        {
            "meta": {"current_page": page, "total_room": len(rooms)},
            "rooms_info": [
                shapes.room_info_v2(fake.store, r, user, participants=show)
                for r in chunk
            ],
        }
    )


# ---------------------------------------------------------------- v2.1 routes


@_route("v2.1", "GET", "user_profile")
def _v21_user_profile(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_id"))
    return 200, shapes.envelope({"user": shapes.user_v21(user)})


@_route("v2.1", "POST", "login_or_register")
def _v21_login(fake: FakeQiscus, p: Request) -> Reply:
    extras = p.json_text("extras")
    user = fake.store.upsert_user(
        p.required("user_id"),
        p.text("username") or "",
        avatar_url=p.text("avatar_url"),
        password=p.text("password"),
        extras=loads(extras) if extras else None,
    )
    return 200, shapes.envelope({"user": shapes.user_v21(user)})


@_route("v2.1", "POST", "create_room")
def _v21_create_room(fake: FakeQiscus, p: Request) -> Reply:
    room = _create_group(fake, p, "room_name", "room_avatar_url", _options(p))
    return 200, shapes.envelope({"room": shapes.room_v21(fake.store, room)})


@_route("v2.1", "POST", "get_or_create_room_with_target")
def _v21_target(fake: FakeQiscus, p: Request) -> Reply:
    room = _room_with_target(
        fake.store, p.strings("user_ids", required=True), _options(p)
    )
    return 200, shapes.envelope({"room": shapes.room_v21(fake.store, room)})


# The room document says GET, the Go SDK POST: serve both.
@_route("v2.1", "GET,POST", "get_or_create_channel")
def _v21_channel(fake: FakeQiscus, p: Request) -> Reply:
    unique_id = p.required("unique_id")
    members = p.strings("participants", required=True)
    fake.store.users_or_404(members)
    room = next(
        (r for r in fake.store.rooms.values() if r.channel_id == unique_id), None
    )
    changed = room is None
    if room is None:
        room = fake.store.create_room(
            p.text("room_name") or unique_id,
            "group",
            members[0],
            members,
            avatar_url=p.text("room_avatar_url") or "",
            options=_options(p),
            channel_id=unique_id,
        )
    else:
        changed = _add(fake, room, members) or changed
        changed = (
            _apply_update(
                room,
                p.text("room_name"),
                p.text("room_avatar_url"),
                p.json_text("room_options"),
            )
            or changed
        )
    return 200, shapes.envelope(
        {"changed": changed, "room": shapes.room_v21(fake.store, room)}
    )


@_route("v2.1", "GET", "get_rooms_info")
def _v21_rooms_info(fake: FakeQiscus, p: Request) -> Reply:
    ids = p.strings("room_ids")
    channels = set(p.strings("room_channel_ids"))
    if not ids and not channels:
        raise invalid("room_ids or room_channel_ids is required")
    rooms = [fake.store.room_or_404(i) for i in ids]
    rooms += [
        r
        for r in fake.store.rooms.values()
        if r.channel_id and r.channel_id in channels
    ]
    show = p.flag("show_participants")
    return 200, shapes.envelope(
        {"rooms": [shapes.room_v21(fake.store, r, participants=show) for r in rooms]}
    )


@_route("v2.1", "POST", "update_room")
def _v21_update_room(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.group_or_404(p.text("room_id"))
    changed = _apply_update(
        room,
        p.text("room_name"),
        p.text("room_avatar_url"),
        p.json_text("room_options"),
    )
    channel = p.text("room_channel_id")
    if channel is not None and channel != room.channel_id:
        room.channel_id = channel
        changed = True
    return 200, shapes.envelope(
        {"changed": changed, "room": shapes.room_v21(fake.store, room)}
    )


@_route("v2.1", "POST", "add_room_participants")
def _v21_add(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.group_or_404(p.text("room_id"))
    ids = p.strings("user_ids", required=True)
    _add(fake, room, ids)
    users = [shapes.user_v21(fake.store.users[i]) for i in ids]
    return 200, shapes.envelope({"participants_added": users})


@_route("v2.1", "POST", "remove_room_participants")
def _v21_remove(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.group_or_404(p.text("room_id"))
    ids = p.strings("user_ids", required=True)
    removed = [i for i in ids if i in room.participants]
    _remove(room, ids)
    users = [shapes.user_v21(fake.store.users[i]) for i in removed]
    return 200, shapes.envelope({"participants_removed": users})


@_route("v2.1", "GET", "get_room_participants")
def _v21_participants(fake: FakeQiscus, p: Request) -> Reply:
    room = fake.store.room_or_404(p.text("room_id"))
    page = p.number("page", 1)
    limit = p.number("limit", 20, maximum=100)
    chunk = room.participants[(page - 1) * limit : page * limit]
    return 200, shapes.envelope(
        {"participants": [shapes.user_v21(fake.store.users[i]) for i in chunk]}
    )


@_route("v2.1", "GET", "get_user_rooms")
def _v21_user_rooms(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_id")).identifier
    rooms = _rooms_of(fake, user, p.text("room_type"))
    page = p.number("page", 1)
    limit = p.number("limit", 100, maximum=100)
    chunk = rooms[(page - 1) * limit : page * limit]
    show = p.flag("show_participants")
    return 200, shapes.envelope(
        {
            "meta": {"current_page": page, "total_room": len(rooms)},
            "rooms": [shapes.room_v21(fake.store, r, participants=show) for r in chunk],
        }
    )


@_route("v2.1", "GET", "get_unread_count")
def _v21_unread(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_id")).identifier
    rooms = [fake.store.room_or_404(i) for i in p.strings("room_ids", required=True)]
    return 200, shapes.envelope(
        {
            "unread_counts": [
                {"room_id": str(r.id), "unread_count": r.unread(user)} for r in rooms
            ]
        }
    )


# ---------------------------------------------------------------- comments

COMMENT_TYPES = frozenset(
    {
        "text",
        "buttons",
        "card",
        "carousel",
        "account_linking",
        "custom",
        "location",
        "contact_person",
        "reply",
        "file_attachment",
    }
)


def _payload(p: Request, kind: str) -> Any:
    """The payload of a comment, checked like the documents describe."""
    raw = p.raw("payload")
    if isinstance(raw, str) and raw:
        raw = json_or_400(raw, "payload must be a JSON object")
    if kind == "text":
        return raw or None
    if not isinstance(raw, dict):
        raise invalid(f"payload is required for type {kind}")
    checks: dict[str, tuple[str, ...]] = {
        "buttons": ("buttons",),
        "card": ("title",),
        "carousel": ("cards",),
        "account_linking": ("url",),
        "custom": ("type", "content"),
        "location": ("name", "address", "latitude", "longitude"),
        "contact_person": ("name", "value"),
        "reply": ("text", "replied_comment_id"),
        "file_attachment": ("url",),
    }
    missing = [k for k in checks[kind] if k not in raw]
    if missing:
        raise invalid(*(f"payload.{k} is required for type {kind}" for k in missing))
    for button in raw.get("buttons") or []:
        action = button.get("payload") if isinstance(button, dict) else None
        if not isinstance(action, dict) or not action.get("url"):
            raise invalid("every button needs payload.url")
        if not button.get("label") or button.get("type") not in ("postback", "link"):
            raise invalid("every button needs a label and type postback or link")
    if kind == "card" and "image_url" in raw:
        # The v2 request says image_url, every response says image.
        raw = {**raw, "image": raw["image_url"]}
        del raw["image_url"]
    return raw


def _post_comment(fake: FakeQiscus, p: Request, sender_key: str) -> CommentRecord:
    sender = fake.store.user_or_404(p.required(sender_key)).identifier
    room = fake.store.room_or_404(p.text("room_id"))
    kind = p.text("type") or "text"
    if kind == "system_event":
        raise invalid("use post_system_event_message for system events")
    if kind not in COMMENT_TYPES:
        raise invalid(f"type {kind} is not a valid comment type")
    payload = _payload(p, kind)
    message = p.text("message") or ""
    if kind == "text" and not message:
        raise invalid("message is required")
    extras = p.raw("extras")
    if isinstance(extras, str) and extras:
        extras = json_or_400(extras, "extras must be a JSON object")
    return fake.store.add_comment(
        room,
        sender,
        message,
        type=kind,
        payload=payload,
        extras=extras if isinstance(extras, dict) else {},
        unique_temp_id=p.text("unique_temp_id") or secrets.token_urlsafe(15),
        disable_link_preview=p.flag("disable_link_preview"),
    )


def _history(fake: FakeQiscus, p: Request) -> tuple[RoomRecord, list[CommentRecord]]:
    room = fake.store.room_or_404(p.text("room_id"))
    page = p.number("page", 1)
    limit = p.number("limit", 20, maximum=100)
    newest_first = room.comments[::-1]
    return room, newest_first[(page - 1) * limit : page * limit]


_EVENT_TEXT = {
    "create_room": "{s} created room '{room}'",
    "add_member": "{s} added {o}",
    "join_room": "{s} joined room",
    "remove_member": "{s} removed {o}",
    "left_room": "{s} left room",
    "change_room_name": "{s} changed room name to '{room}'",
    "change_room_avatar": "{s} changed room avatar",
}


def _system_event(
    fake: FakeQiscus, p: Request, subject_key: str, object_key: str, dialect: str
) -> CommentRecord:
    room = fake.store.room_or_404(p.text("room_id"))
    kind = p.required("system_event_type")
    payload = p.raw("payload")
    if kind == "custom":
        if not isinstance(payload, dict):
            raise invalid("payload is required for a custom system event")
        message = p.text("message") or ""
        # v2 echoes the payload; v2.1 nests it (v2.1/comment.md).
        data = payload if dialect == "v2" else {"type": "custom", "payload": payload}
        return fake.store.add_comment(
            room, shapes.SYSTEM_ID, message, type="system_event", payload=data
        )
    if kind not in _EVENT_TEXT:
        raise invalid(f"system_event_type {kind} is not valid")
    subject = fake.store.user_or_404(p.required(subject_key))
    objects = fake.store.users_or_404(p.strings(object_key))
    if kind in ("add_member", "remove_member") and not objects:
        raise invalid(f"{object_key} is required for {kind}")
    room_name = p.text("updated_room_name")
    if kind in ("create_room", "change_room_name"):
        if not room_name:
            raise invalid(f"updated_room_name is required for {kind}")
        room.name = room_name
    object_names = ", ".join(o.name for o in objects)
    text = _EVENT_TEXT[kind].format(s=subject.name, o=object_names, room=room.name)
    data = {
        "object_email": objects[0].identifier if objects else "",
        "object_username": objects[0].name if objects else "",
        "object_email_list": [o.identifier for o in objects],
        "object_username_list": [o.name for o in objects],
        "room_name": room.name,
        "subject_email": subject.identifier,
        "subject_username": subject.name,
        "type": kind,
    }
    return fake.store.add_comment(
        room, shapes.SYSTEM_ID, text, type="system_event", payload=data
    )


@_route("v2", "POST", "post_comment")
def _v2_post_comment(fake: FakeQiscus, p: Request) -> Reply:
    comment = _post_comment(fake, p, "sender_email")
    p.posted.append(comment)
    room = fake.store.rooms[comment.room_id]
    return 200, shapes.envelope(
        {"comment": shapes.comment_v2(fake.store, room, comment)}
    )


# GET in qiscus-rest-v2.md, POST in qiscus-rest-v2-early.md: serve both.
@_route("v2", "GET,POST", "load_comments")
def _v2_load_comments(fake: FakeQiscus, p: Request) -> Reply:
    room, chunk = _history(fake, p)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v2(fake.store, room, c) for c in chunk]}
    )


@_route("v2", "POST", "post_system_event_message")
def _v2_system_event(fake: FakeQiscus, p: Request) -> Reply:
    comment = _system_event(fake, p, "subject_email", "object_email", "v2")
    room = fake.store.rooms[comment.room_id]
    return 200, shapes.envelope(
        {"comment": shapes.comment_v2(fake.store, room, comment)}
    )


@_route("v2", "POST", "search_messages")
def _v2_search(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_email")).identifier
    query = p.required("query").lower()
    room_id = p.text("room_id")
    store = fake.store
    rooms = [store.room_or_404(room_id)] if room_id else list(store.rooms.values())
    found = [
        (room, c)
        for room in rooms
        if user in room.participants
        for c in room.comments
        if query in c.message.lower()
    ]
    found.sort(key=lambda pair: pair[1].id, reverse=True)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v2(fake.store, r, c) for r, c in found[:100]]}
    )


@_route("v2.1", "POST", "post_comment")
def _v21_post_comment(fake: FakeQiscus, p: Request) -> Reply:
    comment = _post_comment(fake, p, "user_id")
    p.posted.append(comment)
    return 200, shapes.envelope({"comment": shapes.comment_v21(fake.store, comment)})


@_route("v2.1", "GET", "load_comments")
def _v21_load_comments(fake: FakeQiscus, p: Request) -> Reply:
    _, chunk = _history(fake, p)
    return 200, shapes.envelope(
        {"comments": [shapes.comment_v21(fake.store, c) for c in chunk]}
    )


@_route("v2.1", "POST", "post_system_event_message")
def _v21_system_event(fake: FakeQiscus, p: Request) -> Reply:
    comment = _system_event(fake, p, "subject_user_id", "object_user_id", "v2.1")
    return 200, shapes.envelope({"comment": shapes.comment_v21(fake.store, comment)})


# ---------------------------------------------------------------- users


@_route("v2", "POST", "reset_user_token")
def _v2_reset_token(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_email"))
    user.token = secrets.token_urlsafe(15)
    return 200, shapes.envelope({"user": shapes.reset_token_v2(user)})


@_route("v2.1", "POST", "reset_user_token")
def _v21_reset_token(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_id"))
    user.token = secrets.token_urlsafe(15)
    return 200, shapes.envelope({"token": user.token})


@_route("v2.1", "GET", "get_user_token")
def _v21_get_token(fake: FakeQiscus, p: Request) -> Reply:
    user = fake.store.user_or_404(p.required("user_id"))
    return 200, shapes.envelope({"token": user.token})


@_route("v2.1", "GET", "get_user_list")
def _v21_user_list(fake: FakeQiscus, p: Request) -> Reply:
    page = p.number("page", 1)
    limit = p.number("limit", 20, maximum=100)
    users = sorted(fake.store.users.values(), key=lambda u: u.internal_id)
    if (p.text("order_query") or "").lower().startswith("created_at desc"):
        users.reverse()
    chunk = users[(page - 1) * limit : page * limit]
    return 200, shapes.envelope(
        {
            "meta": {"total_data": len(users), "total_page": -(-len(users) // limit)},
            "users": [shapes.listed_user_v21(u) for u in chunk],
        }
    )


# ---------------------------------------------------------------- backups


def _backup_base(fake: FakeQiscus) -> str:
    return f"https://{fake.app_id}.fake.qiscus.invalid/backups"


def _create_export(fake: FakeQiscus, p: Request) -> Reply:
    resource = p.required("type")
    if resource not in ("users", "rooms", "comments"):
        raise invalid("type must be users, rooms or comments")
    dates = []
    for key in ("start_date", "end_date"):
        try:
            dates.append(date.fromisoformat(p.required(key)))
        except ValueError:
            raise invalid(f"{key} must use the format YYYY-MM-DD") from None
    if dates[0] > dates[1]:
        raise invalid("start_date must not be after end_date")
    created = now()
    rows = _rows(fake, resource)
    record = BackupRecord(
        str(uuid.uuid4()),
        resource,
        f"{created}_exported_{resource}.json",
        "export",
        list(fake.store.export_steps),
        created_at=created,
        total_rows=len(rows),
        size=len(json.dumps(rows)),
        error="export failed on the server",
    )
    fake.store.backups[record.unique_id] = record
    return 200, shapes.envelope(shapes.backup(record, _backup_base(fake)))


def _list_backups(fake: FakeQiscus, p: Request, kind: str) -> Reply:
    page = p.number("page", 1)
    found = [b for b in fake.store.backups.values() if b.kind == kind][::-1]
    chunk = found[(page - 1) * 20 : page * 20]
    base = _backup_base(fake)
    return 200, shapes.envelope(
        {"backup_histories": [shapes.backup(b, base) for b in chunk]}
    )


def _get_export(fake: FakeQiscus, p: Request) -> Reply:
    record = fake.store.backup_or_404(p.required(":id"), "export")
    answer = shapes.backup(record, _backup_base(fake))
    record.polls += 1
    return 200, shapes.envelope({"backup_history": answer})


def _delete_export(fake: FakeQiscus, p: Request) -> Reply:
    record = fake.store.backup_or_404(p.required(":id"), "export")
    del fake.store.backups[record.unique_id]
    return 200, shapes.envelope(
        {"backup_history": shapes.backup(record, _backup_base(fake))}
    )


def _create_import(fake: FakeQiscus, p: Request) -> Reply:
    resource = p.required("type")
    if resource not in ("users", "rooms", "comments"):
        raise invalid("type must be users, rooms or comments")
    upload = p.raw("file")
    if not isinstance(upload, tuple):
        raise invalid("file is required")
    filename, content = upload
    if len(content) > IMPORT_LIMIT:
        raise invalid("file is larger than 4 MB")
    rows = json_or_400(content, "file must be a JSON array")
    if not isinstance(rows, list):
        raise invalid("file must be a JSON array")
    errors = _apply_import(fake, resource, rows)
    record = BackupRecord(
        str(uuid.uuid4()),
        resource,
        filename or f"{resource}.json",
        "import",
        [("failed", 100)] if errors else [("finished", 100)],
        total_rows=0 if errors else len(rows),
        size=len(content),
        import_errors={"Message": "; ".join(errors), "Data": errors} if errors else {},
    )
    fake.store.backups[record.unique_id] = record
    return 200, shapes.envelope(
        {"backup_history": shapes.backup(record, _backup_base(fake))}
    )


def _rows(fake: FakeQiscus, resource: str) -> list[Any]:
    if resource == "users":
        return [u.identifier for u in fake.store.users.values()]
    if resource == "rooms":
        return [r.id for r in fake.store.rooms.values()]
    return [c.id for r in fake.store.rooms.values() for c in r.comments]


def _import_users(fake: FakeQiscus, rows: list[dict[str, Any]]) -> list[str]:
    store = fake.store
    problems = [
        f"row {i}: Email missing or already exists"
        for i, row in enumerate(rows)
        if not row.get("Email") or row["Email"] in store.users
    ]
    if not problems:
        for row in rows:
            store.upsert_user(
                row["Email"],
                row.get("Name") or row["Email"],
                avatar_url=row.get("AvatarUrl") or "",
            )
    return problems


def _import_rooms(fake: FakeQiscus, rows: list[dict[str, Any]]) -> list[str]:
    store = fake.store
    problems = []
    for i, row in enumerate(rows):
        people = [row.get("CreatorEmail"), *(row.get("ParticipantEmails") or [])]
        if any(p not in store.users for p in people):
            problems.append(f"row {i}: CreatorEmail or a participant is unknown")
        if row.get("UniqueId") in fake.store.imported_rooms:
            problems.append(f"row {i}: UniqueId already exists")
    if not problems:
        for row in rows:
            room = store.create_room(
                row.get("Name") or "",
                row.get("Type") or "group",
                row["CreatorEmail"],
                list(row.get("ParticipantEmails") or []),
                avatar_url=row.get("AvatarUrl") or "",
                options=row.get("Options") or "",
            )
            fake.store.imported_rooms[row["UniqueId"]] = room.id
    return problems


def _import_comments(fake: FakeQiscus, rows: list[dict[str, Any]]) -> list[str]:
    store = fake.store
    problems = []
    for i, row in enumerate(rows):
        if row.get("RoomUniqueId") not in fake.store.imported_rooms:
            problems.append(f"row {i}: RoomUniqueId is unknown")
        if row.get("CreatorEmail") not in store.users:
            problems.append(f"row {i}: CreatorEmail is unknown")
    if not problems:
        for row in rows:
            room = store.rooms[fake.store.imported_rooms[row["RoomUniqueId"]]]
            store.add_comment(
                room,
                row["CreatorEmail"],
                row.get("Message") or "",
                type=row.get("Type") or "text",
                payload=row.get("Payload"),
                unique_temp_id=row.get("UniqueId") or "",
            )
    return problems


_IMPORTERS = {
    "users": _import_users,
    "rooms": _import_rooms,
    "comments": _import_comments,
}


def _apply_import(fake: FakeQiscus, resource: str, rows: list[Any]) -> list[str]:
    """Apply an import all-or-nothing; returns the problems found."""
    if not all(isinstance(r, dict) for r in rows):
        return ["every row must be an object"]
    return _IMPORTERS[resource](fake, rows)


for _dialect in DIALECTS:
    _route(_dialect, "POST", "exports")(_create_export)
    _route(_dialect, "GET", "exports")(lambda f, p: _list_backups(f, p, "export"))
    _route(_dialect, "GET", "exports/:id")(_get_export)
    _route(_dialect, "DELETE", "exports/:id")(_delete_export)
    _route(_dialect, "POST", "imports")(_create_import)
    _route(_dialect, "GET", "imports")(lambda f, p: _list_backups(f, p, "import"))


# ---------------------------------------------------------------- shared logic


def _options(p: Request) -> str:
    text = p.json_text("room_options") or ""
    if text:
        json_or_400(text, "room_options must be a JSON string")
    return text


def _apply_update(
    room: RoomRecord, name: str | None, avatar: str | None, options: str | None
) -> bool:
    changed = False
    for attr, value in (("name", name), ("avatar_url", avatar), ("options", options)):
        if value is not None and getattr(room, attr) != value:
            setattr(room, attr, value)
            changed = True
    return changed


def _add(fake: FakeQiscus, room: RoomRecord, identifiers: list[str]) -> bool:
    fake.store.users_or_404(identifiers)
    new = [i for i in identifiers if i not in room.participants]
    room.participants.extend(new)
    return bool(new)


def _remove(room: RoomRecord, identifiers: list[str]) -> None:
    gone = set(identifiers)
    room.participants[:] = [u for u in room.participants if u not in gone]


def _rooms_of(fake: FakeQiscus, user: str, room_type: str | None) -> list[RoomRecord]:
    if room_type not in (None, "single", "group"):
        raise invalid("room_type must be single or group")
    return [
        r
        for r in fake.store.rooms.values()
        if user in r.participants and (room_type is None or r.type == room_type)
    ]


# ---------------------------------------------------------------- plumbing


def _handler(dialect: str, method: str, endpoint: str) -> Handler:
    handler = _ROUTES.get((dialect, method, endpoint))
    if handler is None:
        if any(d == dialect and e == endpoint for d, _, e in _ROUTES):
            raise Reject(405, "Method Not Allowed")
        raise Reject(404, "Not Found", f"no endpoint {endpoint}")
    return handler


def _check_dialects(dialects: Iterable[str]) -> frozenset[str]:
    found = frozenset([dialects] if isinstance(dialects, str) else dialects)
    if not found or not found <= set(DIALECTS):
        msg = f"dialects must be a non-empty subset of {DIALECTS}, got {sorted(found)}"
        raise ValueError(msg)
    return found
