"""Argument checks for the client, run before any request is sent.

Each ``check_*`` function returns the value it accepts (normalised where
that helps the caller) or raises :class:`TypeError` for a value of the wrong
type and :class:`~aioqiscus.errors.InvalidArgumentError` (a ValueError) for
a value of the right type that the server would refuse. The base-URL rule,
which keeps the secret key from travelling anywhere unintended, lives here
too (:func:`check_base_url`).

Strictly private: :class:`~aioqiscus.QiscusClient` calls these; users' code
is not always typed, so arguments annotated ``str`` are still checked.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ._reconcile import AmbiguousPolicy
from ._wire import Dialect
from .errors import InvalidArgumentError
from .models import IMPORT_LIMIT, BackupResource, RoomType
from .payloads import SENDABLE, Card, RawPayload, SystemEventType

# Both patterns are used with fullmatch: "$" would accept a final newline.
_APP_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
#: What an HTTP header value may hold (RFC 9110 field-value, ASCII only):
#: visible characters, inner spaces and tabs, nothing at either end.
_HEADER_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?")
#: ``api_version`` values and the dialect each pins (``None``: negotiate).
VERSIONS: Mapping[str, Dialect | None] = {
    "auto": None,
    "v2": Dialect.V2,
    "v2.1": Dialect.V2_1,
}
_LOOPBACK_NAMES = frozenset({"localhost"})


# ---------------------------------------------------------------- the client


def check_settings(
    app_id: object, secret_key: object, api_version: object, ambiguous_sends: object
) -> None:
    """The constructor's scalar settings."""
    check_credentials(app_id, secret_key)
    if api_version not in VERSIONS:
        msg = f"api_version must be 'auto', 'v2' or 'v2.1', got {api_version!r}"
        raise InvalidArgumentError(msg)
    check_send_policy(ambiguous_sends, "ambiguous_sends")


def check_credentials(app_id: object, secret_key: object, name: str = "app_id") -> None:
    """An app id (or Omnichannel app code) and a secret key sent as headers."""
    if not isinstance(app_id, str) or not _APP_ID.fullmatch(app_id):
        msg = f"{name} must be a DNS label: letters, digits and inner hyphens"
        raise InvalidArgumentError(msg)
    # The key travels in a header: a newline, a non-ASCII character or an
    # edge space would make the HTTP library raise an error quoting it.
    # The message never shows the value.
    if not isinstance(secret_key, str) or not _HEADER_VALUE.fullmatch(secret_key):
        msg = (
            "secret_key must be a non-empty str of printable ASCII without "
            "line breaks or surrounding spaces (it is sent as an HTTP header)"
        )
        raise InvalidArgumentError(msg)


def check_one_of(**given: object) -> None:
    """At most one of the keyword arguments is set."""
    named = [name for name, value in given.items() if value is not None]
    if len(named) > 1:
        msg = f"pass {' or '.join(given)}, not both"
        raise InvalidArgumentError(msg)


def check_in_flight(limit: int) -> int:
    """The in-flight limit: at least 1."""
    if limit < 1:
        msg = f"max_in_flight must be >= 1, got {limit}"
        raise InvalidArgumentError(msg)
    return limit


def check_response_limit(value: object, backend: object) -> int | None:
    """``max_response_bytes``: a positive int, and only for our own backend."""
    if value is None:
        return None
    if backend is not None:
        msg = "pass max_response_bytes to the backend you give, not to the client"
        raise InvalidArgumentError(msg)
    return check_page_size(value, "max_response_bytes")


def check_send_policy(value: object, name: str) -> AmbiguousPolicy:
    """``"reconcile"`` or ``"raise"``."""
    if value not in ("reconcile", "raise"):
        msg = f"{name} must be 'reconcile' or 'raise'"
        raise InvalidArgumentError(msg)
    return value


def check_base_url(value: object) -> str:
    """Refuse base URLs that could send the secret somewhere unintended.

    The host is judged after parsing (``http://localhost:@evil.com/`` is
    evil.com), plain http is allowed only for loopback hosts, and userinfo,
    query and fragment are refused.
    """
    if not isinstance(value, str):
        msg = f"base_url must be a str, got {type(value).__name__}"
        raise TypeError(msg)
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        msg = f"base_url is not a valid URL: {exc}"
        raise InvalidArgumentError(msg) from exc
    if url.scheme not in ("https", "http") or not url.host:
        msg = "base_url must be an absolute http(s) URL"
        raise InvalidArgumentError(msg)
    if url.userinfo or url.query or url.fragment or "@" in value or "#" in value:
        msg = "base_url must not contain credentials, a query or a fragment"
        raise InvalidArgumentError(msg)
    if url.scheme == "http" and not _is_loopback(url.host):
        msg = "base_url must use https (plain http is allowed only for loopback)"
        raise InvalidArgumentError(msg)
    _check_api_path(url)
    return value.rstrip("/")


