"""Custom agent allocation that holds under load: one allocation per app at a time.

Strictly private; users import :class:`Allocator` from
:mod:`aioqiscus.omnichannel`. Qiscus calls the custom agent allocation
webhook (``omnichannel.md`` 4.2) for every customer message in a room without
an agent, and integrators who pick the agent themselves all met the same
race: twenty webhooks at once read the same agent counts, pick the same
least-loaded agent, and put it far above its quota. The :class:`Allocator`
holds one lock per app (a bot conversation store's lock: in memory, or in
Redis for several processes) from reading the counts until the assignment is
answered, so each allocation sees the ones before it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio
import attrs

from ..bot import MemoryConversationStore
from ..errors import (
    AmbiguousSendError,
    APIError,
    InvalidArgumentError,
    QiscusError,
    TransportError,
)
from ._client import OmnichannelClient
from .models import Agent
from .webhooks import AgentAllocationNeeded, HookGuard, WebhookError, parse

if TYPE_CHECKING:
    from ..bot import ConversationStore

__all__ = [
    "Allocation",
    "Allocator",
    "NoAgentAvailableError",
    "Policy",
    "least_loaded",
]

logger = logging.getLogger("aioqiscus.omnichannel")

#: Picks the agent for a room among the eligible ones (``None``: nobody).
Policy = Callable[[Sequence[Agent], AgentAllocationNeeded], Agent | None]


def least_loaded(agents: Sequence[Agent], event: AgentAllocationNeeded) -> Agent | None:  # noqa: ARG001 - the policy signature
    """The agent serving the fewest customers (the first listed on a tie)."""
    if not agents:
        return None
    return min(agents, key=lambda a: a.current_customer_count or 0)


@attrs.frozen
class Allocation:
    """What an allocation did.

    Attributes:
        room_id: The room.
        agent: The agent assigned, or ``None`` when none was.
        attempts: Assignments tried (a refused one is retried with the next
            best agent).
        error: Why no agent was assigned (``None`` on success): no eligible
            agent, every attempt refused, the lock not obtained, or a send
            whose fate is unknown (:class:`~aioqiscus.errors.AmbiguousSendError`:
            never retried, it may have landed).
    """

    room_id: str
    agent: Agent | None
    attempts: int = 0
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether an agent was assigned."""
        return self.agent is not None


class NoAgentAvailableError(QiscusError):
    """Every agent is unavailable or at its quota."""


