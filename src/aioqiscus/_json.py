"""JSON in and out: msgspec where installed (``aioqiscus[fast]``), else the stdlib.

Strictly private. :func:`loads` and :func:`dumps` are what every other
module calls, through this module (``_json.loads(...)``) so that
:func:`use` can switch them in tests and benchmarks.

Both paths give the same values. msgspec refuses what the standard library
accepts beyond RFC 8259 (``NaN``, ``Infinity``, ``1e400``, lone surrogates):
such a document is handed to the standard library, which decides, so a
response decodes to the same objects, or fails the same way, with or without
the extra. msgspec also keeps integers of any size exact (orjson turns those
beyond 64 bits into floats, which is why it is not used here). Encoding
differs only where the standard library would send invalid JSON: msgspec
writes non-finite floats as ``null`` where ``json`` writes ``NaN``.

Set ``AIOQISCUS_PURE_JSON=1`` to use the standard library even where msgspec
is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["BACKEND", "dumps", "loads", "use"]

Backend = Literal["json", "msgspec"]

# One encoder for every request body (json.dumps with options builds a new
# encoder per call).
_std_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_std_decode = json.JSONDecoder().decode


def std_loads(data: str | bytes) -> Any:
    """``json.loads``, decoding bytes as UTF-8 first.

    Network JSON is UTF-8 (RFC 8259); decoding first skips the encoding
    sniffing ``json.loads`` does for bytes, which still decides for bytes
    that are not UTF-8.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return json.loads(data)
    return _std_decode(data)


def std_dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is."""
    return _std_encode(obj).encode()


_PAIRS: dict[str, tuple[Callable[[str | bytes], Any], Callable[[Any], bytes]]] = {
    "json": (std_loads, std_dumps),
}


class _NotLoadedError(Exception):
    """Stands for msgspec's DecodeError until msgspec is imported."""


def _load_msgspec() -> None:
    """Import msgspec and make its decoder and encoder (on first use).

    ``import aioqiscus`` does not import msgspec: a twentieth of its import
    time, paid by the first JSON call instead.
    """
    global _fast_decode, _fast_encode, _DecodeError  # noqa: PLW0603 - set once
    import msgspec  # noqa: PLC0415 - on first use, not at import

    _fast_decode = msgspec.json.Decoder().decode
    _fast_encode = msgspec.json.Encoder().encode
    _DecodeError = msgspec.DecodeError


def _first_decode(data: str | bytes) -> Any:
    _load_msgspec()
    return _fast_decode(data)


def _first_encode(obj: Any) -> bytes:
    _load_msgspec()
    return _fast_encode(obj)


_fast_decode: Callable[[str | bytes], Any] = _first_decode
_fast_encode: Callable[[Any], bytes] = _first_encode
_DecodeError: type[Exception] = _NotLoadedError

if importlib.util.find_spec("msgspec") is not None:

    def fast_loads(data: str | bytes) -> Any:
        """Decode with msgspec; what it refuses, the standard library decides."""
        try:
            return _fast_decode(data)
        except _DecodeError:
            return std_loads(data)

    def fast_dumps(obj: Any) -> bytes:
        """Encode with msgspec; what it cannot encode, the standard library tries."""
        try:
            return _fast_encode(obj)
        except TypeError:
            return std_dumps(obj)

    _PAIRS["msgspec"] = (fast_loads, fast_dumps)


def _default() -> Backend:
    if os.environ.get("AIOQISCUS_PURE_JSON"):
        return "json"
    return "msgspec" if "msgspec" in _PAIRS else "json"


#: The library in use: ``"msgspec"`` with ``aioqiscus[fast]``, else ``"json"``.
BACKEND: Backend = _default()
loads, dumps = _PAIRS[BACKEND]


def use(backend: Backend) -> None:
    """Switch the JSON library (tests and benchmarks compare both paths).

    Raises:
        ValueError: *backend* is not installed.
    """
    global BACKEND, loads, dumps  # noqa: PLW0603 - the module is the switch
    if backend not in _PAIRS:
        msg = f"JSON backend {backend!r} is not installed (have {sorted(_PAIRS)})"
        raise ValueError(msg)
    BACKEND = backend
    loads, dumps = _PAIRS[backend]
