"""Parse and verify the webhook deliveries Qiscus sends for new comments.

A delivery is a ``POST`` with a JSON body (``qiscus-rest-v2.md`` and
``v2.1/webhook.md``, "On Post Message") and the header
``QISCUS-SDK-SIGNATURE``: the hex HMAC-SHA256 of the raw body keyed with the
signature token from the dashboard. Verify first, then parse::

    body = await request.body()
    signature = request.headers.get(webhooks.SIGNATURE_HEADER)
    if not webhooks.verify_signature(body, signature, token):
        return Response(status_code=401)
    event = webhooks.parse(body)
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import attrs

from ._envelope import items, loads
from .dialects import (
    assembler,
    identifier,
    optional_int,
    optional_str,
    payload_from_wire,
    room_options,
    room_type,
    strict_str,
    timestamp,
)
from .errors import QiscusError
from .models import Comment, Room, RoomType, User

__all__ = [
    "EVENT_TYPES",
    "MAX_BODY",
    "SIGNATURE_HEADER",
    "WebhookError",
    "WebhookEvent",
    "decode",
    "parse",
    "sign",
    "verify_signature",
]

#: The header carrying the signature.
SIGNATURE_HEADER = "QISCUS-SDK-SIGNATURE"
#: Deliveries larger than this are refused unread.
MAX_BODY = 1024 * 1024
#: ``post_comment_mobile`` (from an SDK client), ``post_comment_rest`` (from
#: the REST API) and the early documents' ``post_comment``.
EVENT_TYPES = frozenset({"post_comment_mobile", "post_comment_rest", "post_comment"})


class WebhookError(QiscusError, ValueError):
    """A delivery that is too large, not JSON, of an unknown type or malformed."""


@attrs.frozen
class WebhookEvent:
    """A new comment, as delivered by a webhook.

    Attributes:
        type: One of :data:`EVENT_TYPES`.
        sender: The author (``from``).
        room: The room; ``participants`` is empty when the delivery omits
            them (deprecated upstream, absent for channels).
        comment: The comment, with a typed payload. The documented delivery
            carries no comment id, ``unique_temp_id`` or time; real ones do,
            and they are read when present (else ``None``).
    """

    type: str
    sender: User
    room: Room
    comment: Comment

    @property
    def from_rest_api(self) -> bool:
        """Whether the comment was posted through the REST API (by a bot)."""
        return self.type == "post_comment_rest"


_new_event = assembler(WebhookEvent)


def sign(body: bytes, token: str) -> str:
    """The signature Qiscus sends for *body*: hex HMAC-SHA256 keyed by *token*."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, token: str) -> bool:
    """Whether *signature* is Qiscus's signature of *body* (constant time).

    Args:
        body: The raw request body, exactly as received.
        signature: The ``QISCUS-SDK-SIGNATURE`` header (``None`` if absent).
        token: The signature token from the dashboard.
    """
    # Handlers pass whatever the framework hands them: check, never assume.
    given: object = signature
    key: object = token
    if (
        not isinstance(key, str)
        or not key
        or not isinstance(given, str)
        or not isinstance(body, bytes | bytearray)
    ):
        return False
    given = given.strip().lower()
    # compare_digest refuses non-ASCII str with TypeError: a forged header
    # must read as "not signed" (401), never crash the handler (500).
    if not given.isascii():
        return False
    expected = sign(bytes(body), key)
    return hmac.compare_digest(expected, given)


# Deliveries are the bot's hot path: models are put together by assemblers
# (every field, in order) and each field takes the value as is when it
# already has its type, the common case; otherwise it goes through the same
# hook as before, which converts it or raises. What comes out, and what is
# refused, is what the hooks alone give.
_new_user = assembler(User)
_new_room = assembler(Room)
_new_comment = assembler(Comment)
_ROOM_TYPES = {kind.value: kind for kind in RoomType}


def _user(data: Any) -> User:
    get = data.get
    who = get("email") or get("user_id")
    if type(who) is not str or not who:
        who = identifier(who)
    name = get("name") or get("username")
    if type(name) is not str:
        name = strict_str(name)
    avatar = get("avatar_url")
    if type(avatar) is not str or not avatar:
        avatar = optional_str(avatar)
    internal_id = get("id")
    if internal_id is not None and type(internal_id) is not int:
        internal_id = optional_int(internal_id)
    # id, name, avatar_url, extras, internal_id, then seven unset fields.
    return _new_user(
        who, name, avatar, {}, internal_id, None, None, None, None, None, None, None
    )


