"""aioqiscus: an async client for the Qiscus Chat SDK server REST API.

It speaks both REST dialects (v2, by email; v2.1, by user_id), negotiating
which one the server serves, and returns one normalised model for both.
"""

from __future__ import annotations

#: ``typing.TYPE_CHECKING`` without importing typing (type checkers know the
#: name): the package and ``aioqiscus --help`` need none of typing.
TYPE_CHECKING = False

__version__ = "0.2.0"

#: Where each public name lives. ``import aioqiscus`` loads none of them:
#: the first use of a name imports its module (Python's import lock makes
#: that safe from any thread), so ``aioqiscus --help`` and a script that only
#: catches ``aioqiscus.errors`` pay for neither httpx nor the client stack.
_FROM: dict[str, str] = {
    **dict.fromkeys(("QiscusClient",), "_client"),
    **dict.fromkeys(("NegotiationReport", "OperationRoute"), "_negotiate"),
    **dict.fromkeys(("Listing",), "_paging"),
    **dict.fromkeys(("RedisTokenBucket", "TokenBucket"), "_ratelimit"),
    **dict.fromkeys(("RetryPolicy", "set_testing"), "_retry"),
    **dict.fromkeys(("SendOptions",), "_send_options"),
    **dict.fromkeys(("SyncIterator", "SyncListing"), "_sync"),
    **dict.fromkeys(("Dialect", "Operation"), "_wire"),
    **dict.fromkeys(
        (
            "AmbiguousSendError",
            "APIError",
            "AuthenticationError",
            "BackupFailedError",
            "BackupTimeoutError",
            "BadRequestError",
            "ClientClosedError",
            "EventLoopError",
            "InvalidArgumentError",
            "NegotiationError",
            "NegotiationTimeoutError",
            "NegotiationTransportError",
            "NotFoundError",
            "QiscusError",
            "RateLimitedError",
            "RateLimitError",
            "RateLimitStoreError",
            "RequestTimeoutError",
            "ResponseShapeError",
            "ResponseTooLargeError",
            "ServerError",
            "StoreError",
            "TransportError",
            "UnsupportedOperationError",
        ),
        "errors",
    ),
    **dict.fromkeys(
        ("EventHooks", "RequestEvent", "ResponseEvent", "RetryEvent"), "events"
    ),
    **dict.fromkeys(
        (
            "Backup",
            "BackupResource",
            "BackupStatus",
            "Comment",
            "ParticipantChange",
            "ReplyTime",
            "Room",
            "RoomType",
            "User",
            "WebhookLog",
        ),
        "models",
    ),
    **dict.fromkeys(
        (
            "AccountLinking",
            "Button",
            "Buttons",
            "Card",
            "Carousel",
            "CarouselCard",
            "ContactPerson",
            "Custom",
            "FileAttachment",
            "Location",
            "RawPayload",
            "Reply",
            "SystemEvent",
            "SystemEventType",
        ),
        "payloads",
    ),
    **dict.fromkeys(("SyncQiscusClient",), "sync"),
}

#: Public modules and subpackages, imported on first use too (``aioqiscus.bot``
#: and its imports alone were half of what ``import aioqiscus`` once cost).
_MODULES = frozenset(
    {
        "backends",
        "bot",
        "errors",
        "events",
        "migration",
        "models",
        "payloads",
        "stores",
        "sync",
        "webhooks",
    }
)

