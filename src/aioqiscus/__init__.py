"""aioqiscus: an async client for the Qiscus Chat SDK server REST API.

It speaks both REST dialects (v2, by email; v2.1, by user_id), negotiating
which one the server serves, and returns one normalised model for both.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import backends, errors, events, models, payloads, sync, webhooks
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

__version__ = "0.2.0"

#: Subpackages loaded on first use, not by ``import aioqiscus``: a script
#: that never receives a webhook or copies an app does not pay for them
#: (``aioqiscus.bot`` and its imports were half the import time).
_LAZY = frozenset({"bot", "migration", "stores"})

if TYPE_CHECKING:
    # What type checkers see; no module ``__getattr__`` for them, so a
    # misspelt ``aioqiscus.name`` stays an error.
    from . import bot, migration, stores
else:

    def __getattr__(name: str) -> object:
        """``aioqiscus.bot``, ``.migration`` and ``.stores``, imported on first use."""
        if name in _LAZY:
            return importlib.import_module(f".{name}", __name__)
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)


def __dir__() -> list[str]:
    # The package's names, the lazy ones too; not the helpers of this module.
    return sorted((globals().keys() - {"TYPE_CHECKING", "importlib"}) | _LAZY)


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
