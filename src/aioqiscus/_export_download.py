"""Downloading an export's file: bounded, retried, all or nothing.

Strictly private: :meth:`~aioqiscus.QiscusClient.download_export` uses it.
The file comes through the client's backend (an injected ``httpx`` client,
the in-process fake and aiohttp alike), without the app's credentials: the
documents' ``download_url`` is a CDN link (``res.cloudinary.com``), not the
API. Each attempt writes into a :class:`Sink` that starts over on a retry
and leaves nothing behind on failure.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Protocol

import anyio

from ._envelope import error_from
from ._retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds
from ._wire import RawResponse
from .backends import Backend
from .errors import InvalidArgumentError, ResponseTooLargeError, TransportError

__all__ = ["FileSink", "MemorySink", "PathSink", "Sink", "download", "sink_for"]


class Sink(Protocol):
    """Where an attempt's bytes go; strictly private."""

    size: int

    def write(self, data: bytes) -> None:
        """Add one chunk."""

    def reset(self) -> None:
        """Forget what an earlier attempt wrote."""

    def commit(self) -> None:
        """Keep what was written: the download succeeded."""

    def discard(self) -> None:
        """Undo everything: the download failed."""


class MemorySink:
    """The file in memory, to parse (bounded by the download's limit)."""

    def __init__(self) -> None:
        self.size = 0
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self._chunks.append(data)

    def reset(self) -> None:
        self.size = 0
        self._chunks.clear()

    def commit(self) -> None:
        """Nothing to do: :meth:`data` reads it."""

    def discard(self) -> None:
        self.reset()

    def data(self) -> bytes:
        """Everything written."""
        return b"".join(self._chunks)


class PathSink:
    """A file on disk, written as ``<name>.part`` and renamed when complete."""

    def __init__(self, path: Path) -> None:
        self.size = 0
        self._path = path
        self._part = path.with_name(path.name + ".part")
        self._handle: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._handle is None:
            self._handle = self._part.open("wb")
        self._handle.write(data)
        self.size += len(data)

    def reset(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
        self.size = 0

    def commit(self) -> None:
        if self._handle is None:  # an empty file: nothing was written
            self._handle = self._part.open("wb")
        with self._handle:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        self._handle = None
        self._part.replace(self._path)

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._part.unlink(missing_ok=True)


class FileSink:
    """A binary file object of the caller's, rolled back if it can seek."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.size = 0
        self._handle = handle
        self._start = handle.tell() if handle.seekable() else None

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self.size += len(data)

    def reset(self) -> None:
        if self.size and self._start is None:
            msg = "the download failed midway into a file that cannot seek back"
            raise TransportError(msg)
        if self._start is not None:
            self._handle.seek(self._start)
            self._handle.truncate()
        self.size = 0

    def commit(self) -> None:
        self._handle.flush()

    def discard(self) -> None:
        if self._start is not None:
            self.reset()


def sink_for(to: str | os.PathLike[str] | IO[bytes] | None) -> Sink:
    """The sink for download_export's *to*, checked before any request.

    Raises:
        InvalidArgumentError: *to* is a directory, in a missing directory,
            or neither a path nor a binary file open for writing.
    """
    if to is None:
        return MemorySink()
    if isinstance(to, str | os.PathLike):
        path = Path(to)
        if path.is_dir():
            msg = f"to={path} is a directory; give a file name"
            raise InvalidArgumentError(msg)
        if not path.parent.is_dir():
            msg = f"to={path}: the directory {path.parent} does not exist"
            raise InvalidArgumentError(msg)
        return PathSink(path)
    given: object = to  # callers are not always type-checked
    text = isinstance(given, io.TextIOBase) or "b" not in getattr(given, "mode", "b")
    if callable(getattr(to, "write", None)) and not text:
        return FileSink(to)
    msg = f"to must be a path or a binary file, not {type(to).__name__}"
    raise InvalidArgumentError(msg)


async def _attempt(backend: Backend, url: str, sink: Sink, limit: int) -> RawResponse:
    """One GET of *url* into *sink*; the answer's status tells the outcome."""
    download = getattr(backend, "download", None)
    if download is not None:
        raw: RawResponse = await download(url, sink.write, limit=limit)
        return raw
    # A Backend of the user's own may only send: the body comes whole
    # (within its own limit), redirects unfollowed.
    raw = await backend.send(
        "GET", url, query=(), headers={}, content=None, files=None, form=None
    )
    if raw.status_code == 200:  # noqa: PLR2004
        if len(raw.body) > limit:
            msg = f"{len(raw.body)} bytes"
            raise ResponseTooLargeError(msg, limit=limit)
        sink.write(raw.body)
    return raw


async def download(
    backend: Backend, url: str, sink: Sink, *, limit: int, retry: RetryPolicy
) -> None:
    """GET *url* into *sink*, retrying like the client; commit or discard.

    Retries transport failures and 408/429/5xx answers as *retry* says
    (``Retry-After`` honoured), each attempt from the start of the file.

    Raises:
        ResponseTooLargeError: The file is larger than *limit* bytes.
        APIError: The final answer was not 200 (``NotFoundError``, ...).
        TransportError: The connection failed on the last attempt.
    """
    attempt = 0
    try:
        while True:
            attempt += 1
            sink.reset()
            try:
                raw = await _attempt(backend, url, sink, limit)
            except ResponseTooLargeError:
                raise
            except TransportError:
                if attempt > retry.max_retries:
                    raise
                delay = retry.backoff(attempt)
            else:
                if raw.status_code == 200:  # noqa: PLR2004
                    break
                if raw.status_code not in RETRY_STATUSES or attempt > retry.max_retries:
                    raise error_from(raw)
                delay = retry.backoff(attempt, retry_after_seconds(raw.headers))
            await anyio.sleep(delay)
        sink.commit()
    except BaseException:
        sink.discard()
        raise
