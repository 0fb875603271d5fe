"""Compare the shapes of two JSON documents: key presence and JSON type.

Pure functions, no I/O. Values are ignored except under the enum keys
(:data:`ENUM_KEYS`), where a new value changes what the client decides;
application data (:data:`FREE_FORM_KEYS`) is compared by JSON type only.
Arrays are compared element by element when both have the same length, and
otherwise against the merged shape of their elements (a server that adds a
system comment to a history must not make every later comment "differ").

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

#: Keys whose string values are compared, not just typed: the client
#: branches on them (room type, comment type, system event type).
ENUM_KEYS = frozenset({"room_type", "chat_type", "type", "system_event_type"})

#: Keys holding application-defined data (a user's or comment's ``extras``):
#: only their JSON type is compared, never the keys inside, which differ from
#: one user or comment to the next on any real app.
FREE_FORM_KEYS = frozenset({"extras"})

FindingKind = Literal["missing", "type", "value", "status", "extra"]


@attrs.frozen(order=True)
class Finding:
    """One difference at a key path (``results.room.room_options``).

    ``extra`` findings (keys the server adds) are informational; every other
    kind means the server differs from what the fake answers.
    """

    path: str
    kind: FindingKind
    detail: str = ""

    @property
    def informational(self) -> bool:
        """Whether this finding is only news (an extra key), not a difference."""
        return self.kind == "extra"

    def __str__(self) -> str:
        if self.kind not in ("missing", "extra"):
            return f"{self.path}: {self.detail}"
        text: str = self.kind
        if self.detail:
            text += f" ({self.detail})"
        return f"{self.path}: {text}"


_SCALARS: tuple[tuple[type[Any], str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (Mapping, "object"),
)


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``integer`` apart from ``number``)."""
    if value is None:
        return "null"
    for cls, name in _SCALARS:
        if isinstance(value, cls):
            return name
    return "array"


@attrs.frozen
class Shape:
    """What one or several JSON values look like, merged.

    Attributes:
        types: JSON types seen.
        keys: Per object key, the merged shape of its values.
        required: Keys present in every object seen.
        items: Per array seen, the shapes of its elements (flattened when merged).
        values: String values seen, kept only under :data:`ENUM_KEYS`.
    """

    types: frozenset[str] = frozenset()
    keys: Mapping[str, Shape] = attrs.field(factory=dict)
    required: frozenset[str] = frozenset()
    items: tuple[Shape, ...] = ()
    values: frozenset[str] = frozenset()


def shape_of(value: Any, key: str = "") -> Shape:
    """The shape of one decoded JSON value found under *key*."""
    kind = json_type(value)
    if kind == "object" and key in FREE_FORM_KEYS:
        return Shape(frozenset({kind}))
    if kind == "object":
        keys = {str(k): shape_of(v, str(k)) for k, v in value.items()}
        return Shape(frozenset({kind}), keys, frozenset(keys))
    if kind == "array":
        return Shape(frozenset({kind}), items=tuple(shape_of(v, key) for v in value))
    values = (
        frozenset({value}) if kind == "string" and key in ENUM_KEYS else frozenset()
    )
    return Shape(frozenset({kind}), values=values)


def merge(shapes: Iterable[Shape]) -> Shape:
    """One shape describing every value of *shapes*."""
    found = list(shapes)
    if not found:
        return Shape()
    objects = [s for s in found if "object" in s.types]
    names = {k for s in objects for k in s.keys}
    keys = {
        name: merge(s.keys[name] for s in objects if name in s.keys) for name in names
    }
    required = (
        frozenset.intersection(*(s.required for s in objects))
        if objects
        else (frozenset())
    )
    return Shape(
        frozenset().union(*(s.types for s in found)),
        keys,
        required,
        tuple(item for s in found for item in s.items),
        frozenset().union(*(s.values for s in found)),
    )


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def _new_types(actual: frozenset[str], expected: frozenset[str]) -> frozenset[str]:
    """Types seen that the expected shape does not allow (an integer is a number)."""
    allowed = expected | ({"integer"} if "number" in expected else set())
    return actual - allowed


def compare(actual: Shape, expected: Shape, path: str = "") -> list[Finding]:
    """Every way *actual* departs from *expected*, sorted by path.

    Nothing is reported below a value whose expected shape is unknown (an
    empty array on the expected side tells nothing about its elements).
    """
    found: set[Finding] = set()
    _compare(actual, expected, path, found)
    return sorted(found)


def diff(actual: Any, expected: Any) -> list[Finding]:
    """:func:`compare` of two decoded JSON documents."""
    return compare(shape_of(actual), shape_of(expected))


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _compare(actual: Shape, expected: Shape, path: str, out: set[Finding]) -> None:
    if not expected.types or not actual.types:
        return
    where = path or "(body)"
    new = _new_types(actual.types, expected.types)
    if new:
        detail = f"{_types(expected.types)} -> {_types(actual.types)}"
        out.add(Finding(where, "type", detail))
    unseen = actual.values - expected.values
    if expected.values and unseen:
        shown = ", ".join(repr(v) for v in sorted(unseen))
        out.add(Finding(where, "value", f"{shown} not in {sorted(expected.values)}"))
    if "object" in actual.types and "object" in expected.types:
        _compare_keys(actual, expected, path, out)
    if actual.items and expected.items:
        inner = f"{path}[]"
        if len(actual.items) == len(expected.items):
            for mine, theirs in zip(actual.items, expected.items, strict=True):
                _compare(mine, theirs, inner, out)
        else:
            _compare(merge(actual.items), merge(expected.items), inner, out)


def _compare_keys(actual: Shape, expected: Shape, path: str, out: set[Finding]) -> None:
    for name, theirs in expected.keys.items():
        where = _child(path, name)
        mine = actual.keys.get(name)
        if mine is None:
            out.add(Finding(where, "missing"))
            continue
        if name in expected.required and name not in actual.required:
            out.add(Finding(where, "missing", "in some elements"))
        _compare(mine, theirs, where, out)
    for name in sorted(set(actual.keys) - set(expected.keys)):
        kinds = _types(actual.keys[name].types)
        out.add(Finding(_child(path, name), "extra", kinds))
