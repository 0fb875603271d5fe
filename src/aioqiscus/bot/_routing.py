"""Listeners and what they match: text, postback payloads, comment types (pure).

A tapped postback button reaches a bot as a new comment of type
``button_postback_response`` (``v2.1/more-endpoints.md``): its text is the
button's ``postback_text`` or label, its payload what the app sent. The web
SDK sends ``JSON.stringify(button.payload)``, that is the button's wire
action ``{"url", "method", "payload"}`` as a JSON string; other apps send
the object, or the inner payload alone. :func:`decode_postback` accepts all
of these and returns the inner payload: what the bot author passed as
``Button.postback(..., payload=...)``.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import InvalidArgumentError
from ..models import Comment
from ..payloads import RawPayload

if TYPE_CHECKING:
    from ._context import Context

__all__ = [
    "POSTBACK_TYPE",
    "TEXT_TYPES",
    "ErrorHandler",
    "Handler",
    "Hit",
    "Listener",
    "MessageListener",
    "Middleware",
    "PostbackListener",
    "TextListener",
    "chain",
    "check_handler",
    "check_step",
    "decode_postback",
    "may_route",
    "route",
    "text_pattern",
]

#: A listener: called with the context of a matching comment.
Handler = Callable[["Context"], Awaitable[None]]
#: An error hook: called with the context and the exception a handler raised.
ErrorHandler = Callable[["Context", Exception], Awaitable[None]]
#: A middleware: called with the context and the next step (the next
#: middleware, or the handler); it may await ``call_next(ctx)`` or not.
Middleware = Callable[["Context", Handler], Awaitable[None]]

#: The comment type an app posts when a user taps a postback button.
POSTBACK_TYPE = "button_postback_response"
#: Comment types whose text ``on_text`` matches: a tap "says" its text.
TEXT_TYPES = frozenset({"text", POSTBACK_TYPE})
# The keys of a button's wire action (``v2.1/comment.md``, type buttons).
_ACTION_KEYS = frozenset({"url", "method", "payload"})


def check_handler(func: object, what: str) -> None:
    """Refuse anything but a coroutine function, at registration time.

    A plain ``def`` would otherwise fail only when its first comment arrives.
    """
    call = getattr(func, "__call__", None)  # noqa: B004 - async __call__ objects
    if not (inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)):
        msg = f"{what} must be an async function, got {func!r:.60}"
        raise TypeError(msg)


def _json(value: Any) -> Any:
    """*value*, decoded if it is a string holding a JSON object or array."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _is_action(value: Any) -> bool:
    """Whether *value* is a button's wire action rather than its payload."""
    return (
        isinstance(value, dict)
        and "payload" in value
        and value.keys() <= _ACTION_KEYS
        and ("url" in value or "method" in value)
    )


def decode_postback(comment: Comment) -> Any:
    """The tapped button's payload, or ``None`` for any other comment.

    Decoded whether it came as an object or a JSON string, and unwrapped
    from the button's ``{"url", "method", "payload"}`` action if the app sent
    that. A button without a payload gives ``None``.
    """
    if comment.type != POSTBACK_TYPE or not isinstance(comment.payload, RawPayload):
        return None
    data = _json(comment.payload.data)
    if _is_action(data):
        data = _json(data["payload"])
    return data


@attrs.frozen
class Hit:
    """A listener matched; *match* is its regex match, if it has one."""

    match: re.Match[str] | None = None


_HIT = Hit()


@attrs.frozen
class TextListener:
    """``on_text``: a whole-text string (case-insensitive) or a regex search."""

    pattern: re.Pattern[str]
    whole: bool
    handler: Handler
    step: str | None = None

    def hit(self, comment: Comment, postback: Any) -> Hit | None:  # noqa: ARG002
        """A :class:`Hit` if *comment* matches, else ``None``."""
        if comment.type not in TEXT_TYPES:
            return None
        text = comment.message.strip()
        found = (
            self.pattern.fullmatch(text) if self.whole else self.pattern.search(text)
        )
        return None if found is None else Hit(found)


def chain(middleware: list[Middleware], handler: Handler) -> Handler:
    """*handler* wrapped in *middleware*, the first registered outermost."""
    call = handler
    for outer in reversed(middleware):
        call = _Link(outer, call)
    return call


@attrs.frozen
class _Link:
    """One middleware bound to what comes after it."""

    middleware: Middleware
    call_next: Handler

    async def __call__(self, context: Context) -> None:
        await self.middleware(context, self.call_next)


def check_step(step: object) -> str | None:
    """A listener's ``step=``: a non-empty str, or None for any step."""
    if step is None or (isinstance(step, str) and step):
        return step
    msg = f"step must be a non-empty str or None, got {step!r:.60}"
    raise InvalidArgumentError(msg)


def text_pattern(pattern: object) -> tuple[re.Pattern[str], bool]:
    """The regex for an ``on_text`` *pattern*, and whether it must match whole.

    Checked at registration, before anything runs.
    """
    if isinstance(pattern, str):
        if not pattern.strip():
            msg = "on_text pattern must be a non-empty string or a compiled regex"
            raise InvalidArgumentError(msg)
        return re.compile(re.escape(pattern.strip()), re.IGNORECASE), True
    if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
        return pattern, False
    msg = f"on_text pattern must be a str or a compiled str regex, got {pattern!r:.60}"
    raise TypeError(msg)


def _same(a: Any, b: Any) -> bool:
    """Equal, without ``True == 1`` (JSON tells booleans from numbers)."""
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


@attrs.frozen
class PostbackListener:
    """``on_postback``: a tap whose payload holds every given key and value."""

    match: Mapping[str, Any]
    handler: Handler
    step: str | None = None

    def hit(self, comment: Comment, postback: Any) -> Hit | None:
        """A :class:`Hit` if *comment* is a matching tap, else ``None``."""
        if comment.type != POSTBACK_TYPE:
            return None
        if not self.match:
            return _HIT
        if not isinstance(postback, Mapping):
            return None
        for key, value in self.match.items():
            if key not in postback or not _same(postback[key], value):
                return None
        return _HIT


@attrs.frozen
class MessageListener:
    """``on_message``: any comment, or any comment of one type."""

    type: str | None
    handler: Handler
    step: str | None = None

    def hit(self, comment: Comment, postback: Any) -> Hit | None:  # noqa: ARG002
        """A :class:`Hit` if *comment* is of the type (any type if ``None``)."""
        return _HIT if self.type is None or comment.type == self.type else None


Listener = TextListener | PostbackListener | MessageListener


def route(
    listeners: list[Listener], comment: Comment, postback: Any, step: str | None
) -> tuple[Listener, Hit] | None:
    """The first listener that matches *comment* in *step*, and its hit.

    A listener without a step matches in any step.
    """
    for listener in listeners:
        if listener.step is not None and listener.step != step:
            continue
        hit = listener.hit(comment, postback)
        if hit is not None:
            return listener, hit
    return None


def may_route(listeners: list[Listener], comment: Comment, postback: Any) -> bool:
    """Whether some listener matches *comment* in some step."""
    return any(listener.hit(comment, postback) is not None for listener in listeners)
