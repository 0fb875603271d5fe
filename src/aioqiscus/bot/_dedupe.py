"""Redelivery detection: the key a delivery is known by, and where keys live.

Qiscus sends no delivery id and documents no retry policy
(``v2.1/webhook.md``), and the documented delivery carries no comment id
either. A delivery is therefore known by the first of:

1. the comment id, when the delivery carries one (real servers, and the
   fake of :mod:`aioqiscus.testing`, add ``id`` to ``message``; the
   documents do not show it);
2. the comment's ``unique_temp_id``, with room and sender (client-made, so
   only unique per sender);
3. a hash of the comment as delivered (room, sender and the raw
   ``message`` object), kept only :data:`CONTENT_KEY_TTL` seconds: two
   identical comments from one sender in one room within that window cannot
   be told from a redelivery, and the second is dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol, runtime_checkable

import attrs

from ..stores import MemoryDedupeStore
from ..webhooks import WebhookEvent

__all__ = [
    "CONTENT_KEY_TTL",
    "ID_KEY_TTL",
    "DedupeStore",
    "DeliveryKey",
    "MemoryDedupeStore",
    "delivery_key",
]

#: How long a delivery known by its comment id or unique_temp_id is remembered.
ID_KEY_TTL = 24 * 3600.0
#: How long a delivery known only by its content is remembered. Short, because
#: a user may well send the same text twice.
CONTENT_KEY_TTL = 120.0


@runtime_checkable
class DedupeStore(Protocol):
    """Where a bot remembers the deliveries it has accepted.

    One method, atomic per key: Redis ``SET key 1 NX EX ttl`` is a complete
    implementation (:class:`~aioqiscus.bot.RedisDedupeStore`). Share one
    store between processes that serve the same webhook URL.
    """

    async def claim(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds.

        Returns:
            ``True`` if *key* was not recorded (the caller handles the
            delivery), ``False`` if it already was (a redelivery).
        """
        ...


@attrs.frozen
class DeliveryKey:
    """How a delivery is known: a hex digest and how long to remember it."""

    digest: str
    ttl: float

    @property
    def store_key(self) -> str:
        """The key given to the :class:`DedupeStore`."""
        return f"aioqiscus:bot:{self.digest}"


# How the encoder below writes a str (ensure_ascii=False).
_string = json.encoder.encode_basestring
# One encoder for every key: json.dumps with options builds one per call.
_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode


def _raw_message(body: bytes) -> Any:
    """The ``message`` object of a delivery that :func:`webhooks.parse` accepted."""
    try:
        return json.loads(body)["payload"]["message"]
    except (ValueError, KeyError, TypeError):  # pragma: no cover - parse passed
        return body.decode("utf-8", "replace")


def delivery_key(bot_id: str, event: WebhookEvent, body: bytes) -> DeliveryKey:
    """The redelivery key of *event* (delivered as *body*) for the bot *bot_id*.

    The bot's id is part of the key so that bots sharing a store, and their
    reply markers, never collide.
    """
    comment = event.comment
    room_id, sender_id = event.room.id, event.sender.id
    canonical: str | None = None
    if comment.id is not None:
        if type(comment.id) is int and type(room_id) is str and type(bot_id) is str:
            # What the encoder writes for [bot_id, "id", room_id, comment.id],
            # written out: the common key, made on every delivery.
            bot, room = _string(bot_id), _string(room_id)
            canonical = f'[{bot},"id",{room},{int.__repr__(comment.id)}]'
        parts: list[Any] = ["id", room_id, comment.id]
        ttl = ID_KEY_TTL
    elif comment.unique_temp_id:
        parts = ["unique_temp_id", room_id, sender_id, comment.unique_temp_id]
        ttl = ID_KEY_TTL
    else:
        parts = ["content", room_id, sender_id, _raw_message(body)]
        ttl = CONTENT_KEY_TTL
    if canonical is None:
        canonical = _canonical([bot_id, *parts])
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return DeliveryKey(digest, ttl)
