"""Move code from v2 to v2.1: compare both dialects, then plan an import.

    python examples/migrate_v2_to_v21.py

It pins one client to each dialect against the same app (a fake one unless
``QISCUS_APP_ID``/``QISCUS_SECRET_KEY`` are set), checks that users and
rooms read the same through both, and validates, chunks and imports records,
waiting for each import to finish.
"""

from __future__ import annotations

import asyncio
import os

import httpx

from aioqiscus import QiscusClient
from aioqiscus.migration import (
    ImportComment,
    ImportRoom,
    ImportUser,
    compare_dialects,
    plan_import,
)

ALICE, BOB = "alice@example.com", "bob@example.com"


def records() -> list[ImportUser | ImportRoom | ImportComment]:
    """What an app moving its history into Qiscus would import."""
    return [
        ImportUser("carol@example.com", "Carol"),
        ImportUser("dave@example.com", "Dave"),
        ImportRoom(
            "legacy-room-1",
            "",
            "single",
            "carol@example.com",
            ["carol@example.com", "dave@example.com"],
        ),
        ImportComment("legacy-c1", "legacy-room-1", "carol@example.com", "Halo doc"),
        ImportComment(
            "legacy-c2",
            "legacy-room-1",
            "dave@example.com",
            "Maaf mau tanya..",
            type="reply",
            payload={"text": "Maaf mau tanya..", "replied_comment_id": 1},
            parent_unique_id="legacy-c1",
        ),
    ]


async def main() -> int:
    app_id, secret = (
        os.environ.get("QISCUS_APP_ID"),
        os.environ.get("QISCUS_SECRET_KEY"),
    )
    base_url: str | None = None
    http_client: httpx.AsyncClient | None = None
    if not (app_id and secret):
        from aioqiscus.testing import FakeQiscus

        fake = FakeQiscus()
        fake.add_user(ALICE, "Alice")
        fake.add_user(BOB, "Bob")
        fake.store.create_room("Team", "group", ALICE, [BOB])
        app_id, secret = fake.app_id, fake.secret_key
        base_url, http_client = "http://127.0.0.1", fake.http_client()
    async with (
        QiscusClient(
            app_id, secret, api_version="v2", base_url=base_url, http_client=http_client
        ) as old,
        QiscusClient(
            app_id,
            secret,
            api_version="v2.1",
            base_url=base_url,
            http_client=http_client,
        ) as new,
    ):
        rooms = [r.id async for r in new.iter_user_rooms(ALICE, show_empty=True)]
        report = await compare_dialects(
            old, new, user_ids=[ALICE, BOB], room_ids=rooms, as_user=ALICE
        )
        print(report)
        chunks = plan_import(records())
        for chunk in chunks:
            print(
                f"import {chunk.resource}: {chunk.records} records, {chunk.size} bytes"
            )
            # A file the server refuses raises BackupFailedError (with the
            # server's errors) here or while waiting.
            backup = await new.create_import(chunk.resource, chunk.data)
            done = await new.wait_for_import(backup.id, poll_interval=0.5)
            print(f"  -> {done.status}: {done.total_rows} rows")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
