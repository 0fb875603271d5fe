"""Hand-over: a bot steps aside for a human agent until the room is resolved.

Strictly private; users reach it as ``Bot(..., omnichannel=...)`` and
``await ctx.handover(...)`` (:mod:`aioqiscus.bot`), or build a
:class:`Handover` to share settings. Handing a room over tells the customer
(optionally), switches the bot off in the room (``set_bot_active``),
assigns an agent (the one named, else the least loaded available one, of
some divisions if given) and remembers the room as handed over in a store
(memory, or Redis for several processes) so that the bot's listeners stop
receiving it; the mark-as-resolved webhook hands the room back (and, by
default, switches the bot on again).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import anyio

from ..bot import MemoryConversationStore
from ..errors import QiscusError
from ._allocation import Allocation, Allocator
from ._client import OmnichannelClient
from .webhooks import (
    AgentAllocationNeeded,
    BotMessage,
    HookGuard,
    RoomResolved,
    WebhookError,
    parse,
)

if TYPE_CHECKING:
    from ..bot import ConversationStore
    from ..webhooks import WebhookEvent

__all__ = ["Handover"]

logger = logging.getLogger("aioqiscus.omnichannel")

#: How long a handed-over mark lasts without a resolve (30 days).
HANDOVER_TTL = 30 * 24 * 3600.0
_HANDED_OVER = '"agent"'


class Handover:
    """Hand rooms from the bot to human agents, and take them back on resolve.

    Args:
        omni: The Omnichannel client.
        store: Where handed-over rooms are remembered (a
            :class:`~aioqiscus.bot.ConversationStore`: memory by default,
            :class:`~aioqiscus.bot.RedisConversationStore` for several
            processes).
        allocator: Picks and assigns the agent when none is named; by
            default the least loaded available agent, with no quota.
        guard: Checks the URL token of the (unsigned) Omnichannel webhooks
            the bot receives; without one they are refused (401).
        resume_on_resolve: Switch the bot back on in a room when the
            mark-as-resolved webhook arrives (the room is handed back to
            the bot's listeners either way).
        ttl: Seconds a room stays handed over without a resolve.
    """

    def __init__(
        self,
        omni: OmnichannelClient,
        *,
        store: ConversationStore | None = None,
        allocator: Allocator | None = None,
        guard: HookGuard | None = None,
        resume_on_resolve: bool = True,
        ttl: float = HANDOVER_TTL,
    ) -> None:
        self.omni = omni
        self.store = store if store is not None else MemoryConversationStore()
        self.allocator = allocator
        self.guard = guard
        self.resume_on_resolve = resume_on_resolve
        self.ttl = ttl
        self._prefix = f"aioqiscus:omnichannel:handover:{omni.app_code}:"

    def __repr__(self) -> str:
        return f"Handover(app_code={self.omni.app_code!r})"

    # ------------------------------------------------------------ state

    async def _set(self, room_id: str, state: str | None) -> None:
        key = self._prefix + room_id
        token, _ = await self.store.acquire(key, 10.0)
        with anyio.CancelScope(shield=True):
            await self.store.release(key, token, state, self.ttl)

    async def handed_over(self, room_id: str) -> bool:
        """Whether room *room_id* is with a human agent."""
        key = self._prefix + room_id
        token, state = await self.store.acquire(key, 10.0)
        with anyio.CancelScope(shield=True):
            await self.store.release(key, token, state, self.ttl)
        return state is not None

    # ------------------------------------------------------------ hand over

    async def hand_over(
        self,
        room_id: str,
        *,
        agent_id: str | None = None,
        division_ids: Sequence[str] | None = None,
        message: str | None = None,
    ) -> Allocation:
        """Hand room *room_id* to a human agent.

        Posts *message* to the customer (as the bot, if given), switches the
        bot off in the room, assigns *agent_id* (else the least loaded
        available agent, of *division_ids* if given), and stops the bot's
        listeners from receiving the room until it is resolved.

        Returns:
            The :class:`~aioqiscus.omnichannel.Allocation` (``agent`` is
            ``None`` when no agent could be assigned: the room then waits in
            Omnichannel's queue, still handed over).

        Raises:
            QiscusError: Posting the message or switching the bot off failed
                (nothing is marked).
        """
        if message:
            await self.omni.send_bot_message(room_id, message)
        await self.omni.set_bot_active(room_id, active=False)
        await self._set(room_id, _HANDED_OVER)
        if agent_id is not None:
            try:
                done = await self.omni.assign_agent(room_id, agent_id)
            except QiscusError as exc:
                logger.warning("hand-over of room %s: %s", room_id, exc)
                return Allocation(room_id, None, 1, exc)
            return Allocation(room_id, done.agent, 1)
        allocator = self.allocator or Allocator(
            self.omni, max_customers=sys.maxsize, division_ids=division_ids
        )
        return await allocator.allocate(AgentAllocationNeeded(room_id=room_id))

    async def hand_back(self, room_id: str, *, bot_active: bool = True) -> None:
        """Give room *room_id* back to the bot (and switch it on, by default)."""
        await self._set(room_id, None)
        if bot_active:
            await self.omni.set_bot_active(room_id, active=True)

    # ------------------------------------------------------------ the bot

    async def middleware(
        self, ctx: Any, call_next: Callable[[Any], Awaitable[None]]
    ) -> None:
        """A bot middleware: deliveries of a handed-over room reach no listener."""
        if await self.handed_over(ctx.room_id):
            logger.debug("room %s is with an agent: not handled", ctx.room_id)
            return
        await call_next(ctx)

    async def receive(
        self,
        body: bytes,
        url_token: str | None,
        client_host: str | None,
        dispatch: Callable[[WebhookEvent, bytes], Awaitable[HTTPStatus]],
    ) -> HTTPStatus:
        """Take an unsigned Omnichannel delivery the bot received.

        A bot message goes to *dispatch* (the bot's own routing) unless its
        room is handed over; a resolve hands the room back; an allocation
        goes to the allocator, if there is one. Every answer is an HTTP
        status, as the bot's.
        """
        if self.guard is None or not self.guard.allows(url_token, client_host):
            return HTTPStatus.UNAUTHORIZED
        try:
            event = parse(body)
        except WebhookError as exc:
            logger.warning("refused an Omnichannel delivery: %s", exc)
            return HTTPStatus.BAD_REQUEST
        if isinstance(event, BotMessage):
            if await self.handed_over(event.room.id):
                return HTTPStatus.OK
            return await dispatch(event.event, body)
        return await self._on_hook(event)

    async def _on_hook(self, event: object) -> HTTPStatus:
        """A resolve hands the room back; an allocation goes to the allocator."""
        if isinstance(event, RoomResolved) and event.room_id is not None:
            try:
                await self.hand_back(event.room_id, bot_active=self.resume_on_resolve)
            except QiscusError as exc:
                logger.warning("hand-back of room %s failed: %s", event.room_id, exc)
                return HTTPStatus.SERVICE_UNAVAILABLE
        elif isinstance(event, AgentAllocationNeeded) and self.allocator is not None:
            result = await self.allocator.allocate(event)
            if not result.ok:
                return HTTPStatus.SERVICE_UNAVAILABLE
        return HTTPStatus.OK
