"""Comment payloads to and from the wire (pure; shared by both dialects).

Payload JSON is the same in both dialects (``qiscus-rest-v2.md``,
``v2.1/comment.md``) except where noted: a card's image is ``image_url`` in
v2 requests and ``image`` in v2.1 requests and in every response; system
events name people by ``*_email`` in v2 and may say ``*_user_id`` in v2.1.

Holds :func:`to_wire`, :func:`summary` and :func:`from_wire`, and
:func:`drop_none`, which payloads and the dialects' request bodies share.
The payload classes' public ``to_wire()`` and :func:`aioqiscus.payloads.from_wire`
are these two functions: one writer and one reader for requests, imports and
users' own storage alike. ``from_wire(T, to_wire(p))`` gives ``p`` back for
every payload ``p`` (tested with hypothesis in ``tests/test_payloads.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import payloads
from .._payload_rules import METHODS, is_http_url
from .._wire import Dialect
from ._assemble import assembler

# ---------------------------------------------------------------- to the wire


def _button(button: payloads.Button) -> dict[str, Any]:
    if button.type == "link":
        action: dict[str, Any] = {"url": button.url}
    else:
        action = {"url": button.url, "method": button.method, "payload": button.payload}
    data: dict[str, Any] = {
        "label": button.label,
        "type": button.type,
        "payload": action,
    }
    if button.postback_text:
        data["postback_text"] = button.postback_text
    return data


def _action(button: payloads.Button) -> dict[str, Any]:
    """A carousel card's ``default_action``: a button without a label.

    v2.1/comment.md gives it none; a reader calls it after its
    ``postback_text`` (else "open"), so a label that differs is kept in an
    extra ``label`` key (servers keep payload JSON as sent).
    """
    data = _button(button)
    if data["label"] == _unlabelled(data):
        del data["label"]
    return data


def _unlabelled(action: Mapping[str, Any]) -> str:
    """What a default action without ``label`` is called."""
    return _str(action, "postback_text") or "open"


def drop_none(**fields: Any) -> dict[str, Any]:
    """A JSON object without the unset optional fields."""
    return {k: v for k, v in fields.items() if v is not None}


def _card(payload: payloads.Card, dialect: Dialect) -> dict[str, Any]:
    image_key = "image_url" if dialect is Dialect.V2 else "image"
    return drop_none(
        text=payload.text,
        title=payload.title,
        description=payload.description,
        url=payload.url,
        buttons=[_button(b) for b in payload.buttons],
        **{image_key: payload.image_url},
    )


def _carousel(payload: payloads.Carousel, _: Dialect) -> dict[str, Any]:
    return {
        "cards": [
            drop_none(
                image=card.image_url,
                title=card.title,
                description=card.description,
                default_action=(
                    _action(card.default_action) if card.default_action else None
                ),
                buttons=[_button(b) for b in card.buttons],
            )
            for card in payload.cards
        ]
    }


def _contact_person(payload: payloads.ContactPerson, _: Dialect) -> dict[str, Any]:
    return {"name": payload.name, "value": payload.value, "type": payload.kind}


def _write_system_event(
    payload: payloads.SystemEvent, dialect: Dialect
) -> dict[str, Any]:
    """A system event as the comment payloads of *dialect* show it.

    Who and whom by ``*_email`` in v2 and ``*_user_id`` in v2.1; a custom
    event's own payload nested under ``payload`` (v2.1/comment.md, Post
    System Event Message), which both readers take.
    """
    key = "email" if dialect is Dialect.V2 else "user_id"
    data = drop_none(
        type=payload.event.value,
        subject_username=payload.subject_name,
        room_name=payload.room_name,
        **{f"subject_{key}": payload.subject_id},
    )
    if payload.object_ids:
        data[f"object_{key}_list"] = list(payload.object_ids)
    if payload.object_names:
        data["object_username_list"] = list(payload.object_names)
    if payload.event is payloads.SystemEventType.CUSTOM:
        data["payload"] = None if payload.payload is None else dict(payload.payload)
    return data


_WRITERS: dict[type[Any], Callable[[Any, Dialect], dict[str, Any]]] = {
    payloads.Buttons: lambda p, _: {
        "text": p.text,
        "buttons": [_button(b) for b in p.buttons],
    },
    payloads.Card: _card,
    payloads.Carousel: _carousel,
    payloads.AccountLinking: lambda p, _: drop_none(
        text=p.text, url=p.url, redirect_url=p.redirect_url, params=dict(p.params)
    ),
    payloads.Custom: lambda p, _: {"type": p.subtype, "content": p.content},
    payloads.Location: lambda p, _: drop_none(
        name=p.name,
        address=p.address,
        latitude=p.latitude,
        longitude=p.longitude,
        map_url=p.map_url,
    ),
    payloads.ContactPerson: _contact_person,
    payloads.Reply: lambda p, _: drop_none(
        text=p.text,
        replied_comment_id=p.replied_comment_id,
        replied_comment_message=p.replied_comment_message,
        replied_comment_sender_email=p.replied_comment_sender,
    ),
    payloads.FileAttachment: lambda p, _: {
        "url": p.url,
        "caption": p.caption,
        "file_name": p.file_name,
        "size": p.size,
        "pages": p.pages,
    },
    payloads.SystemEvent: _write_system_event,
    payloads.RawPayload: lambda p, _: (
        p.data if isinstance(p.data, dict) else {"data": p.data}
    ),
}


def to_wire(payload: Any, dialect: Dialect) -> dict[str, Any]:
    """The JSON payload of *payload* as *dialect* expects it in a request."""
    writer = _WRITERS.get(type(payload))
    if writer is None:
        msg = f"cannot send a {type(payload).__name__} payload"
        raise TypeError(msg)
    return writer(payload, dialect)


def summary(payload: Any) -> str:
    """The comment text a payload implies, used when *message* is empty."""
    if isinstance(payload, payloads.Buttons | payloads.AccountLinking | payloads.Reply):
        return payload.text
    if isinstance(payload, payloads.Card):
        return payload.text or payload.title
    if isinstance(payload, payloads.Location):
        return " ".join(
            p for p in (payload.name, payload.address, payload.map_url) if p
        )
    if isinstance(payload, payloads.ContactPerson):
        return f"{payload.name} - {payload.value}"
    if isinstance(payload, payloads.FileAttachment):
        return f"[file] {payload.url} [/file]"
    return ""


# ---------------------------------------------------------------- from the wire

# Each reader takes its values out of the payload JSON, then checks them as
# the payload class's __init__ would (its validators and
# __attrs_post_init__, on values the reader has already made strings,
# tuples and payloads), and builds the payload with an assembler that only
# sets the fields: __init__ checks each field again through attrs, which cost
# a card 2 µs of a page's 3. A failed check raises, and from_wire keeps the
# payload as sent (RawPayload), as a refusing __init__ made it
# (tests/test_payloads.py reads random payloads with the classes'
# constructors in place of these assemblers, and compares).


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    if type(value) is str:  # the hot path: payload parsing runs per comment
        return value
    if value is None:
        return default
    if not isinstance(value, str):
        msg = f"{key} must be a string"
        raise TypeError(msg)
    return value


def _count(data: Mapping[str, Any], key: str, default: int) -> int:
    """A whole number; *default* when missing or null (``0`` stays ``0``)."""
    value = data.get(key)
    return default if value is None else int(value)


def _url(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if value:
            return value if type(value) is str else _str(data, key)
    return None


def _refused(what: str) -> ValueError:
    """The error of a payload its class would refuse (from_wire keeps it raw)."""
    return ValueError(f"{what} does not pass its class's checks")


#: :func:`is_http_url`'s verdicts on URLs read before, up to a bound: pages
#: repeat their buttons' and images' URLs (a bot's menu, a shop's cards),
#: and a lookup costs a third of the check. Only short URLs are kept, and
#: the table is emptied when full, so it never holds more than a few
#: hundred kilobytes.
_VERDICTS: dict[str, bool] = {}
_VERDICTS_MAX, _KEPT_URL_MAX = 1024, 256


def _http_url(value: str) -> bool:
    """:func:`is_http_url`, remembered for short URLs."""
    verdict = _VERDICTS.get(value)
    if verdict is None:
        verdict = is_http_url(value)
        if len(value) <= _KEPT_URL_MAX:
            if len(_VERDICTS) >= _VERDICTS_MAX:
                _VERDICTS.clear()
            _VERDICTS[value] = verdict
    return verdict


def _is_url(value: str | None) -> bool:
    """The ``_http_url`` validator's verdict on a string or ``None``."""
    return value is None or _http_url(value)


