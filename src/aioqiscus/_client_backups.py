"""Export and import coroutines, mixed into :class:`~aioqiscus.QiscusClient`."""

from __future__ import annotations

from collections.abc import (
    Awaitable,
    Callable,
)
from datetime import date
from typing import TYPE_CHECKING, Literal, TypeVar

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
from .dialects import Codec
from .errors import NotFoundError
from .models import (
    Backup,
    BackupResource,
    BackupStatus,
)

__all__: list[str] = []

T = TypeVar("T")


class BackupOperations:
    """Exports and imports of the app's data, and waiting for them."""

    if TYPE_CHECKING:  # provided by QiscusClient

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