#: A dialect's prefix, or its start, in a base URL's path.
_API_PATH = re.compile(r"/api/v2(?:\.1)?(?:/|$)")


def _check_api_path(url: httpx.URL) -> None:
    """Refuse a base URL that holds the API path, saying what to pass.

    The client adds ``/api/v2.1/rest`` (or v2's) itself: kept, it would be
    doubled and every call would 404. A path of another kind (a proxy's
    mount point) is kept.
    """
    found = _API_PATH.search(url.path)
    if found is None:
        return
    root = str(url.copy_with(path=url.path[: found.start()] or "/")).rstrip("/")
    msg = (
        f"base_url must not include the API path ({url.path!r}): pass "
        f"base_url={root!r}; the client adds /api/v2.1/rest or "
        "/api/v2/rest itself (pin one with api_version='v2.1' or 'v2')"
    )
    raise InvalidArgumentError(msg)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- values


#: The longest id or query value, in bytes once percent-encoded: ids go
#: into URLs, which httpx refuses over 64 KiB (and many servers over 8).
MAX_URL_VALUE = 8192


def check_url_value(value: str, name: str) -> str:
    """*value*, if it fits in a URL: at most :data:`MAX_URL_VALUE` encoded."""
    # Three characters per byte at most: the common short value costs no quote().
    if len(value) * 3 <= MAX_URL_VALUE:
        return value
    size = len(quote(value, safe=""))
    if size > MAX_URL_VALUE:
        msg = (
            f"{name} is {size} bytes once percent-encoded; ids and query values "
            f"may hold at most {MAX_URL_VALUE}"
        )
        raise InvalidArgumentError(msg)
    return value


def check_id(value: object, name: str) -> str:
    """A user or room identifier: a non-empty string without edge spaces."""
    if not isinstance(value, str):
        msg = (
            f"{name} must be a str, got {type(value).__name__} {value!r:.40}; "
            "ids are strings in aioqiscus (v2 integer room ids included)"
        )
        raise TypeError(msg)
    if not value or value.strip() != value:
        msg = f"{name} must be a non-empty string without surrounding spaces"
        raise InvalidArgumentError(msg)
    if len(value) * 3 <= MAX_URL_VALUE:  # check_url_value's fast path, inline
        return value
    return check_url_value(value, name)


def check_user_id(value: object, name: str = "user_id") -> str:
    """A user id to create: any identifier without control characters.

    No document restricts a v2.1 user id further (``a+tag@gmail.com``,
    ``John Smith`` and non-ASCII ids included), and v2 takes the same ids as
    emails: the server judges the rest.
    """
    checked = check_id(value, name)
    if any(unicodedata.category(ch) == "Cc" for ch in checked):
        msg = f"{name} must not contain control characters"
        raise InvalidArgumentError(msg)
    return checked


def check_path_id(value: object, name: str) -> str:
    """An identifier that goes into a URL path: ``.`` and ``..`` are refused.

    HTTP libraries collapse dot segments, so ``exports/..`` would reach
    another endpoint; percent-encoding them is no cure, servers decode it.
    """
    checked = check_id(value, name)
    if checked in {".", ".."}:
        msg = f"{name} must not be '.' or '..'"
        raise InvalidArgumentError(msg)
    return checked


def check_optional_id(value: object, name: str) -> str | None:
    """An identifier or ``None``."""
    return None if value is None else check_id(value, name)


