"""Stores for bots: where deliveries and conversations are remembered.

The memory stores (the defaults) serve one process; the Redis stores
(``pip install 'aioqiscus[redis]'``) are shared by every process of a bot
and outlive redeploys. The bot owns the protocols they implement
(:class:`~aioqiscus.bot.DedupeStore`,
:class:`~aioqiscus.bot.ConversationStore`); import the stores from
:mod:`aioqiscus.bot`. Nothing here imports redis until a Redis store is
made from a URL.
"""

from __future__ import annotations

from ._errors import (
    ConversationBusyError,
    ConversationLockLostError,
    StoreError,
    StoreUnavailableError,
)
from ._memory import MemoryConversationStore, MemoryDedupeStore
from ._redis import RedisConversationStore, RedisDedupeStore

__all__ = [
    "ConversationBusyError",
    "ConversationLockLostError",
    "MemoryConversationStore",
    "MemoryDedupeStore",
    "RedisConversationStore",
    "RedisDedupeStore",
    "StoreError",
    "StoreUnavailableError",
]