_new_button = assembler(payloads.Button, checked=True)
_new_buttons = assembler(payloads.Buttons, checked=True)
_new_card = assembler(payloads.Card, checked=True)
_new_carousel_card = assembler(payloads.CarouselCard, checked=True)
_new_carousel = assembler(payloads.Carousel, checked=True)
_new_account_linking = assembler(payloads.AccountLinking, checked=True)
_new_custom = assembler(payloads.Custom, checked=True)
_new_location = assembler(payloads.Location, checked=True)
_new_contact_person = assembler(payloads.ContactPerson, checked=True)
_new_file_attachment = assembler(payloads.FileAttachment, checked=True)
_new_system_event = assembler(payloads.SystemEvent)
_new_raw = assembler(payloads.RawPayload)


def _parse_button(data: Any, label: Any = None) -> payloads.Button:
    """A button; *label* is a default action's (it may have none of its own)."""
    # The hot path of payloads (a page holds dozens of buttons): strings
    # are taken as they are, anything else goes through _str.
    get = data.get
    action = get("payload") or {}
    kind = get("type")
    if label is None:
        label = get("label")
        if type(label) is not str:
            label = _str(data, "label")
    url = action.get("url")
    if type(url) is not str:
        url = _str(action, "url")
    said = get("postback_text")
    if type(said) is not str:
        said = "" if said is None else _str(data, "postback_text")
    method: Any = "get"
    payload: Any = None
    if kind == "postback":
        method = action.get("method")
        if type(method) is not str:
            method = _str(action, "method")
        if method not in METHODS:  # else lower() would give it back
            method = (method or "get").lower()
        payload = action.get("payload")
    elif kind != "link":
        # Every document names the type; one we do not model is not read as
        # a postback: the payload is kept as sent (RawPayload).
        msg = f"unknown button type {kind!r:.40}"
        raise TypeError(msg)
    # Button.__attrs_post_init__'s checks that strings of a known type can fail.
    if not label.strip() or not _http_url(url) or method not in METHODS:
        raise _refused("button")
    return _new_button(label, kind, url, method, payload, said)