class Allocator:
    """Assign an agent when Omnichannel asks (the custom agent allocation hook).

    Args:
        omni: The client that lists and assigns agents.
        max_customers: The quota: an agent serving this many customers gets
            no more (Omnichannel exposes no per-agent limit, so you say it).
        policy: Picks among the eligible agents; :func:`least_loaded` by
            default.
        division_ids: Only agents of these divisions
            (``iter_agents_by_division``); every agent by default.
        lock: Where the per-app lock lives: a
            :class:`~aioqiscus.bot.ConversationStore`, such as
            :class:`~aioqiscus.bot.RedisConversationStore` when several
            processes allocate; in this process's memory by default.
        lock_wait: Seconds to wait for the lock before giving up (reported).
        attempts: Assignments tried per allocation: a refused one (the agent
            went offline, the server's own limit) is retried with the next
            best agent.
        on_failure: Called with each :class:`Allocation` that assigned no
            agent (also logged as a warning), so none is silently dropped.
        guard: Checks each delivery's URL token in :attr:`asgi` (the hook
            is unsigned; see :mod:`aioqiscus.omnichannel.webhooks`).

    Use :meth:`allocate` with a parsed webhook, :meth:`handle` with a body,
    or mount :attr:`asgi` at the URL registered for the webhook.
    """

    def __init__(
        self,
        omni: OmnichannelClient,
        *,
        max_customers: int,
        policy: Policy = least_loaded,
        division_ids: Sequence[str] | None = None,
        lock: ConversationStore | None = None,
        lock_wait: float = 30.0,
        attempts: int = 3,
        on_failure: Callable[[Allocation], Awaitable[None] | None] | None = None,
        guard: HookGuard | None = None,
    ) -> None:
        if max_customers < 1:
            msg = f"max_customers must be >= 1, got {max_customers!r}"
            raise InvalidArgumentError(msg)
        if attempts < 1:
            msg = f"attempts must be >= 1, got {attempts!r}"
            raise InvalidArgumentError(msg)
        if lock_wait <= 0:
            msg = f"lock_wait must be > 0 seconds, got {lock_wait!r}"
            raise InvalidArgumentError(msg)
        self.omni = omni
        self.max_customers = max_customers
        self.policy = policy
        self.division_ids = list(division_ids) if division_ids is not None else None
        self.lock = lock if lock is not None else MemoryConversationStore()
        self.lock_wait = lock_wait
        self.attempts = attempts
        self.on_failure = on_failure
        self.guard = guard
        self._key = f"aioqiscus:omnichannel:allocate:{omni.app_code}"

    async def handle(self, body: bytes | str) -> Allocation:
        """Parse a delivery and allocate its room.

        Raises:
            WebhookError: The body is not an allocation webhook.
        """
        event = parse(body)
        if not isinstance(event, AgentAllocationNeeded):
            msg = f"not an agent allocation webhook: {type(event).__name__}"
            raise WebhookError(msg)
        return await self.allocate(event)

    async def allocate(self, event: AgentAllocationNeeded) -> Allocation:
        """Assign an agent to *event*'s room, one allocation per app at a time.

        Never raises for a failed allocation: the :class:`Allocation` says
        why, and ``on_failure`` hears of it.
        """
        try:
            token, _state = await self.lock.acquire(self._key, self.lock_wait)
        except Exception as exc:  # noqa: BLE001 - any store failure is reported
            return await self._failed(Allocation(event.room_id, None, 0, exc))
        try:
            result = await self._assign(event)
        finally:
            # A cancelled allocation still unlocks the app.
            with anyio.CancelScope(shield=True):
                await self._release(token)
        if not result.ok:
            await self._failed(result)
        return result

    async def _release(self, token: str) -> None:
        try:
            await self.lock.release(self._key, token, None, self.lock_wait)
        except Exception:  # a lost lock must not undo a finished assignment
            logger.warning("the allocation lock was lost before release", exc_info=True)

    async def _eligible(self) -> list[Agent]:
        if self.division_ids is not None:
            listing = self.omni.iter_agents_by_division(
                self.division_ids, available=True, page_size=100
            )
        else:
            listing = self.omni.iter_agents(page_size=100)
        return [
            a
            async for a in listing
            if a.is_available
            and not a.force_offline
            and (a.current_customer_count or 0) < self.max_customers
        ]

    async def _assign(self, event: AgentAllocationNeeded) -> Allocation:
        tried = 0
        refused: set[str] = set()
        error: Exception | None = None
        while tried < self.attempts:
            try:
                agents = [a for a in await self._eligible() if a.id not in refused]
            except QiscusError as exc:
                return Allocation(event.room_id, None, tried, exc)
            agent = self.policy(agents, event)
            if agent is None:
                error = error or NoAgentAvailableError(
                    f"no agent is available below {self.max_customers} customers"
                )
                break
            tried += 1
            try:
                await self.omni.assign_agent(event.room_id, agent.id)
            except AmbiguousSendError as exc:
                # It may have landed: another attempt could assign twice.
                return Allocation(event.room_id, None, tried, exc)
            except (APIError, TransportError) as exc:
                refused.add(agent.id)
                error = exc
                continue
            return Allocation(event.room_id, agent, tried)
        return Allocation(event.room_id, None, tried, error)

    async def _failed(self, result: Allocation) -> Allocation:
        logger.warning(
            "agent allocation failed for room %s after %d attempts: %s",
            result.room_id,
            result.attempts,
            result.error,
        )
        if self.on_failure is not None:
            outcome = self.on_failure(result)
            if outcome is not None:
                await outcome
        return result

    @property
    def asgi(self) -> Callable[[Any, Any, Any], Awaitable[None]]:
        """An ASGI app for the allocation webhook's URL.

        Answers 401 when :attr:`guard` refuses the URL token or source, 400
        for a body that is not an allocation webhook, 200 with
        ``{"agent_id": ...}`` once assigned, 503 when no agent was.
        """
        return _AllocatorApp(self)


class _AllocatorApp:
    """The ASGI face of an :class:`Allocator`. Strictly private."""

    def __init__(self, allocator: Allocator) -> None:
        self.allocator = allocator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body") or len(body) > _MAX_BODY:
                break
        guard = self.allocator.guard
        client = scope.get("client")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        if guard is not None and not guard.allows_url_query(
            query, client[0] if client else None
        ):
            await _answer(send, 401, b'{"error": "unauthorized"}')
            return
        try:
            result = await self.allocator.handle(body)
        except WebhookError:
            await _answer(send, 400, b'{"error": "not an allocation webhook"}')
            return
        if result.agent is None:
            await _answer(send, 503, b'{"error": "no agent assigned"}')
            return
        await _answer(send, 200, b'{"agent_id": "%s"}' % result.agent.id.encode())


_MAX_BODY = 1024 * 1024


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
