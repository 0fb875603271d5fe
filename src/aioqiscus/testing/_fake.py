"""FakeQiscus: a stateful ASGI app serving both Qiscus REST dialects.

Strictly private; users import from :mod:`aioqiscus.testing`. This module
holds the app itself: its control API (users, rooms, comments and faults set
up without a request), the ASGI entry point that authenticates, injects
faults and dispatches to the route tables, the request journal, and the
webhook outbox. The app's user who types and taps (:meth:`FakeQiscus.say`,
:meth:`FakeQiscus.tap`) is part of the control API. The rest lives in rooms
of its own:

- ``_http``: ASGI plumbing, request parsing, the :class:`Request` handlers read;
- ``_store``: the state and its lookups (``user_or_404``, ``room_or_404``);
- ``_rules``: what both dialects share (room, participant, comment rules);
- ``_routes_v2``, ``_routes_v21``, ``_routes_backups``: one handler per
  endpoint and one ``ROUTES`` table per module;
- ``_shapes``: the JSON answered, written from the documents;
- ``_taps``: which button a tap hits and what the app posts for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Iterable
from typing import Any, cast

import anyio
import attrs
import httpx

from . import _http as http
from . import _routes_backups, _routes_omnichannel, _routes_v2, _routes_v21
from . import _shapes as shapes
from . import _taps as taps
from ._faults import Fault, FaultRule, RateRule, pick
from ._http import (
    ConnectionDropped,
    InProcessTransport,
    Receive,
    Reject,
    Reply,
    Scope,
    Send,
)
from ._rules import Handler, Routes
from ._store import BackupRecord, CommentRecord, RoomRecord, Store, UserRecord

__all__ = ["ConnectionDropped", "FakeQiscus", "JournalEntry", "WebhookDelivery"]

#: A request as dispatched: dialect, method, endpoint, query, body, headers, origin.
_Request = tuple[str, str, str, list[tuple[str, str]], bytes, dict[str, str], str]

DIALECTS = ("v2", "v2.1")
#: What fault rules name as the dialect of the Omnichannel endpoints.
OMNICHANNEL = "omnichannel"
#: Every route each dialect serves: its own table and the backups.
_ROUTES: dict[str, Routes] = {
    "v2": {**_routes_v2.ROUTES, **_routes_backups.ROUTES},
    "v2.1": {**_routes_v21.ROUTES, **_routes_backups.ROUTES},
}
#: The endpoints of each dialect, whatever the verb: another verb is a 405.
_ENDPOINTS = {d: frozenset(e for _, e in t) for d, t in _ROUTES.items()}
#: Handler failures that mean malformed input the checks did not foresee.
_MALFORMED_INPUT = (ValueError, TypeError, KeyError, AttributeError, IndexError)
#: What a lagging fault that drops the connection starts to answer.
_UNFINISHED = b'{"status": 200, "results": {"comment": {"id": 0, "message": ""}}}'


def _masked(value: Any) -> Any:
    """A journal body with every password-like value replaced by ``***``."""
    if isinstance(value, dict):
        return {
            k: "***"
            if isinstance(k, str) and ("password" in k.lower() or "secret" in k.lower())
            else _masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


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
        body: The decoded body (JSON value or form dict), or ``None``, with
            password values masked.
        headers: Request headers, with credential values masked.
        status: The status answered (``0`` if the connection was dropped).
        fault: The injected fault, if any (a 429 of :meth:`FakeQiscus.limit_rate`
            is a ``Fault.rate_limited``).
        at: When the request's body had arrived (``time.monotonic()``).
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
    at: float = 0.0


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
        self.rate: RateRule | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._webhook: tuple[str, str, httpx.AsyncBaseTransport | None] | None = None
        self._outbox: list[dict[str, Any]] = []
        self._rng = random.Random(seed)  # noqa: S311 - deterministic faults
        # Requests a lagging fault processes later, and the store generation
        # they belong to (reset() starts a new one; late work of an old one
        # is dropped).
        self._late: set[asyncio.Task[None]] = set()
        self._generation = 0
        #: The Omnichannel side: agents, channels, customers, its webhooks.
        self.omnichannel = _routes_omnichannel.FakeOmnichannel(self)

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
    def import_steps(self) -> list[tuple[str, int]]:
        """What a new valid import answers, then each listing reveals.

        ``[("started", 0), ("finished", 100)]`` unless set; the last repeats.
        An import whose rows break the documented rules answers ``failed``
        at once, with the problems in its ``errors``.
        """
        return self.store.import_steps

    @import_steps.setter
    def import_steps(self, steps: list[tuple[str, int]]) -> None:
        self.store.import_steps = steps

    @property
    def backups(self) -> dict[str, BackupRecord]:
        """Export and import jobs by unique id."""
        return self.store.backups

    @property
    def imported_rooms(self) -> dict[str, int]:
        """Room ids by the ``UniqueId`` of a rooms import row."""
        return self.store.imported_rooms

    # ------------------------------------------------------------ control

    @property
    def clock_skew(self) -> float:
        """How many seconds the fake's clock is ahead of this machine's.

        Negative: behind. It stamps comments (``timestamp``) and users, and
        the ``Date`` header of every answer, as a server with a wrong clock
        would; :meth:`reset` sets it back to 0.
        """
        return self.store.clock_skew

    @clock_skew.setter
    def clock_skew(self, seconds: float) -> None:
        self.store.clock_skew = float(seconds)

    def reset(
        self, *, dialects: Iterable[str] | None = None, seed: int | None = None
    ) -> None:
        """Forget all users, rooms, comments, faults, the rate and the journal."""
        if dialects is not None:
            self.dialects = _check_dialects(dialects)
        if seed is not None:
            self.seed = seed
        self.store = Store()
        self.journal.clear()
        self.faults.clear()
        self.rate = None
        self.omnichannel.deliveries.clear()
        self._generation += 1
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

    # ------------------------------------------------------------ the app's user

    async def say(self, room_id: str | int, user_id: str, text: str) -> CommentRecord:
        """*user_id* types *text* in room *room_id*, in an app.

        The comment is stored as the app's SDK posts it, without a REST
        request (the journal does not record it), and, when
        :meth:`deliver_webhooks` is set, delivered as a signed
        ``post_comment_mobile`` webhook before this returns.

        Returns:
            The comment's record.

        Raises:
            LookupError: There is no such room or user.
            ValueError: The user is not in the room, or *text* is empty.
        """
        if not isinstance(cast("object", text), str) or not text.strip():
            msg = f"text must be a non-empty str, got {text!r:.60}"
            raise ValueError(msg)
        room = self._member_room(room_id, user_id)
        return await self._post_from_app(room, user_id, text)

    async def tap(
        self, comment_id: str | int, label: str, *, by: str, card: int | None = None
    ) -> CommentRecord:
        """User *by* taps the postback button *label* of comment *comment_id*.

        The comment must be a ``buttons``, ``card`` or ``carousel`` comment
        in a room *by* is in. The app posts a ``button_postback_response``
        comment whose text is the button's ``postback_text`` (its label if
        that is empty) and whose payload is what the web SDK sends, the
        button's action ``{"url", "method", "payload"}`` as a JSON string;
        it is stored and delivered like :meth:`say`.

        Args:
            comment_id: The comment holding the button.
            label: The button's label, exactly.
            by: The user who taps.
            card: For a carousel whose cards share the label, the index of
                the card tapped.

        Returns:
            The ``button_postback_response`` comment's record.

        Raises:
            LookupError: There is no such comment or user.
            ValueError: The user is not in the comment's room; the comment
                has no buttons, no button *label*, or several and no *card*;
                or the button is a ``link`` button (the app opens its URL and
                posts nothing).
        """
        comment = self._comment(comment_id)
        room = self._member_room(comment.room_id, by)
        button = taps.find_button(
            comment.id, comment.type, comment.payload, label, card
        )
        text, payload = taps.tap_comment(button)
        return await self._post_from_app(
            room, by, text, type=taps.POSTBACK_RESPONSE, payload=payload
        )

    def _member_room(self, room_id: str | int, user_id: str) -> RoomRecord:
        """Room *room_id*, checked to exist and to have *user_id* in it."""
        try:
            room = self.store.rooms.get(int(room_id))
        except (TypeError, ValueError):
            room = None
        if room is None:
            msg = f"no room {room_id!r} in the fake"
            raise LookupError(msg)
        if user_id not in self.store.users:
            msg = f"no user {user_id!r} in the fake; add it with add_user()"
            raise LookupError(msg)
        if user_id not in room.participants:
            msg = f"{user_id} is not a participant of room {room.id}"
            raise ValueError(msg)
        return room

    def _comment(self, comment_id: str | int) -> CommentRecord:
        try:
            wanted = int(comment_id)
        except (TypeError, ValueError):
            wanted = None
        for room in self.store.rooms.values():
            for comment in room.comments:
                if comment.id == wanted:
                    return comment
        msg = f"no comment {comment_id!r} in the fake"
        raise LookupError(msg)

    async def _post_from_app(
        self, room: RoomRecord, sender: str, text: str, **fields: Any
    ) -> CommentRecord:
        """Store a comment posted by an app's SDK; deliver its webhook."""
        comment = self.store.add_comment(
            room, sender, text, unique_temp_id=secrets.token_urlsafe(15), **fields
        )
        if self._webhook is not None:
            # The documented delivery, typed as coming from a client
            # (v2.1/webhook.md: "post_comment_mobile" if from client side).
            event = shapes.webhook(self.store, room, comment)
            await self._deliver([{**event, "type": "post_comment_mobile"}])
        return comment

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
            endpoints: Endpoint names (``"create_room"``; an Omnichannel
                handler's name, ``"assign_agent"``); all when empty.
            dialects: ``"v2"``/``"v2.1"``/``"omnichannel"``; all when empty.
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

    def limit_rate(
        self,
        per_second: float | None,
        *,
        burst: int = 1,
        retry_after: float | None = None,
    ) -> RateRule | None:
        """Enforce a request rate per app id; ``None`` lifts it.

        Qiscus documents no rate limit: this plays a server (or a gateway)
        that has one. A REST request beyond *per_second* (after a *burst*
        at once) is answered 429 with ``Retry-After``, unprocessed, before
        fault rules are tried; it is journaled with a
        ``Fault.rate_limited`` fault. Requests within the rate go on to
        the fault rules as usual.

        Args:
            per_second: Requests per second allowed per app id.
            burst: Requests allowed at once after a quiet spell.
            retry_after: The ``Retry-After`` answered, in seconds; by
                default the time until a request would be allowed.

        Returns:
            The rule, or ``None`` when lifted.
        """
        self.rate = (
            None if per_second is None else RateRule(per_second, burst, retry_after)
        )
        return self.rate

    def deliver_webhooks(
        self,
        url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Deliver a signed webhook for each new comment, in order.

        A comment posted through the REST API is delivered as
        ``post_comment_rest`` before the ``post_comment`` answer is sent; one
        posted by :meth:`say` or :meth:`tap` as ``post_comment_mobile``
        before they return. Deliveries are recorded in
        :attr:`webhook_deliveries`.

        Args:
            url: Where to POST (``http://127.0.0.1:PORT/hook``).
            token: The signature token (``QISCUS-SDK-SIGNATURE`` key).
            transport: An httpx transport to deliver through, e.g.
                ``httpx.ASGITransport(app=your_app)`` to call your app
                in-process.
        """
        self._webhook = (url, token, transport)

    @property
    def pending(self) -> int:
        """How many requests lagging faults have yet to process."""
        return len(self._late)

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
        arrived = time.monotonic()
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
            "body": _masked(http.decode_for_journal(body, headers)),
            "headers": http.mask(headers),
        }
        fault = None
        if path.startswith(_routes_backups.DOWNLOAD_PREFIX):
            entry["endpoint"] = _routes_backups.DOWNLOAD
            fault = pick(self.faults, _routes_backups.DOWNLOAD, "", self._rng)
            answer = await self._fault_answer(fault, None) if fault else None
            status, content, ctype = answer or _routes_backups.download(
                self.store, path
            )
        elif dialect is None and (omni := _routes_omnichannel.route(method, path)):
            entry["endpoint"] = omni[0]
            status, content, ctype, fault = await self._omnichannel_answer(
                omni, query, body, headers
            )
        elif dialect is None or dialect not in self.dialects:
            status, content, ctype = 404, http.HTML_404, "text/html"
        else:
            if item is not None:
                query = [*query, (":id", item)]
            fault = self._over_rate(headers, arrived) or pick(
                self.faults, endpoint, dialect, self._rng
            )
            origin = http.origin(scope, headers)
            request = (dialect, method, endpoint, query, body, headers, origin)
            answer = await self._fault_answer(fault, request) if fault else None
            if answer is None:
                status, reply = self._dispatch(*request)
                answer = status, http.dump(reply), http.JSON
            status, content, ctype = answer
        self.journal.append(
            JournalEntry(**entry, status=status, fault=fault, at=arrived)
        )
        if self._outbox:
            await self._flush_webhooks()
        await self.omnichannel.flush()
        drop = fault is not None and (
            fault.kind == "drop" or (fault.kind == "lagging" and not fault.status_code)
        )
        await http.respond(
            send,
            status,
            content,
            ctype,
            retry_after=fault.retry_after if fault is not None else None,
            drop=drop,
            clock_skew=self.store.clock_skew,
        )
        if drop:
            raise ConnectionDropped(path)

    def _over_rate(self, headers: dict[str, str], now: float) -> Fault | None:
        """The 429 of the enforced rate for this request, if over it."""
        if self.rate is None:
            return None
        app = headers.get("qiscus-sdk-app-id") or headers.get("qiscus_sdk_app_id")
        return self.rate.refuse(app or "", now)

    async def _fault_answer(
        self, fault: Fault, request: _Request | None
    ) -> tuple[int, bytes, str] | None:
        """The answer of a fault that skips processing; ``None`` to process.

        A delay fault waits here, then lets the request be processed; a
        processed status fault processes it, then answers its status; a
        lagging fault answers now and processes it later. A download
        (*request* ``None``) has nothing to process.
        """
        if fault.kind == "lagging":
            if request is not None:
                self._process_later(fault.seconds, request)
            if not fault.status_code:
                return 200, _UNFINISHED, http.JSON
            return _status_answer(fault.status_code)
        if fault.kind == "status":
            if fault.processed and request is not None:
                self._dispatch(*request)
            return _status_answer(fault.status_code)
        if fault.kind == "malformed":
            return 200, *http.malformed(fault.body)
        if fault.kind == "delay":
            await anyio.sleep(fault.seconds)
        return None

    def _process_later(self, seconds: float, request: _Request) -> None:
        generation = self._generation

        async def later() -> None:
            await asyncio.sleep(seconds)
            if generation == self._generation:
                self._dispatch(*request)
                if self._outbox:
                    await self._flush_webhooks()

        task = asyncio.get_running_loop().create_task(later())
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    def _dispatch(
        self,
        dialect: str,
        method: str,
        endpoint: str,
        query: list[tuple[str, str]],
        body: bytes,
        headers: dict[str, str],
        origin: str,
    ) -> Reply:
        try:
            self._authenticate(headers)
            handler = _handler(dialect, method, endpoint)
            request = http.Request(
                query, http.decode_body(body, headers), self.app_id, origin=origin
            )
            reply = handler(self.store, request)
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

    async def _omnichannel_answer(
        self,
        found: tuple[str, _routes_omnichannel.Handler | None, dict[str, str]],
        query: list[tuple[str, str]],
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[int, bytes, str, Fault | None]:
        """An Omnichannel request's answer (``_routes_omnichannel``), faults first."""
        fault = pick(self.faults, found[0], OMNICHANNEL, self._rng)
        if fault is not None and fault.kind == "status" and fault.processed:
            # The write lands, then the error is answered (as for the Chat SDK).
            _routes_omnichannel.dispatch(self.omnichannel, found, query, body, headers)
        answer = await self._fault_answer(fault, None) if fault else None
        if answer is None:
            status, reply = _routes_omnichannel.dispatch(
                self.omnichannel, found, query, body, headers
            )
            answer = status, http.dump(reply), http.JSON
        return *answer, fault

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
        await self._deliver(outbox)

    async def _deliver(self, events: list[dict[str, Any]]) -> None:
        """POST each event, signed, to the webhook URL; record the answers."""
        if self._webhook is None or not events:
            return
        url, token, transport = self._webhook
        async with httpx.AsyncClient(transport=transport, timeout=10) as client:
            for event in events:
                body = json.dumps(event).encode()
                signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
                answer, error = "", ""
                try:
                    response = await client.post(
                        url,
                        content=body,
                        headers={
                            "content-type": "application/json",
                            "QISCUS-SDK-SIGNATURE": signature,
                        },
                    )
                    status, answer = response.status_code, response.text
                except httpx.HTTPError as exc:
                    status, error = 0, f"{type(exc).__name__}: {exc}"
                if not error and not 200 <= status < 300:  # noqa: PLR2004
                    error = f"unexpected status code {status}"
                self.webhook_deliveries.append(
                    WebhookDelivery(url, body, signature, status)
                )
                kind = "mobile" if event["type"] == "post_comment_mobile" else "rest"
                self.store.log_webhook(
                    kind,
                    url,
                    body,
                    response_code=status,
                    response_body=answer,
                    error_message=error,
                )


def _status_answer(code: int) -> tuple[int, bytes, str]:
    return code, http.dump(shapes.error(code, http.reason(code))), http.JSON


def _handler(dialect: str, method: str, endpoint: str) -> Handler:
    """The handler of (*method*, *endpoint*): a 405 for another verb, else 404."""
    handler = _ROUTES[dialect].get((method, endpoint))
    if handler is None:
        if endpoint in _ENDPOINTS[dialect]:
            raise Reject(405, "Method Not Allowed")
        raise Reject(404, "Not Found", f"no endpoint {endpoint}")
    return handler


def _check_dialects(dialects: Iterable[str]) -> frozenset[str]:
    found = frozenset([dialects] if isinstance(dialects, str) else dialects)
    if not found or not found <= set(DIALECTS):
        msg = f"dialects must be a non-empty subset of {DIALECTS}, got {sorted(found)}"
        raise ValueError(msg)
    return found