def _parse_action(data: Any) -> payloads.Button | None:
    if not data:
        return None
    return _parse_button(data, _str(data, "label") or _unlabelled(data))


def _buttons(data: Mapping[str, Any]) -> tuple[payloads.Button, ...]:
    raw = data.get("buttons") or []
    if not isinstance(raw, list):
        msg = "buttons must be a list"
        raise TypeError(msg)
    return tuple([_parse_button(b) for b in raw])


def _read_buttons(data: Mapping[str, Any]) -> payloads.Buttons:
    text, buttons = _str(data, "text"), _buttons(data)
    if not buttons:
        raise _refused("buttons")
    return _new_buttons(text, buttons)


def _read_card(data: Mapping[str, Any]) -> payloads.Card:
    title = _str(data, "title")
    text = _str(data, "text")
    description = _str(data, "description")
    image_url = _url(data, "image", "image_url")
    url = _url(data, "url")
    buttons = _buttons(data)
    if not title.strip() or not _is_url(image_url) or not _is_url(url):
        raise _refused("card")
    return _new_card(title, text, description, image_url, url, buttons)


def _carousel_card(data: Mapping[str, Any]) -> payloads.CarouselCard:
    title = _str(data, "title")
    description = _str(data, "description")
    image_url = _url(data, "image", "image_url")
    action = _parse_action(data.get("default_action"))
    buttons = _buttons(data)
    if not title.strip() or not _is_url(image_url):
        raise _refused("carousel card")
    return _new_carousel_card(title, description, image_url, action, buttons)


def _read_carousel(data: Mapping[str, Any]) -> payloads.Carousel:
    cards = tuple([_carousel_card(card) for card in data["cards"]])
    if not cards:
        raise _refused("carousel")
    return _new_carousel(cards)


def _read_account_linking(data: Mapping[str, Any]) -> payloads.AccountLinking:
    text = _str(data, "text")
    url = _str(data, "url")
    redirect_url = _url(data, "redirect_url")
    params = dict(data.get("params") or {})
    if not _http_url(url) or not _is_url(redirect_url):
        raise _refused("account linking")
    return _new_account_linking(text, url, redirect_url, params)


def _read_custom(data: Mapping[str, Any]) -> payloads.Custom:
    subtype = _str(data, "type")
    if not subtype.strip():
        raise _refused("custom payload")
    return _new_custom(subtype, data.get("content"))


def _read_contact_person(data: Mapping[str, Any]) -> payloads.ContactPerson:
    name = _str(data, "name")
    value = _str(data, "value")
    kind = _str(data, "type", "phone") or "phone"
    if not name.strip() or not value.strip() or kind not in ("phone", "email"):
        raise _refused("contact")
    return _new_contact_person(name, value, kind)


