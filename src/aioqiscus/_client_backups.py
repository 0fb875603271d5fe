"""Export and import coroutines, mixed into :class:`~aioqiscus.QiscusClient`."""

from __future__ import annotations

import os
from collections.abc import (
    Awaitable,
    Callable,
)
from datetime import date
from typing import IO, TYPE_CHECKING, Literal, TypeVar, overload

from . import _export_download
from ._backup_wait import failed, wait_for_backup
from ._validate import (
    check_dates,
    check_import_data,
    check_optional_text,
    check_page_size,
    check_path_id,
    check_polling,
    check_resource,
)
from ._wire import Call, Operation
from .errors import InvalidArgumentError, NotFoundError, ResponseTooLargeError
from .models import (
    Backup,
    BackupResource,
    BackupStatus,
    ExportRecord,
)

if TYPE_CHECKING:
    from ._transport import Transport
    from .dialects import Codec

__all__: list[str] = []

#: download_export's default size limit: ten times the documents' example
#: export (43,044,263 bytes of comments), and still a bound.
DEFAULT_EXPORT_BYTES = 512 * 1024 * 1024

T = TypeVar("T")


class BackupOperations:
    """Exports and imports of the app's data, and waiting for them."""

    if TYPE_CHECKING:  # provided by QiscusClient
        _transport: Transport

        async def _call(
            self, operation: Operation, build: Callable[[Codec], Call[T]]
        ) -> T: ...

    async def create_export(
        self, resource: BackupResource | str, start_date: date, end_date: date
    ) -> Backup:
        """Start exporting *resource* created between the two dates (inclusive)."""
        kind = check_resource(resource)
        check_dates(start_date, end_date)
        return await self._call(
            Operation.CREATE_EXPORT,
            lambda c: c.BACKUPS.create_export(kind, start_date, end_date),
        )

    async def list_exports(self, *, page: int = 1) -> list[Backup]:
        """The most recent exports, 20 a page."""
        number = check_page_size(page)
        return await self._call(
            Operation.LIST_EXPORTS, lambda c: c.BACKUPS.list_exports(number)
        )

    async def get_export(self, backup_id: str) -> Backup:
        """One export by id."""
        backup = check_path_id(backup_id, "backup_id")
        return await self._call(
            Operation.GET_EXPORT, lambda c: c.BACKUPS.get_export(backup)
        )

    async def delete_export(self, backup_id: str) -> Backup:
        """Delete an export; returns what was deleted."""
        backup = check_path_id(backup_id, "backup_id")
        return await self._call(
            Operation.DELETE_EXPORT, lambda c: c.BACKUPS.delete_export(backup)
        )

    @overload
    async def download_export(
        self,
        export: Backup | str,
        *,
        to: None = None,
        max_bytes: int = DEFAULT_EXPORT_BYTES,
    ) -> list[ExportRecord]: ...

    @overload
    async def download_export(
        self,
        export: Backup | str,
        *,
        to: str | os.PathLike[str] | IO[bytes],
        max_bytes: int = DEFAULT_EXPORT_BYTES,
    ) -> int: ...

    async def download_export(
        self,
        export: Backup | str,
        *,
        to: str | os.PathLike[str] | IO[bytes] | None = None,
        max_bytes: int = DEFAULT_EXPORT_BYTES,
    ) -> list[ExportRecord] | int:
        """Download a finished export: to a file, or read into typed rows.

        The file comes through this client's HTTP backend (an injected
        ``http_client`` and the fake's too), following redirects and
        without the app's credentials (a ``download_url`` is a CDN link),
        retried like any idempotent call, each retry from the start.

        Args:
            export: The finished export, or its id (then read first with
                :meth:`get_export`).
            to: A path: the file is streamed to ``<path>.part`` and renamed
                to *to* once complete (nothing is left on failure). A binary
                file object: written in place, and rolled back to where it
                was on failure when it can seek. ``None``: the rows are
                read into :class:`~aioqiscus.models.ExportedUser`,
                :class:`~aioqiscus.models.ExportedRoom` or
                :class:`~aioqiscus.models.ExportedComment` values.
            max_bytes: The largest file accepted, decoded.

        Returns:
            The rows (``to=None``), else the number of bytes written.

        Raises:
            InvalidArgumentError: Bad arguments (before any request), or
                the export has not finished (no ``download_url`` yet).
            ResponseTooLargeError: The file is larger than *max_bytes*, as
                the export declares or as it arrives.
            NotFoundError: The file is gone (an expired or deleted export).
            ResponseShapeError: ``to=None`` and the file is not rows of
                its resource.
        """
        given: object = max_bytes  # callers are not always type-checked
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            msg = f"max_bytes must be a positive int, not {given!r}"
            raise InvalidArgumentError(msg)
        sink = _export_download.sink_for(to)
        if not isinstance(export, Backup):
            export = await self.get_export(export)
        url = export.download_url
        if export.status != BackupStatus.FINISHED or not url:
            msg = (
                f"export {export.id} is {export.status} with no download_url: "
                "wait_for_export until it finishes"
            )
            raise InvalidArgumentError(msg)
        if not url.lower().startswith(("https://", "http://")):
            msg = f"export {export.id} has a download_url that is not http(s)"
            raise InvalidArgumentError(msg)
        if export.size > max_bytes:
            raise _too_large(export, f"declares {export.size} bytes", max_bytes)
        transport = self._transport
        transport.lifecycle.admit("GET", f"export {export.id} download")
        here = transport.loops.here()  # this event loop's connections
        try:
            async with here.limiter:
                await _export_download.download(
                    here.backend,
                    url,
                    sink,
                    limit=max_bytes,
                    retry=transport.retry,
                )
        except ResponseTooLargeError as exc:
            raise _too_large(export, "is larger", max_bytes) from exc
        if isinstance(sink, _export_download.MemorySink):
            from .dialects import parse_export  # noqa: PLC0415 - on first use

            return parse_export(export.resource, sink.data())
        return sink.size

    async def create_import(
        self,
        resource: BackupResource | str,
        data: bytes,
        *,
        filename: str | None = None,
    ) -> Backup:
        """Upload one import file (a JSON array, at most 4 MB).

        Use :func:`aioqiscus.migration.plan_import` to build valid files,
        and :meth:`wait_for_import` to wait until the server has applied it.

        Returns:
            The import as the server answered it (usually ``started``).

        Raises:
            BackupFailedError: The server answered that the import failed;
                the message and ``backup.errors`` carry its reasons.
        """
        kind = check_resource(resource)
        payload = check_import_data(data)
        name = check_optional_text(filename, "filename") or f"{kind}.json"
        backup = await self._call(
            Operation.CREATE_IMPORT,
            lambda c: c.BACKUPS.create_import(kind, payload, name),
        )
        if backup.status == BackupStatus.FAILED:
            raise failed("import", backup)
        return backup

    async def list_imports(self, *, page: int = 1) -> list[Backup]:
        """The most recent imports."""
        number = check_page_size(page)
        return await self._call(
            Operation.LIST_IMPORTS, lambda c: c.BACKUPS.list_imports(number)
        )

    async def wait_for_export(
        self,
        backup_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float = 600.0,  # noqa: ASYNC109 - a polling budget, as specified
        on_progress: Callable[[Backup], object] | None = None,
    ) -> Backup:
        """Poll an export until it finishes; returns the finished export.

        Args:
            backup_id: The export.
            poll_interval: Seconds between polls.
            timeout: Seconds to wait in all.
            on_progress: Called with the export whenever its status or
                percentage changes (the first poll counts as a change).

        Raises:
            BackupFailedError: The export reported ``failed``.
            BackupTimeoutError: It had not finished after *timeout* seconds.
        """
        return await self._wait_for(
            "export", self.get_export, backup_id, poll_interval, timeout, on_progress
        )

    async def wait_for_import(
        self,
        backup_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float = 600.0,  # noqa: ASYNC109 - a polling budget, as specified
        on_progress: Callable[[Backup], object] | None = None,
    ) -> Backup:
        """Poll an import until it finishes; returns the finished import.

        Servers have no ``imports/{id}`` endpoint: each poll reads
        :meth:`list_imports` (newest first) until it finds the import.

        Args:
            backup_id: The import (``Backup.id`` from :meth:`create_import`).
            poll_interval: Seconds between polls.
            timeout: Seconds to wait in all.
            on_progress: Called with the import whenever its status or
                percentage changes (the first poll counts as a change).

        Raises:
            BackupFailedError: The import reported ``failed``; its
                ``backup.errors`` hold the server's reasons.
            BackupTimeoutError: It had not finished after *timeout* seconds.
            NotFoundError: The server lists no import with this id.
        """
        return await self._wait_for(
            "import", self._find_import, backup_id, poll_interval, timeout, on_progress
        )

    @staticmethod
    async def _wait_for(
        kind: Literal["export", "import"],
        fetch: Callable[[str], Awaitable[Backup]],
        backup_id: str,
        poll_interval: float,
        timeout: float,  # noqa: ASYNC109 - a polling budget, as specified
        on_progress: Callable[[Backup], object] | None,
    ) -> Backup:
        """Check the arguments, then poll ``fetch(backup_id)`` until done."""
        backup = check_path_id(backup_id, "backup_id")
        check_polling(poll_interval, timeout)
        return await wait_for_backup(
            kind,
            lambda: fetch(backup),
            poll_interval=poll_interval,
            timeout=timeout,
            on_progress=on_progress,
        )

    async def _find_import(self, backup_id: str) -> Backup:
        """The import *backup_id*, from the listing's pages, newest first."""
        page, previous = 1, None
        while True:
            found = await self.list_imports(page=page)
            for backup in found:
                if backup.id == backup_id:
                    return backup
            ids = [b.id for b in found]
            # An empty page ends the listing; so does a server that ignores
            # ``page`` and answers the same page again.
            if not ids or ids == previous:
                msg = f"no import {backup_id} among the {page} page(s) listed"
                raise NotFoundError(404, msg)
            page, previous = page + 1, ids


def _too_large(export: Backup, detail: str, limit: int) -> ResponseTooLargeError:
    msg = (
        f"export {export.id} {detail}, over max_bytes ({limit} bytes); pass a "
        "larger max_bytes to download_export if it is expected"
    )
    return ResponseTooLargeError(msg, limit=limit)
