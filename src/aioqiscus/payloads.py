"""Typed comment payloads: buttons, cards, carousels, locations and more.

Every class validates at construction, so a payload you can build is one the
server accepts; a bad field raises :class:`~aioqiscus.errors.InvalidArgumentError`
(a ``ValueError``) naming it. Payloads read from a server that are of an
unknown type, or that do not pass these checks, arrive as
:class:`RawPayload` with the JSON kept as sent: parsing never fails on them.

Wire forms: every payload's ``to_wire()`` gives its Qiscus JSON (the
``payload`` of a comment, as post_comment, imports and responses carry it),
and :func:`from_wire` reads one back: ``from_wire(p.TYPE, p.to_wire()) == p``
for every payload ``p`` (a :class:`RawPayload`'s type is its ``type``). Both
are the code the client itself sends and reads payloads with; the wire
names live in :mod:`aioqiscus.dialects`, not on these classes.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs

from ._payload_rules import METHODS as _METHODS
from ._payload_rules import is_http_url as _is_http_url
from ._wire import Dialect
from .errors import InvalidArgumentError

__all__ = [
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
    "Payload",
    "RawPayload",
    "Reply",
    "SystemEvent",
    "SystemEventType",
    "from_wire",
]


def _fail(cls: str, field: str, problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{cls}.{field} {problem}")


def _non_empty(
    instance: object, attribute: attrs.Attribute[str], value: object
) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _fail(
            type(instance).__name__, attribute.name, "must be a non-empty string"
        )


def _http_url(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _is_http_url(value):
        raise _fail(type(instance).__name__, attribute.name, "must be an http(s) URL")


def _text(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise _fail(type(instance).__name__, attribute.name, "must be a string")


def _required_url(
    instance: object, attribute: attrs.Attribute[Any], value: Any
) -> None:
    if not isinstance(value, str) or not _is_http_url(value):
        raise _fail(type(instance).__name__, attribute.name, "must be an http(s) URL")


def _tuple(value: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(value)


class _Wire:
    """The ``to_wire()`` every payload class has. Strictly private."""

    __slots__ = ()

    def to_wire(self, *, dialect: Dialect = Dialect.V2_1) -> dict[str, Any]:
        """This payload as Qiscus JSON: a comment's ``payload`` object.

        Args:
            dialect: Whose request form to write. The two differ only in a
                card's image (``image_url`` in v2 requests, ``image`` in
                v2.1 and in every response) and in how system events name
                people (``*_email`` in v2, ``*_user_id`` in v2.1). The
                default, v2.1's, is what :func:`from_wire` reads back exactly.

        Returns:
            A new dict of JSON values (the payload's own ``payload``,
            ``content`` or ``params`` values are shared, not copied).
        """
        from .dialects import payload_to_wire  # noqa: PLC0415 - dialects import payloads

        return payload_to_wire(self, dialect)


def from_wire(type: str, data: Any) -> Payload | None:
    """The typed payload of a comment of *type* whose ``payload`` is *data*.

    The reader the client uses for every comment it parses, and the inverse
    of ``to_wire()``: ``from_wire(p.TYPE, p.to_wire()) == p``.

    Args:
        type: The comment type (``"buttons"``, ``"card"``, ...).
        data: The ``payload`` JSON, decoded.

    Returns:
        ``None`` for a ``text`` comment or an empty payload; the payload
        class of *type* when *data* passes its checks; otherwise a
        :class:`RawPayload` holding *data* as given. It never raises.
    """
    from .dialects import payload_from_wire  # noqa: PLC0415 - dialects import payloads

    return payload_from_wire(type, data)


@attrs.frozen
class Button:
    """A button: ``postback`` (calls *url* with *method*) or ``link`` (opens *url*).

    Build with :meth:`postback` or :meth:`link`.

    Attributes:
        label: The text on the button.
        type: ``"postback"`` or ``"link"``.
        url: Where the button goes.
        method: HTTP method of a postback (``get``/``post``/...).
        payload: Data sent with a postback.
        postback_text: Text a postback posts to the room, if any.
    """

    label: str
    type: Literal["postback", "link"]
    url: str
    method: str = "get"
    payload: Any = None
    postback_text: str = ""

    def __attrs_post_init__(self) -> None:
        # One check instead of a validator per field: a page of comments
        # builds dozens of buttons. Checked in field order, as validators are.
        # Typed loosely: callers are not always type-checked.
        label: object = self.label
        url: object = self.url
        if not isinstance(label, str) or not label.strip():
            raise _fail("Button", "label", "must be a non-empty string")
        if url is not None and not (isinstance(url, str) and _is_http_url(url)):
            raise _fail("Button", "url", "must be an http(s) URL")
        if not isinstance(self.postback_text, str):
            raise _fail("Button", "postback_text", "must be a string")
        if self.type not in ("postback", "link"):
            raise _fail("Button", "type", "must be 'postback' or 'link'")
        if self.type == "link" and (self.method != "get" or self.payload is not None):
            # The wire form of a link has neither (v2.1/comment.md).
            raise _fail("Button", "payload", "must be None for a link button")
        if not url:
            raise _fail("Button", "url", "is required")
        if self.method not in _METHODS:
            raise _fail("Button", "method", f"must be one of {sorted(_METHODS)}")

    @classmethod
    def postback(
        cls,
        label: str,
        url: str,
        *,
        method: str = "get",
        payload: Any = None,
        postback_text: str = "",
    ) -> Button:
        """A button that makes the client call *url*."""
        return cls(label, "postback", url, method.lower(), payload, postback_text)

    @classmethod
    def link(cls, label: str, url: str) -> Button:
        """A button that opens *url*."""
        return cls(label, "link", url)


def _buttons(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not all(isinstance(b, Button) for b in value):
        raise _fail(type(instance).__name__, attribute.name, "must hold Button values")


@attrs.frozen
class Buttons(_Wire):
    """A text with buttons (comment type ``buttons``)."""

    TYPE: ClassVar[str] = "buttons"

    text: str = attrs.field(validator=_text)
    buttons: tuple[Button, ...] = attrs.field(converter=_tuple, validator=_buttons)

    def __attrs_post_init__(self) -> None:
        if not self.buttons:
            raise _fail("Buttons", "buttons", "must hold at least one Button")


@attrs.frozen
class Card(_Wire):
    """A card with title, image, description and buttons (type ``card``)."""

    TYPE: ClassVar[str] = "card"

    title: str = attrs.field(validator=_non_empty)
    text: str = attrs.field(default="", validator=_text)
    description: str = attrs.field(default="", validator=_text)
    image_url: str | None = attrs.field(default=None, validator=_http_url)
    url: str | None = attrs.field(default=None, validator=_http_url)
    buttons: tuple[Button, ...] = attrs.field(
        default=(), converter=_tuple, validator=_buttons
    )


@attrs.frozen
class CarouselCard:
    """One card of a :class:`Carousel`."""

    title: str = attrs.field(validator=_non_empty)
    description: str = attrs.field(default="", validator=_text)
    image_url: str | None = attrs.field(default=None, validator=_http_url)
    default_action: Button | None = None
    buttons: tuple[Button, ...] = attrs.field(
        default=(), converter=_tuple, validator=_buttons
    )


@attrs.frozen
class Carousel(_Wire):
    """Several cards side by side (type ``carousel``, ``v2.1/comment.md``)."""

    TYPE: ClassVar[str] = "carousel"

    cards: tuple[CarouselCard, ...] = attrs.field(converter=_tuple)

    def __attrs_post_init__(self) -> None:
        if not self.cards or not all(isinstance(c, CarouselCard) for c in self.cards):
            raise _fail("Carousel", "cards", "must hold at least one CarouselCard")


@attrs.frozen
class AccountLinking(_Wire):
    """A login prompt (type ``account_linking``)."""

    TYPE: ClassVar[str] = "account_linking"

    text: str = attrs.field(validator=_text)
    url: str = attrs.field(validator=_required_url)
    redirect_url: str | None = attrs.field(default=None, validator=_http_url)
    params: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Custom(_Wire):
    """An application-defined payload: a *subtype* and any JSON *content*."""

    TYPE: ClassVar[str] = "custom"

    subtype: str = attrs.field(validator=_non_empty)
    content: Any = None


def _latitude(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    _coordinate(instance, attribute, value, 90.0)


def _longitude(
    instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    _coordinate(instance, attribute, value, 180.0)


def _coordinate(
    instance: object, attribute: attrs.Attribute[float], value: object, bound: float
) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not -bound <= value <= bound
    ):
        raise _fail(
            type(instance).__name__,
            attribute.name,
            f"must be within [-{bound}, {bound}]",
        )


@attrs.frozen
class Location(_Wire):
    """A place on a map (type ``location``)."""

    TYPE: ClassVar[str] = "location"

    name: str = attrs.field(validator=_text)
    address: str = attrs.field(validator=_text)
    latitude: float = attrs.field(validator=_latitude)
    longitude: float = attrs.field(validator=_longitude)
    map_url: str | None = attrs.field(default=None, validator=_http_url)


@attrs.frozen
class ContactPerson(_Wire):
    """A contact card (type ``contact_person``): a phone number or an email."""

    TYPE: ClassVar[str] = "contact_person"

    name: str = attrs.field(validator=_non_empty)
    value: str = attrs.field(validator=_non_empty)
    kind: Literal["phone", "email"] = "phone"

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("phone", "email"):
            raise _fail("ContactPerson", "kind", "must be 'phone' or 'email'")


@attrs.frozen
class Reply(_Wire):
    """A reply quoting an earlier comment (type ``reply``)."""

    TYPE: ClassVar[str] = "reply"

    text: str = attrs.field(validator=_non_empty)
    replied_comment_id: int = attrs.field()
    replied_comment_message: str | None = None
    replied_comment_sender: str | None = None

    @replied_comment_id.validator
    def _check_id(self, attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail("Reply", attribute.name, "must be a positive comment id")


@attrs.frozen
class FileAttachment(_Wire):
    """A file or image by URL (type ``file_attachment``)."""

    TYPE: ClassVar[str] = "file_attachment"

    url: str = attrs.field(validator=_required_url)
    caption: str = attrs.field(default="", validator=_text)
    file_name: str = attrs.field(default="", validator=_text)
    size: int = 0
    pages: int = 1


class SystemEventType(enum.Enum):
    """Sub-types of ``system_event`` comments (``qiscus-rest-v2.md``)."""

    CREATE_ROOM = "create_room"
    ADD_MEMBER = "add_member"
    JOIN_ROOM = "join_room"
    REMOVE_MEMBER = "remove_member"
    LEFT_ROOM = "left_room"
    CHANGE_ROOM_NAME = "change_room_name"
    CHANGE_ROOM_AVATAR = "change_room_avatar"
    CUSTOM = "custom"


@attrs.frozen
class SystemEvent(_Wire):
    """A system event comment's payload (read-only: servers create these).

    Attributes:
        event: The sub-type.
        subject_id: Who acted (email in v2, user_id in v2.1).
        subject_name: Their display name.
        object_ids: Whom the event was about (add/remove member).
        object_names: Their display names.
        room_name: The room name, for create/join/left/rename events.
        payload: The application's payload of a ``custom`` event.
    """

    TYPE: ClassVar[str] = "system_event"

    event: SystemEventType
    subject_id: str | None = None
    subject_name: str | None = None
    object_ids: tuple[str, ...] = ()
    object_names: tuple[str, ...] = ()
    room_name: str | None = None
    payload: Mapping[str, Any] | None = None


@attrs.frozen
class RawPayload(_Wire):
    """A payload we do not model, or that did not pass validation: kept as sent.

    Attributes:
        type: The comment type the server gave.
        data: The payload JSON, untouched.
    """

    type: str
    data: Any


#: Any payload a :class:`~aioqiscus.models.Comment` may carry.
Payload = (
    Buttons
    | Card
    | Carousel
    | AccountLinking
    | Custom
    | Location
    | ContactPerson
    | Reply
    | FileAttachment
    | SystemEvent
    | RawPayload
)

#: Payload classes a client may send with ``post_comment``.
SENDABLE: tuple[type[Any], ...] = (
    Buttons,
    Card,
    Carousel,
    AccountLinking,
    Custom,
    Location,
    ContactPerson,
    Reply,
    FileAttachment,
)
