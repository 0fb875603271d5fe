"""Stores in this process's memory: the defaults, for one process.

They forget everything when the process exits and are not seen by other
processes; use the Redis stores when several workers serve one webhook URL
or state must outlive a redeploy.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

import anyio
import attrs

from .._validate import check_page_size
from ._errors import ConversationLockLostError, busy

__all__ = ["MemoryConversationStore", "MemoryDedupeStore"]


class _Expiring:
    """Keys with an expiry, oldest first, bounded in number. Strictly private."""

    def __init__(self, max_keys: int, clock: Callable[[], float]) -> None:
        self.max_keys = check_page_size(max_keys, "max_keys")
        self.clock = clock
        self.items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def get(self, key: str) -> str | None:
        found = self.items.get(key)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, key: str, value: str, ttl: float) -> None:
        now = self.clock()
        self.items.pop(key, None)
        self.items[key] = (now + ttl, value)
        # Oldest first: drop what has expired at the front, then whatever
        # exceeds the bound (keys of mixed ttl expire out of order; the size
        # bound catches the rest).
        while self.items:
            oldest, (until, _) = next(iter(self.items.items()))
            if until > now and len(self.items) <= self.max_keys:
                break
            del self.items[oldest]


class MemoryDedupeStore:
    """A dedupe store in this process's memory, bounded in size.

    It forgets everything when the process exits, and its oldest keys when it
    holds *max_keys*. Use :class:`RedisDedupeStore
    <aioqiscus.bot.RedisDedupeStore>` when several processes serve one
    webhook URL or a redelivery may come after a restart.

    Args:
        max_keys: How many keys to keep at most.
        clock: Seconds from any origin; ``time.monotonic`` by default.
    """

    def __init__(
        self, max_keys: int = 100_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keys = _Expiring(max_keys, clock)

    def __len__(self) -> int:
        return len(self._keys.items)

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(keys={len(self)}, max_keys={self._keys.max_keys})"

    async def claim(self, key: str, ttl: float) -> bool:
        """Record *key* for *ttl* seconds; ``False`` if it was recorded already."""
        if self._keys.get(key) is not None:
            return False
        self._keys.put(key, "1", ttl)
        return True


@attrs.define
class _Slot:
    lock: anyio.Lock
    users: int = 0


class MemoryConversationStore:
    """Conversation states in this process's memory, with one lock per key.

    The default store of a :class:`~aioqiscus.bot.Bot`. Deliveries of one
    conversation queue on an anyio lock; states expire after the bot's TTL
    and the oldest are dropped past *max_keys*.

    Args:
        max_keys: How many conversations to keep at most.
        clock: Seconds from any origin; ``time.monotonic`` by default.
    """

    def __init__(
        self, max_keys: int = 100_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._states = _Expiring(max_keys, clock)
        self._slots: dict[str, _Slot] = {}
        self._owners: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._states.items)

    def __repr__(self) -> str:
        return (
            f"MemoryConversationStore(conversations={len(self)}, "
            f"held={len(self._owners)})"
        )

    async def acquire(self, key: str, wait: float) -> tuple[str, str | None]:
        """Lock *key*, waiting *wait* seconds at most; its token and state.

        Raises:
            ConversationBusyError: The lock stayed held for *wait* seconds.
        """
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(anyio.Lock())
        slot.users += 1
        acquired = False
        try:
            with anyio.move_on_after(wait):
                await slot.lock.acquire()
                acquired = True
        finally:
            slot.users -= 1
            if not acquired:
                self._forget(key, slot)
        if not acquired:
            raise busy(wait)
        token = secrets.token_hex(8)
        self._owners[key] = token
        return token, self._states.get(key)

    async def release(
        self, key: str, token: str, state: str | None, ttl: float
    ) -> None:
        """Store *state* (``None`` deletes it) for *ttl* seconds and unlock *key*.

        Raises:
            ConversationLockLostError: *token* does not hold *key*.
        """
        if self._owners.get(key) != token:
            msg = "conversation lock not held by this token: state not saved"
            raise ConversationLockLostError(msg)
        if state is None:
            self._states.items.pop(key, None)
        else:
            self._states.put(key, state, ttl)
        del self._owners[key]
        slot = self._slots[key]
        slot.lock.release()
        self._forget(key, slot)

    def _forget(self, key: str, slot: _Slot) -> None:
        if not slot.users and not slot.lock.locked():
            del self._slots[key]
