"""Frozen models built from values already read and checked: the hot path.

attrs' ``__init__`` of a frozen class sets each field through
``object.__setattr__``, which looks the field up on the class every time,
and a page of comments builds a hundred. :func:`assembler` writes, once per
class, a function that builds the object as an instance of a mutable twin
(a subclass adding no slots, with ``object``'s own ``__setattr__`` and
``__delattr__``), whose plain attribute stores Python specialises to a
write into the slot, then gives it its real class: a third of what calling
each slot's descriptor costs, which was a third less than ``__init__``.
Python itself refuses the class change unless both layouts are the same;
where it refuses, the function calls the descriptors instead.

It is written only for classes without validators or converters (checks
belong in ``__attrs_post_init__``, which it calls as ``__init__`` does), and
it takes every field, so what it builds is what ``cls(*values)`` builds.

A payload read from the wire is checked by its reader
(``dialects/_payloads.py``) as its class's ``__init__`` would check it,
validators and ``__attrs_post_init__`` alike: ``assembler(cls, checked=True)``
then only sets the fields, a fraction of what ``__init__`` costs for a card
(``tests/test_payloads.py`` builds every read both ways and compares).
Public constructors always validate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


def _twin(cls: type) -> type | None:
    """A subclass of *cls* whose instances take plain stores, or None.

    None where Python would not let an instance of it become a *cls*.
    """
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": cls.__module__,
        "__doc__": f"Strictly private: a {cls.__name__} being assembled.",
    }
    twin = type(f"_Assembled{cls.__name__}", (cls,), namespace)
    try:
        probe: Any = object.__new__(twin)
        probe.__class__ = cls
    except TypeError:
        return None
    return twin


def twin(cls: type) -> type:
    """The mutable twin of a slotted attrs class without checks, to fill in.

    Set every field of an instance of it, then give it *cls* as its
    ``__class__``: what :func:`assembler`'s function does, for a caller
    that builds so many that the call counts (a page's comments).

    Raises:
        TypeError: *cls* is not such a class, or Python would not let an
            instance of the twin become a *cls*.
    """
    _check(cls, checked=False)
    found = _twin(cls)
    if found is None or hasattr(cls, "__attrs_post_init__"):
        msg = f"a {cls.__name__} cannot be assembled in place"
        raise TypeError(msg)
    return found


def _check(cls: type, *, checked: bool) -> None:
    """Refuse a class whose ``__init__`` does more than an assembler can."""
    fields = attrs.fields(cls)
    plain = checked or all(f.validator is None and f.converter is None for f in fields)
    if "__slots__" not in vars(cls) or not plain or hasattr(cls, "__attrs_pre_init__"):
        msg = f"{cls.__name__}.__init__ does more than set its fields and check them"
        raise TypeError(msg)


def assembler(cls: type[T], *, checked: bool = False) -> Callable[..., T]:
    """A function of all of *cls*'s fields, in order, that builds one.

    Args:
        cls: A slotted attrs class.
        checked: Whether the caller has made every check ``__init__`` makes
            (validators, ``__attrs_post_init__``) and passes converted
            values: then the function only sets the fields.

    Raises:
        TypeError: *cls* is not a slotted attrs class, it has
            ``__attrs_pre_init__``, or (unless *checked*) a validator or a
            converter.
    """
    _check(cls, checked=checked)
    fields = attrs.fields(cls)  # type: ignore[arg-type]  # checked at run time
    post_init = hasattr(cls, "__attrs_post_init__") and not checked
    check = ["    self.__attrs_post_init__()"] * post_init
    names = [f.name for f in fields]
    twin = _twin(cls)
    if twin is not None:
        body = [
            "    self = new(twin)",
            *(f"    self.{n} = v_{n}" for n in names),
            "    self.__class__ = cls",
        ]
    else:
        body = ["    self = new(cls)", *(f"    set_{n}(self, v_{n})" for n in names)]
    source = "\n".join(
        [
            f"def assemble({', '.join(f'v_{n}' for n in names)}):",
            *body,
            *check,
            "    return self",
        ]
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "twin": twin}
    namespace.update({f"set_{n}": getattr(cls, n).__set__ for n in names})
    exec(compile(source, f"<aioqiscus assembler {cls.__name__}>", "exec"), namespace)  # noqa: S102 - generated from field names, as attrs does
    assemble: Callable[..., T] = namespace["assemble"]
    assemble.__doc__ = f"A {cls.__name__} from all its fields, in order."
    return assemble