def _read_file_attachment(data: Mapping[str, Any]) -> payloads.FileAttachment:
    url = _str(data, "url")
    caption = _str(data, "caption")
    file_name = _str(data, "file_name")
    size = _count(data, "size", 0)
    pages = _count(data, "pages", 1)
    if not _http_url(url):
        raise _refused("file attachment")
    return _new_file_attachment(url, caption, file_name, size, pages)


def _names(data: Mapping[str, Any], single: str, many: str) -> tuple[str, ...]:
    listed = data.get(many)
    if isinstance(listed, list) and listed:
        return tuple([str(v) for v in listed if v])
    value = data.get(single)
    return (str(value),) if value else ()


def _subject(data: Mapping[str, Any]) -> str | None:
    return _str(data, "subject_email") or _str(data, "subject_user_id") or None


def _event(
    kind: payloads.SystemEventType, data: Mapping[str, Any], payload: Any = None
) -> payloads.SystemEvent:
    """A system event with who, whom and where, as the payload says."""
    return _new_system_event(
        kind,
        _subject(data),
        _str(data, "subject_username") or None,
        _names(data, "object_email", "object_email_list")
        or _names(data, "object_user_id", "object_user_id_list"),
        _names(data, "object_username", "object_username_list"),
        _str(data, "room_name") or None,
        payload,
    )


#: The event types a system event's ``type`` names, but ``custom``: what
#: ``SystemEventType(kind)`` gives, without the enum's call (a µs each).
_KNOWN_EVENTS = {
    e.value: e
    for e in payloads.SystemEventType
    if e is not payloads.SystemEventType.CUSTOM
}


def _system_event(data: Mapping[str, Any]) -> payloads.SystemEvent:
    kind = data.get("type")
    known = _KNOWN_EVENTS.get(kind)
    if known is not None:
        return _event(known, data)
    if kind != "custom":
        # v2 echoes a custom event's own payload (qiscus-rest-v2.md: "the
        # response payload string will be the same as you have inputted").
        return _new_system_event(
            payloads.SystemEventType.CUSTOM, _subject(data), None, (), (), None, data
        )
    # v2.1 nests it under payload, beside who, whom and where (the Go SDK's
    # PostSystemEventMessageResponse); a custom event may have none (null).
    inner = data.get("payload")
    if inner is not None and not isinstance(inner, dict):
        inner = {"value": inner}
    return _event(payloads.SystemEventType.CUSTOM, data, inner)


def _within(value: Any, bound: float) -> bool:
    """Whether *value* is a JSON number in ``[-bound, bound]`` (NaN is not)."""
    kind = type(value)
    return (kind is float or kind is int) and -bound <= value <= bound


def _read_location(data: Mapping[str, Any]) -> payloads.Payload:
    latitude, longitude = data["latitude"], data["longitude"]
    if not (_within(latitude, 90.0) and _within(longitude, 180.0)):
        # Location would refuse it (a raised error costs more than the
        # page's other payloads together): kept as sent, as from_wire does.
        return _new_raw("location", data)
    name = _str(data, "name")
    address = _str(data, "address")
    map_url = _url(data, "map_url")
    if not _is_url(map_url):
        raise _refused("location")
    return _new_location(name, address, latitude, longitude, map_url)


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "buttons": _read_buttons,
    "card": _read_card,
    "carousel": _read_carousel,
    "account_linking": _read_account_linking,
    "custom": _read_custom,
    "location": _read_location,
    "contact_person": _read_contact_person,
    "reply": lambda d: payloads.Reply(
        _str(d, "text"),
        d["replied_comment_id"],
        d.get("replied_comment_message"),
        d.get("replied_comment_sender_email"),
    ),
    "file_attachment": _read_file_attachment,
    "system_event": _system_event,
}


def from_wire(comment_type: str, data: Any) -> payloads.Payload | None:
    """The typed payload of a comment of *comment_type*.

    ``text`` comments and empty payloads give ``None``. Unknown types, and
    payloads that do not pass the payload classes' validation, give a
    :class:`RawPayload` holding the JSON as sent: never an exception.
    """
    if data is None or data == {} or comment_type == "text":
        return None if not data else _new_raw(comment_type, data)
    parse = _PARSERS.get(comment_type)
    if parse is None or not isinstance(data, dict):
        return _new_raw(comment_type, data)
    try:
        result: payloads.Payload = parse(data)
    except (ValueError, TypeError, KeyError, AttributeError):
        return _new_raw(comment_type, data)
    return result