if TYPE_CHECKING:
    # What type checkers see: the same names, imported eagerly; no module
    # ``__getattr__`` for them, so a misspelt ``aioqiscus.name`` stays an error.
    from . import (
        backends,
        bot,
        errors,
        events,
        migration,
        models,
        payloads,
        stores,
        sync,
        webhooks,
    )
    from ._client import QiscusClient
    from ._negotiate import NegotiationReport, OperationRoute
    from ._paging import Listing
    from ._ratelimit import RedisTokenBucket, TokenBucket
    from ._retry import RetryPolicy, set_testing
    from ._send_options import SendOptions
    from ._sync import SyncIterator, SyncListing
    from ._wire import Dialect, Operation
    from .errors import (
        AmbiguousSendError,
        APIError,
        AuthenticationError,
        BackupFailedError,
        BackupTimeoutError,
        BadRequestError,
        ClientClosedError,
        EventLoopError,
        InvalidArgumentError,
        NegotiationError,
        NegotiationTimeoutError,
        NegotiationTransportError,
        NotFoundError,
        QiscusError,
        RateLimitedError,
        RateLimitError,
        RateLimitStoreError,
        RequestTimeoutError,
        ResponseShapeError,
        ResponseTooLargeError,
        ServerError,
        StoreError,
        TransportError,
        UnsupportedOperationError,
    )
    from .events import EventHooks, RequestEvent, ResponseEvent, RetryEvent
    from .models import (
        Backup,
        BackupResource,
        BackupStatus,
        Comment,
        ParticipantChange,
        ReplyTime,
        Room,
        RoomType,
        User,
        WebhookLog,
    )
    from .payloads import (
        AccountLinking,
        Button,
        Buttons,
        Card,
        Carousel,
        CarouselCard,
        ContactPerson,
        Custom,
        FileAttachment,
        Location,
        RawPayload,
        Reply,
        SystemEvent,
        SystemEventType,
    )
    from .sync import SyncQiscusClient
else:

    def __getattr__(name: str) -> object:
        """A public name or module of the package, imported on first use."""
        if name in _MODULES:
            module = name
        else:
            try:
                module = _FROM[name]
            except KeyError:
                msg = f"module {__name__!r} has no attribute {name!r}"
                raise AttributeError(msg) from None
        # The import statement's own machinery, not importlib.import_module:
        # -X importtime then times the module and nests its imports under
        # it. Importing a submodule binds it on the package.
        __import__(f"{__name__}.{module}")
        loaded = globals()[module]
        if module == name:
            return loaded
        value = getattr(loaded, name)
        # Bound here, the next lookup is a plain module attribute.
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    # The package's public names, loaded or not; not this module's helpers.
    return sorted({*__all__, *(globals().keys() - {"TYPE_CHECKING"})})


__all__ = [
    "APIError",
    "AccountLinking",
    "AmbiguousSendError",
    "AuthenticationError",
    "Backup",
    "BackupFailedError",
    "BackupResource",
    "BackupStatus",
    "BackupTimeoutError",
    "BadRequestError",
    "Button",
    "Buttons",
    "Card",
    "Carousel",
    "CarouselCard",
    "ClientClosedError",
    "Comment",
    "ContactPerson",
    "Custom",
    "Dialect",
    "EventHooks",
    "EventLoopError",
    "FileAttachment",
    "InvalidArgumentError",
    "Listing",
    "Location",
    "NegotiationError",
    "NegotiationReport",
    "NegotiationTimeoutError",
    "NegotiationTransportError",
    "NotFoundError",
    "Operation",
    "OperationRoute",
    "ParticipantChange",
    "QiscusClient",
    "QiscusError",
    "RateLimitError",
    "RateLimitStoreError",
    "RateLimitedError",
    "RawPayload",
    "RedisTokenBucket",
    "Reply",
    "ReplyTime",
    "RequestEvent",
    "RequestTimeoutError",
    "ResponseEvent",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "RetryEvent",
    "RetryPolicy",
    "Room",
    "RoomType",
    "SendOptions",
    "ServerError",
    "StoreError",
    "SyncIterator",
    "SyncListing",
    "SyncQiscusClient",
    "SystemEvent",
    "SystemEventType",
    "TokenBucket",
    "TransportError",
    "UnsupportedOperationError",
    "User",
    "WebhookLog",
    "__version__",
    "backends",
    "bot",
    "errors",
    "events",
    "migration",
    "models",
    "payloads",
    "set_testing",
    "stores",
    "sync",
    "webhooks",
]