def check_ids(values: object, name: str, *, allow_empty: bool = False) -> list[str]:
    """A sequence of identifiers; a bare string is refused, not split."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        msg = f"{name} must be a list of str, got {type(values).__name__}"
        raise TypeError(msg)
    checked = [check_id(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if not checked and not allow_empty:
        msg = f"{name} must not be empty"
        raise InvalidArgumentError(msg)
    if len(set(checked)) != len(checked):
        msg = f"{name} contains duplicates"
        raise InvalidArgumentError(msg)
    return checked


def check_pair(values: object, name: str) -> list[str]:
    """Exactly two distinct identifiers."""
    checked = check_ids(values, name)
    if len(checked) != 2:  # noqa: PLR2004
        msg = f"{name} must hold exactly 2 users, got {len(checked)}"
        raise InvalidArgumentError(msg)
    return checked


def check_any_given(message: str, *values: object) -> None:
    """Refuse with *message* when every value is ``None`` or an empty list."""
    if all(v is None or v == [] for v in values):
        raise InvalidArgumentError(message)


def check_optional_text(value: object, name: str) -> str | None:
    """A string or ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = f"{name} must be a str or None, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def check_name(value: object, name: str) -> str:
    """A string with something besides spaces in it."""
    text = check_optional_text(value, name)
    if text is None or not text.strip():
        msg = f"{name} must be a non-empty string"
        raise InvalidArgumentError(msg)
    return text