def _posted_at(message: Any) -> datetime | None:
    """``timestamp`` (ISO 8601), else ``unix_timestamp`` (seconds), else None."""
    moment = timestamp(message.get("timestamp"))
    if moment is None:
        seconds = optional_int(message.get("unix_timestamp"))
        # 0 and Go's zero time (negative) say "no time", as timestamp() reads.
        if seconds is not None and seconds > 0:
            moment = datetime.fromtimestamp(seconds, UTC)
    return moment


def _event(data: Any) -> WebhookEvent:
    kind = data["type"]
    payload = data["payload"]
    sender = _user(payload["from"])
    room_data = payload["room"]
    participants = room_data.get("participants")
    if type(participants) is not list:
        participants = items(participants, "participants")
    room_id = room_data["id"]
    if type(room_id) is not str or not room_id:
        room_id = identifier(room_id)
    room_name = room_data.get("name")
    if type(room_name) is not str:
        room_name = strict_str(room_name)
    wire_type = room_data["type"]
    kind_of_room = _ROOM_TYPES.get(wire_type) if type(wire_type) is str else None
    if kind_of_room is None:
        kind_of_room = room_type(wire_type)
    # Omnichannel deliveries carry the room's options (a JSON string).
    options = room_data.get("options")
    options = {} if options is None else room_options(options)
    # id, name, type, avatar_url, options, channel_id, participants, then
    # seven unset fields.
    room = _new_room(
        room_id,
        room_name,
        kind_of_room,
        None,
        options,
        None,
        tuple([_user(p) for p in participants]),
        None,
        None,
        None,
        None,
        None,
        (),
        None,
    )
    message = payload["message"]
    get = message.get
    comment_type = get("type")
    if type(comment_type) is not str:
        comment_type = strict_str(comment_type)
    comment_type = comment_type or "text"
    comment_id = get("id")
    if comment_id is not None and type(comment_id) is not int:
        comment_id = optional_int(comment_id)
    text = get("text")
    if type(text) is not str:
        text = strict_str(text)
    typed_payload = payload_from_wire(comment_type, get("payload"))
    temp_id = get("unique_temp_id")
    if type(temp_id) is not str or not temp_id:
        temp_id = optional_str(temp_id)
    # id, room_id, sender, message, type, payload, timestamp,
    # unique_temp_id, extras, comment_before_id, disable_link_preview,
    # room_name, room_type.
    comment = _new_comment(
        comment_id,
        room_id,
        sender,
        text,
        comment_type,
        typed_payload,
        _posted_at(message),
        temp_id,
        {},
        None,
        False,  # noqa: FBT003 - a positional field value
        None,
        None,
    )
    return _new_event(kind, sender, room, comment)


def decode(body: bytes | str) -> dict[str, Any]:
    """A delivery's body as a JSON object, within :data:`MAX_BODY`.

    Raises:
        WebhookError: The body is over :data:`MAX_BODY`, not JSON, or not
            a JSON object.
    """
    given: object = body
    if isinstance(given, str):
        raw = given.encode("utf-8", "surrogatepass")
    elif isinstance(given, bytes | bytearray | memoryview):
        raw = bytes(given)
    else:
        msg = f"webhook body must be bytes or str, got {type(given).__name__}"
        raise WebhookError(msg)
    if len(raw) > MAX_BODY:
        msg = f"webhook body of {len(raw)} bytes is over the {MAX_BODY} byte limit"
        raise WebhookError(msg)
    try:
        data = loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        msg = "webhook body is not JSON"
        raise WebhookError(msg) from exc
    if not isinstance(data, dict):
        msg = "webhook body is not a JSON object"
        raise WebhookError(msg)
    return data


def parse(body: bytes | str) -> WebhookEvent:
    """Parse a delivery's body.

    Raises:
        WebhookError: The body is over :data:`MAX_BODY`, not JSON, of an
            unknown ``type``, or lacks documented fields; it is the only
            exception this function raises.
    """
    data = decode(body)
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        msg = f"unknown webhook type {kind!r}; expected one of {sorted(EVENT_TYPES)}"
        raise WebhookError(msg)
    try:
        return _event(data)
    except Exception as exc:  # any failure of _event means a malformed body
        # KeyError, TypeError, AttributeError, and ValueError too: int("²")
        # raises it though "²".isdigit() is true.
        msg = f"malformed {kind} webhook: {type(exc).__name__}: {exc}"
        raise WebhookError(msg[:500]) from exc
