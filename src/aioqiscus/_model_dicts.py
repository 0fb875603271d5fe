"""Users, rooms and comments as plain JSON values, to store and read back.

Strictly private: :func:`aioqiscus.models.to_dict` and
:func:`aioqiscus.models.from_dict` are its face. This is not a wire format:
it is aioqiscus's own shape (the models' field names), so a value stored
today reads back with any dialect. Datetimes are ISO 8601 strings, enums
their values, payloads ``{"type", "data"}`` with ``data`` their wire form
(``to_wire()``; a :class:`~aioqiscus.payloads.RawPayload` keeps its JSON as
it came, marked ``"raw": true``). A user's ``token`` is left out unless
asked for: stored models are logged, copied and shared more than secrets
should be.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .errors import InvalidArgumentError
from .models import Comment, Room, User
from .payloads import Payload, RawPayload, from_wire

__all__ = ["from_dict", "to_dict"]

Model = TypeVar("Model", User, Room, Comment)
#: What callers may store (checked at run time: callers are not always typed).
_STORED: frozenset[object] = frozenset({User, Room, Comment})


def _dump_payload(payload: Payload | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    if isinstance(payload, RawPayload):
        return {"type": payload.type, "raw": True, "data": payload.data}
    return {"type": payload.TYPE, "data": payload.to_wire()}


def _load_payload(data: Any, _: Any) -> Payload | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
        msg = "payload must be null or an object with a string type"
        raise TypeError(msg)
    if data.get("raw"):
        return RawPayload(data["type"], data.get("data"))
    return from_wire(data["type"], data.get("data"))


def _load_time(value: Any, _: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        msg = "a time must be an ISO 8601 string"
        raise TypeError(msg)
    return datetime.fromisoformat(value)


@functools.cache
def _converter(*, include_token: bool) -> cattrs.Converter:
    """One converter per token policy, built on first use."""
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(datetime, _load_time)
    conv.register_unstructure_hook(
        User,
        make_dict_unstructure_fn(User, conv, token=override(omit=not include_token)),
    )
    conv.register_structure_hook(User, make_dict_structure_fn(User, conv))
    conv.register_unstructure_hook(
        Comment,
        make_dict_unstructure_fn(
            Comment, conv, payload=override(unstruct_hook=_dump_payload)
        ),
    )
    conv.register_structure_hook(
        Comment,
        make_dict_structure_fn(
            Comment, conv, payload=override(struct_hook=_load_payload)
        ),
    )
    return conv


def to_dict(value: User | Room | Comment, *, include_token: bool = False) -> Any:
    """*value* as JSON values (see the module docstring)."""
    if type(value) not in _STORED:
        msg = f"to_dict takes a User, Room or Comment, not {type(value).__name__}"
        raise InvalidArgumentError(msg)
    return _converter(include_token=include_token).unstructure(value)


def from_dict(cls: type[Model], data: Mapping[str, Any]) -> Model:
    """The *cls* that :func:`to_dict` gave *data* for."""
    if cls not in _STORED:
        msg = f"from_dict builds a User, Room or Comment, not {cls!r}"
        raise InvalidArgumentError(msg)
    try:
        return _converter(include_token=True).structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        msg = f"not a stored {cls.__name__}: {exc}"
        raise InvalidArgumentError(msg) from exc
