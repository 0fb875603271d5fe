"""The errors the stores raise (each a :class:`~aioqiscus.errors.QiscusError`)."""

from __future__ import annotations

from ..errors import StoreError

__all__ = [
    "ConversationBusyError",
    "ConversationLockLostError",
    "StoreError",
    "StoreUnavailableError",
]


class StoreUnavailableError(StoreError):
    """The store did not answer in time, or could not be reached.

    Every Redis call is bounded by the store's ``timeout``: a Redis that
    went away gives this error, never a hang.
    """


class ConversationBusyError(StoreError, TimeoutError):
    """Another delivery held the conversation for longer than the bot waits.

    Raised where a handler enters the conversation (or, for bots with
    ``step=`` listeners, before any handler runs); the error hooks get it.
    """


class ConversationLockLostError(StoreError):
    """The conversation's lock expired before its state was saved.

    The handler held the conversation longer than the store's
    ``lock_expiry``; another delivery may have taken it, so the state was
    not written. Raise ``lock_expiry`` above the longest handler.
    """


def busy(wait: float) -> ConversationBusyError:
    """The error for a conversation lock still held after *wait* seconds."""
    msg = (
        f"conversation still held by another delivery after {wait:g} s: "
        "raise the bot's conversation_wait, or hold the conversation "
        "(ctx.conversation()) for less time in handlers"
    )
    return ConversationBusyError(msg)
