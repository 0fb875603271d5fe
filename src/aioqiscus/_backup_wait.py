"""Waiting for exports and imports: poll, report progress, refuse failure.

:func:`wait_for_backup` is the loop behind ``wait_for_export`` and
``wait_for_import``; it knows nothing of HTTP and polls through the coroutine
it is given. :func:`failed` is the error a failed job raises, with the reason
the server gave: an export's ``error_message``, an import's ``errors``
(``Message`` and ``Data``, "Data Backup and Import" in ``qiscus-rest-v2.md``
and ``v2.1/data-backup-and-import.md``).

Strictly private: :class:`~aioqiscus.QiscusClient` uses both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio

from .errors import BackupFailedError, BackupTimeoutError
from .models import Backup, BackupStatus

__all__ = ["failed", "wait_for_backup"]

#: How much of an import's ``errors.Data`` an error message quotes.
_DATA_LIMIT = 500


def _text(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)[:_DATA_LIMIT]


def failed(kind: Literal["export", "import"], backup: Backup) -> BackupFailedError:
    """The error for *backup*, which the server reports ``failed``."""
    errors = backup.errors
    reason = (
        backup.error_message
        or _text(errors.get("Message"))
        or _text(errors.get("Data"))
        or "no reason given"
    )
    return BackupFailedError(f"{kind} {backup.id} failed: {reason}", backup)


async def wait_for_backup(
    kind: Literal["export", "import"],
    fetch: Callable[[], Awaitable[Backup]],
    *,
    poll_interval: float,
    timeout: float,  # noqa: ASYNC109 - a polling budget, as specified
    on_progress: Callable[[Backup], object] | None,
) -> Backup:
    """Poll *fetch* until the job finishes; return the finished job.

    *on_progress* is called whenever the status or percentage changes (the
    first poll counts as a change).

    Raises:
        BackupFailedError: The job reported ``failed``.
        BackupTimeoutError: It had not finished after *timeout* seconds.
    """
    deadline = time.monotonic() + timeout
    last: Backup | None = None
    while True:
        current = await fetch()
        changed = last is None or (current.status, current.percentage) != (
            last.status,
            last.percentage,
        )
        last = current
        if changed and on_progress is not None:
            on_progress(current)
        if current.status == BackupStatus.FINISHED:
            return current
        if current.status == BackupStatus.FAILED:
            raise failed(kind, current)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = (
                f"{kind} {current.id} not finished after {timeout:g} s "
                f"({current.status}, {current.percentage}%)"
            )
            raise BackupTimeoutError(msg, current)
        await anyio.sleep(min(poll_interval, remaining))
