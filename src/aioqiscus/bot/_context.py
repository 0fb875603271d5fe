"""Context: what a handler gets, and how its replies are sent exactly once.

Every reply carries a ``unique_temp_id`` derived from the incoming delivery
and the reply's index within the handler (``bot-<digest>-1``, ``-2``, ...),
never a random one. The client reuses it for its own retries and
reconciliation (see ``docs/reliability.md``), and a handler that runs again
for the same comment (a redelivery after a restart emptied an in-memory
dedupe store) sends replies with the same markers. With
``Bot(lookup_replies=True)`` each reply first looks for its marker among
the room's newest comments and returns the comment it finds instead of
posting again: one extra read per reply, off by default (see
``docs/bots.md``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._client import QiscusClient
from ..errors import InvalidArgumentError
from ..models import Comment, Room, User
from ..payloads import Button, Buttons, Card
from ..webhooks import WebhookEvent
from ._conversation import Conversation, Conversations, Session, block

if TYPE_CHECKING:
    from ..omnichannel import Allocation, Handover, OmnichannelRoom

__all__ = ["Context", "Replier", "reply_marker"]

logger = logging.getLogger("aioqiscus.bot")


def reply_marker(digest: str, index: int) -> str:
    """The ``unique_temp_id`` of reply number *index* to the delivery *digest*.

    128 bits of the delivery's digest keep markers unique across comments and
    bots (the bot's id is hashed into the digest).
    """
    return f"bot-{digest[:32]}-{index}"


@attrs.frozen
class Replier:
    """Strictly private: the client, the bot's sender id and the lookup switch."""

    client: QiscusClient
    sender: str
    lookup: bool


@attrs.define(eq=False)
class Context:
    """One comment being handled.

    Attributes:
        event: The parsed delivery.
        postback: The tapped button's payload, decoded (an object or a JSON
            string alike), for a ``button_postback_response``; else ``None``.
        match: The regex match of an ``on_text`` listener (a string pattern
            is a full match of the stripped text); else ``None``.
    """

    event: WebhookEvent
    _replier: Replier = attrs.field(repr=False, alias="replier")
    _digest: str = attrs.field(repr=False, alias="digest")
    _conversations: Conversations = attrs.field(repr=False, alias="conversations")
    postback: Any = None
    match: re.Match[str] | None = None
    _handover: Handover | None = attrs.field(default=None, repr=False, alias="handover")
    _replies: int = attrs.field(default=0, repr=False, init=False)
    _session: Session | None = attrs.field(default=None, repr=False, init=False)

    @property
    def delivery_key(self) -> str:
        """The delivery's redelivery key (a hex digest), as logs name it."""
        return self._digest[:32]

    @property
    def comment(self) -> Comment:
        """The comment."""
        return self.event.comment

    @property
    def room(self) -> Room:
        """The room the comment was posted in."""
        return self.event.room

    @property
    def room_id(self) -> str:
        """The id of the room the comment was posted in."""
        return self.event.room.id

    @property
    def sender(self) -> User:
        """The comment's author."""
        return self.event.sender

    @property
    def text(self) -> str:
        """The comment's text, as sent."""
        return self.event.comment.message

    @property
    def channel(self) -> OmnichannelRoom | None:
        """Where the customer writes from, for an Omnichannel room; else ``None``.

        The room's options, typed (:func:`aioqiscus.omnichannel.room_info`):
        ``ctx.channel.channel`` is ``Source.WHATSAPP``, ``Source.LINE``...
        """
        from ..omnichannel import room_info  # noqa: PLC0415 - imported on its own

        info = room_info(self.room)
        return info if info.is_omnichannel else None

    async def handover(
        self,
        *,
        agent_id: str | None = None,
        division_ids: Sequence[str] | None = None,
        message: str | None = None,
    ) -> Allocation:
        """Hand this room to a human agent (``Bot(omnichannel=...)``).

        Tells the customer *message* (if given), switches the bot off in
        the room, assigns *agent_id* (else the least loaded available agent,
        of *division_ids* if given), and stops this bot's listeners from
        receiving the room until the mark-as-resolved webhook arrives.

        Returns:
            The :class:`~aioqiscus.omnichannel.Allocation`.

        Raises:
            RuntimeError: The bot was made without ``omnichannel=``.
        """
        if self._handover is None:
            msg = "ctx.handover() needs Bot(..., omnichannel=OmnichannelClient(...))"
            raise RuntimeError(msg)
        return await self._handover.hand_over(
            self.room_id, agent_id=agent_id, division_ids=division_ids, message=message
        )

    @property
    def conversation_key(self) -> str:
        """The store key of this room and sender's conversation."""
        return self._conversations.key(self.room_id, self.sender.id)

    @contextlib.asynccontextmanager
    async def conversation(self) -> AsyncIterator[Conversation]:
        """Hold this room and sender's conversation; save it on a normal exit.

        ``async with ctx.conversation() as conv:`` gives the
        :class:`~aioqiscus.bot.Conversation` (``conv.step``, ``conv.data``).
        Until the block ends, another delivery of the same conversation
        waits (on every process when the store is Redis). On a normal exit
        the state is saved with the bot's ``conversation_ttl``; on an
        exception it is left as it was. Blocks nest, and share the
        conversation the bot already holds for ``step=`` listeners.

        Raises:
            ConversationBusyError: Another delivery held it for longer than
                the bot's ``conversation_wait``.
            InvalidArgumentError: On exit, ``conv.data`` is not JSON (not
                saved).
            StoreUnavailableError: The store did not answer.
        """
        if self._session is not None:
            with block(self._session) as conversation:
                yield conversation
            return
        async with self._hold() as session:
            with block(session) as conversation:
                yield conversation

    @contextlib.asynccontextmanager
    async def holding(self) -> AsyncIterator[Conversation]:
        """Hold the conversation until the block ends, without committing.

        What :meth:`conversation` blocks inside commit is saved when this
        block ends. The bot holds it this way around routing and the
        handler when any listener has a ``step=``; inside a hold, this
        shares it.
        """
        if self._session is not None:
            yield self._session.conversation
            return
        async with self._hold() as session:
            yield session.conversation

    @contextlib.asynccontextmanager
    async def _hold(self) -> AsyncIterator[Session]:
        session = await self._conversations.open(self.conversation_key)
        self._session = session
        try:
            yield session
        finally:
            self._session = None
            await self._conversations.close(session)

    async def reply(self, text: str) -> Comment:
        """Post *text* to the room, as the bot, exactly once.

        Raises:
            InvalidArgumentError: *text* is empty (nothing is sent).
            QiscusError: The send failed (see the client's ``post_comment``).
        """
        if not isinstance(cast("object", text), str) or not text.strip():
            msg = "reply text must be a non-empty str"
            raise InvalidArgumentError(msg)
        return await self._send(
            lambda client, room, sender, marker: client.post_text(
                room, sender, text, unique_temp_id=marker
            )
        )

    async def reply_buttons(self, text: str, buttons: Sequence[Button]) -> Comment:
        """Post *text* with *buttons* to the room, as the bot, exactly once.

        Raises:
            InvalidArgumentError: The buttons are invalid (nothing is sent).
        """
        Buttons(text, tuple(buttons))  # validates before any request
        return await self._send(
            lambda client, room, sender, marker: client.post_buttons(
                room, sender, text, buttons, unique_temp_id=marker
            )
        )

    async def reply_card(self, card: Card) -> Comment:
        """Post *card* to the room, as the bot, exactly once.

        Raises:
            TypeError: *card* is not a :class:`~aioqiscus.payloads.Card`.
        """
        if not isinstance(cast("object", card), Card):
            msg = f"card must be a Card, got {type(card).__name__}"
            raise TypeError(msg)
        return await self._send(
            lambda client, room, sender, marker: client.post_card(
                room, sender, card, unique_temp_id=marker
            )
        )

    async def _send(
        self, post: Callable[[QiscusClient, str, str, str], Awaitable[Comment]]
    ) -> Comment:
        self._replies += 1
        marker = reply_marker(self._digest, self._replies)
        client, room = self._replier.client, self.room_id
        if self._replier.lookup:
            found = await client.find_comment(room, marker)
            if found is not None:
                logger.info("reply %s already in room %s; not sent again", marker, room)
                return found
        return await post(client, room, self._replier.sender, marker)
