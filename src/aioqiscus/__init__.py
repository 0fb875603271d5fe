"""aioqiscus: an async client for the Qiscus Chat SDK server REST API.

It speaks both REST dialects (v2, by email; v2.1, by user_id), negotiating
which one the server serves, and returns one normalised model for both.
"""

from __future__ import annotations

from . import (
    backends,
    bot,
    errors,
    events,
    migration,
    models,
    payloads,
    sync,
    webhooks,
)
from ._client import QiscusClient
from ._negotiate import NegotiationReport, OperationRoute
from ._paging import Listing
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
    NotFoundError,
    QiscusError,
    RateLimitError,
    RequestTimeoutError,
    ResponseShapeError,
    ResponseTooLargeError,
    ServerError,
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
    "NotFoundError",
    "Operation",
    "OperationRoute",
    "ParticipantChange",
    "QiscusClient",
    "QiscusError",
    "RateLimitError",
    "RawPayload",
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
    "SyncIterator",
    "SyncListing",
    "SyncQiscusClient",
    "SystemEvent",
    "SystemEventType",
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
    "sync",
    "webhooks",
]
