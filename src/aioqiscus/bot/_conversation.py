"""Conversations: a step and JSON data per room and sender, between deliveries.

A conversation is keyed by app, bot, room and sender (hashed: no user id
or email in the store's keys). A handler holds it inside
``async with ctx.conversation() as conv:``; while it does, another delivery
of the same conversation waits for it, on this process (memory store) or
on any (Redis store). The state is written when the block exits normally,
with the bot's TTL; an exception leaves the stored state as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any, Protocol, cast, runtime_checkable

import anyio
import attrs

from ..errors import InvalidArgumentError

__all__ = [
    "CONVERSATION_TTL",
    "CONVERSATION_WAIT",
    "Conversation",
    "ConversationStore",
    "Conversations",
    "Session",
    "block",
]

logger = logging.getLogger("aioqiscus.bot")

#: How long a conversation is kept after its last save, by default (seconds).
CONVERSATION_TTL = 3600.0
#: How long a delivery waits for a conversation another one holds (seconds).
CONVERSATION_WAIT = 10.0


@runtime_checkable
class ConversationStore(Protocol):
    """Where a bot keeps conversation states, with one lock per conversation.

    :class:`~aioqiscus.bot.MemoryConversationStore` (the default) and
    :class:`~aioqiscus.bot.RedisConversationStore` implement it. A store
    bounds its own calls: the bot shields :meth:`release` from cancellation
    so that a cancelled handler still unlocks its conversation.
    """

    async def acquire(self, key: str, wait: float) -> tuple[str, str | None]:
        """Lock *key*, waiting *wait* seconds at most.

        Returns:
            The lock's owner token, and the stored state (JSON) or ``None``.

        Raises:
            ConversationBusyError: Another owner held it for *wait* seconds.
        """
        ...

    async def release(
        self, key: str, token: str, state: str | None, ttl: float
    ) -> None:
        """Store *state* (``None`` deletes it) for *ttl* seconds, then unlock.

        Raises:
            ConversationLockLostError: *token* no longer owns the lock; the
                state was not stored.
        """
        ...


@attrs.define
class Conversation:
    """A conversation's state, read and written by handlers.

    Attributes:
        step: Where the conversation is (``None``: not in one); listeners
            registered with ``step=`` match on it.
        data: Anything JSON can hold (str keys; str, int, float, bool,
            None, lists and dicts of them), checked when saved.
    """

    step: str | None = None
    data: dict[str, Any] = attrs.Factory(dict)

    def end(self) -> None:
        """Forget the step and the data; the stored state is deleted on save."""
        self.step = None
        self.data = {}


def encode(conversation: Conversation) -> str | None:
    """*conversation* as stored: JSON, or ``None`` when there is nothing to keep.

    Raises:
        InvalidArgumentError: The step is not a str or None, or the data is
            not a dict that JSON can hold (nothing is saved).
    """
    step, data = conversation.step, cast("object", conversation.data)
    if not isinstance(cast("object", step), str | None):
        msg = f"conversation step must be a str or None, got {type(step).__name__}"
        raise InvalidArgumentError(msg)
    if not isinstance(data, dict):
        msg = f"conversation data must be a dict, got {type(data).__name__}"
        raise InvalidArgumentError(msg)
    if step is None and not data:
        return None
    try:
        return json.dumps(
            {"step": step, "data": data},
            allow_nan=False,
            ensure_ascii=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError) as exc:
        msg = f"conversation data must be JSON-serialisable: {exc}"
        raise InvalidArgumentError(msg) from exc


def decode(state: str | None) -> Conversation:
    """The conversation stored as *state*; a fresh one for ``None`` or junk."""
    if state is None:
        return Conversation()
    try:
        loaded = json.loads(state)
        step, data = loaded["step"], loaded["data"]
    except (ValueError, TypeError, KeyError):
        loaded = step = data = None
    if not isinstance(step, str | None) or not isinstance(data, dict):
        # Not the state itself: it holds what users said.
        logger.warning("unreadable conversation state (%d chars) dropped", len(state))
        return Conversation()
    return Conversation(step, data)


@attrs.define(eq=False)
class Session:
    """A conversation held by one delivery. Strictly private.

    *saved* is what release will store: the state as loaded, then as of the
    last block that exited normally.
    """

    key: str
    token: str
    conversation: Conversation
    saved: str | None


@contextlib.contextmanager
def block(session: Session) -> Iterator[Conversation]:
    """One ``async with ctx.conversation()`` block: commit on a normal exit.

    An exception puts the conversation back as last committed.
    """
    try:
        yield session.conversation
    except BaseException:
        session.conversation = decode(session.saved)
        raise
    session.saved = encode(session.conversation)


@attrs.frozen
class Conversations:
    """A bot's conversation store, TTL, wait and keys. Strictly private."""

    store: ConversationStore
    ttl: float
    wait: float
    #: The app id and the bot's user id: part of every key.
    scope: tuple[str, str]

    def key(self, room_id: str, sender_id: str) -> str:
        """The store key of the conversation of *sender_id* in *room_id*."""
        canonical = json.dumps([*self.scope, room_id, sender_id], ensure_ascii=False)
        return "aioqiscus:conv:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]

    async def open(self, key: str) -> Session:
        """Lock and load the conversation *key*."""
        token, state = await self.store.acquire(key, self.wait)
        return Session(key, token, decode(state), state)

    async def close(self, session: Session) -> None:
        """Store what the session committed and unlock, even when cancelled."""
        with anyio.CancelScope(shield=True):
            await self.store.release(
                session.key, session.token, session.saved, self.ttl
            )