def check_options(value: object, name: str = "options") -> Mapping[str, Any] | None:
    """A JSON-object-like mapping with string keys, or ``None``."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        msg = f"{name} must be a mapping with str keys, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def check_since(value: object) -> datetime | None:
    """A :class:`~datetime.datetime` or ``None`` (naive ones are taken as UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        msg = f"since must be a datetime, got {type(value).__name__}"
        raise TypeError(msg)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def check_recheck(value: object) -> float | None:
    """``reconcile_recheck``: ``None`` or a number of seconds, 0 or more."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        msg = (
            f"reconcile_recheck must be a number of seconds, got {type(value).__name__}"
        )
        raise TypeError(msg)
    if not value >= 0:
        msg = f"reconcile_recheck must be 0 or more seconds, got {value!r}"
        raise InvalidArgumentError(msg)
    return float(value)


def check_page_size(value: object, name: str = "page_size") -> int:
    """A positive int (page sizes, page numbers, windows)."""
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{name} must be an int, got {type(value).__name__}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{name} must be >= 1, got {value}"
        raise InvalidArgumentError(msg)
    return value


def check_limit(value: object, maximum: int, name: str = "page_size") -> int:
    """A page size from 1 to the *maximum* the document allows."""
    checked = check_page_size(value, name)
    if checked > maximum:
        msg = f"{name} must be <= {maximum}, got {checked}"
        raise InvalidArgumentError(msg)
    return checked


def check_comment_id(value: object, name: str) -> int:
    """A comment id: a positive int (``Comment.id``)."""
    return check_page_size(value, name)


def check_time(value: object, name: str) -> datetime | None:
    """An aware :class:`~datetime.datetime` or ``None``.

    A naive datetime is refused rather than guessed: the local clock, UTC
    and the server's zone would each give another period.
    """
    if value is None:
        return None
    if not isinstance(value, datetime):
        msg = f"{name} must be a datetime or None, got {type(value).__name__}"
        raise TypeError(msg)
    if value.utcoffset() is None:
        msg = (
            f"{name} must be timezone-aware, e.g. datetime(..., tzinfo=UTC); "
            "a naive datetime names no instant"
        )
        raise InvalidArgumentError(msg)
    return value


def check_window(
    since: object, until: object
) -> tuple[datetime | None, datetime | None]:
    """*since* and *until*, each aware or ``None``, *since* not after *until*."""
    start, end = check_time(since, "since"), check_time(until, "until")
    if start is not None and end is not None and start > end:
        msg = "since must not be after until"
        raise InvalidArgumentError(msg)
    return start, end


#: ``webhook_logs``' ``type`` values (v2.1/more-endpoints.md).
WEBHOOK_KINDS = ("all", "mobile", "rest")


def check_webhook_kind(value: object) -> str:
    """``"all"``, ``"mobile"`` or ``"rest"``."""
    if value not in WEBHOOK_KINDS:
        msg = f"kind must be one of {', '.join(WEBHOOK_KINDS)}, got {value!r}"
        raise InvalidArgumentError(msg)
    return str(value)


def check_room_type(value: object) -> RoomType | None:
    """A :class:`RoomType` or ``None``."""
    if value is not None and not isinstance(value, RoomType):
        msg = f"room_type must be a RoomType, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def check_device_platform(value: object) -> Literal["ios", "android"] | None:
    """``"ios"``, ``"android"`` or ``None``."""
    if value not in (None, "ios", "android"):
        msg = "device_platform must be 'ios' or 'android'"
        raise InvalidArgumentError(msg)
    return value


# ---------------------------------------------------------------- messages


def check_comment(payload: object, given: str | None, message: str) -> str:
    """The comment type: implied by *payload*, checked against *given*.

    A text comment needs a non-empty *message*. One function, not two: it
    runs on every send.
    """
    if payload is None:
        kind = given or "text"
        if kind != "text":
            msg = f"a {kind!r} comment needs a payload"
            raise InvalidArgumentError(msg)
    elif isinstance(payload, RawPayload):
        if given not in (None, payload.type):
            msg = f"type {given!r} does not match the RawPayload type {payload.type!r}"
            raise InvalidArgumentError(msg)
        kind = payload.type
    elif isinstance(payload, SENDABLE):
        kind = str(payload.TYPE)
        if given not in (None, kind):
            msg = f"type {given!r} does not match a {type(payload).__name__} payload"
            raise InvalidArgumentError(msg)
    else:
        names = ", ".join(cls.__name__ for cls in SENDABLE)
        got = type(payload).__name__
        msg = f"payload must be one of {names} or RawPayload, got {got}"
        raise TypeError(msg)
    if kind == "text" and not message.strip():
        msg = "message must be non-empty for a text comment"
        raise InvalidArgumentError(msg)
    return kind


def check_event_type(value: object) -> SystemEventType:
    """A :class:`SystemEventType` or its value."""
    try:
        return SystemEventType(value)
    except ValueError:
        choices = ", ".join(e.value for e in SystemEventType)
        msg = f"event_type must be one of {choices}, got {value!r}"
        raise InvalidArgumentError(msg) from None


def check_event(
    event: SystemEventType,
    subject: str | None,
    objects: list[str],
    room_name: str | None,
) -> None:
    """The per-subtype requirements of post_system_event_message."""
    if event is SystemEventType.CUSTOM:
        # No payload is fine: the Go SDK sends null, Qiscus' own n8n node
        # sends only message, room_id and system_event_type.
        return
    if subject is None:
        msg = f"a {event.value} system event needs subject="
        raise InvalidArgumentError(msg)
    needs_objects = (SystemEventType.ADD_MEMBER, SystemEventType.REMOVE_MEMBER)
    if event in needs_objects and not objects:
        msg = f"a {event.value} system event needs objects="
        raise InvalidArgumentError(msg)
    needs_name = (SystemEventType.CREATE_ROOM, SystemEventType.CHANGE_ROOM_NAME)
    if event in needs_name and not room_name:
        msg = f"a {event.value} system event needs room_name="
        raise InvalidArgumentError(msg)


def check_card(card: object) -> None:
    """A :class:`~aioqiscus.payloads.Card`."""
    if not isinstance(card, Card):
        msg = f"card must be a Card, got {type(card).__name__}"
        raise TypeError(msg)


# ---------------------------------------------------------------- backups


def check_resource(value: object) -> str:
    """``users``, ``rooms`` or ``comments`` (or a :class:`BackupResource`)."""
    try:
        return BackupResource(value).value
    except ValueError:
        msg = f"resource must be users, rooms or comments, got {value!r}"
        raise InvalidArgumentError(msg) from None


def check_dates(start: object, end: object) -> None:
    """Two :class:`datetime.date` values, *start* not after *end*."""
    if not (isinstance(start, date) and isinstance(end, date)):
        msg = "start_date and end_date must be datetime.date values"
        raise TypeError(msg)
    if start > end:
        msg = "start_date must not be after end_date"
        raise InvalidArgumentError(msg)


def check_import_data(data: object) -> bytes:
    """Bytes of at most :data:`~aioqiscus.models.IMPORT_LIMIT`, as ``bytes``."""
    if not isinstance(data, bytes | bytearray):
        msg = f"data must be bytes, got {type(data).__name__}"
        raise TypeError(msg)
    if len(data) > IMPORT_LIMIT:
        msg = f"an import file may hold at most {IMPORT_LIMIT} bytes, got {len(data)}"
        raise InvalidArgumentError(msg)
    return bytes(data)


def check_polling(poll_interval: float, timeout: float) -> None:
    """Positive polling interval and budget."""
    if poll_interval <= 0 or timeout <= 0:
        msg = "poll_interval and timeout must be > 0"
        raise InvalidArgumentError(msg)
