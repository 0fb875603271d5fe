"""copy_app's progress: the callback and MigrationProgress events per phase."""

from __future__ import annotations

import logging

import anyio
import pytest

from aioqiscus import InvalidArgumentError
from aioqiscus.migration import MigrationProgress, copy_app

from ._migration_app import ALICE, app_pair, client, seed


async def run_copy(source, target, path, **kw):
    async with client(source, "v2.1") as s, client(target, "v2.1") as t:
        with anyio.fail_after(30):
            return await copy_app(s, t, path, users=[ALICE], **kw)


class TestProgress:
    async def test_each_phase_reports_done_of_total_and_ends(self, tmp_path):
        """Hooks see every phase in order, each ending with done == total."""
        source, target = app_pair()
        await seed(source)
        events: list[MigrationProgress] = []
        steps: list[tuple[str, int, int | None]] = []
        report = await run_copy(
            source,
            target,
            tmp_path / "m.sqlite",
            on_progress=lambda *step: steps.append(step),
            event_hooks={"progress": [events.append]},
        )
        assert report.ok
        assert steps == [(e.phase, e.done, e.total) for e in events]
        phases = list(dict.fromkeys(e.phase for e in events))
        assert phases == ["read", "users", "rooms", "comments", "verify"]
        last = {e.phase: e for e in events}
        assert {p: (e.done, e.total) for p, e in last.items()} == {
            "read": (3, 3),
            "users": (3, 3),
            "rooms": (2, 2),
            "comments": (10, 10),
            "verify": (5, 5),
        }
        assert all(e.finished for e in last.values())
        finished = [e for e in events if e.finished]
        assert [e.phase for e in finished] == phases
        users = [(e.done, e.total) for e in events if e.phase == "users"]
        assert users == [(1, 3), (2, 3), (3, 3)]
        comments = [e for e in events if e.phase == "comments"]
        assert [e.done for e in comments] == [*range(1, 11), 10]
        assert [e.total for e in comments] == [None] * 10 + [10]

    async def test_a_dry_run_reports_the_planning_phases(self, tmp_path):
        """A dry run reports read, users, rooms and comments, not verify."""
        source, target = app_pair()
        await seed(source)
        events: list[MigrationProgress] = []
        await run_copy(
            source,
            target,
            tmp_path / "m.sqlite",
            dry_run=True,
            event_hooks={"progress": [events.append]},
        )
        ends = [(e.phase, e.done) for e in events if e.finished]
        assert ends == [("read", 3), ("users", 3), ("rooms", 2), ("comments", 10)]

    async def test_a_hook_that_raises_is_logged_and_ignored(self, tmp_path, caplog):
        """A failing hook never stops the copy; the next hook still runs."""
        source, target = app_pair()
        await seed(source)
        seen: list[MigrationProgress] = []

        def broken(event: MigrationProgress) -> None:
            raise RuntimeError(event.phase)

        with caplog.at_level(logging.ERROR, logger="aioqiscus"):
            report = await run_copy(
                source,
                target,
                tmp_path / "m.sqlite",
                event_hooks={"progress": [broken, seen.append]},
            )
        assert report.ok
        assert report.counts["comment"].written == 10
        assert seen[-1] == MigrationProgress("verify", 5, 5)
        assert "event hook" in caplog.text

    @pytest.mark.parametrize(
        ("hooks", "words"),
        [
            ({"request": [print]}, "unknown event hook 'request'"),
            ({"progress": print}, "must be a list of callables"),
            ({"progress": [42]}, "not callable"),
            ([("progress", [print])], "must be a mapping of 'progress'"),
        ],
    )
    async def test_bad_hooks_raise_before_any_request(self, tmp_path, hooks, words):
        """Malformed event_hooks raise InvalidArgumentError; nothing is read."""
        source, target = app_pair()
        with pytest.raises(InvalidArgumentError, match=words):
            await run_copy(source, target, tmp_path / "m.sqlite", event_hooks=hooks)
        assert source.journal == []
        assert target.journal == []
        assert not (tmp_path / "m.sqlite").exists()

    async def test_an_async_hook_is_refused(self, tmp_path):
        """Hooks are called synchronously: a coroutine function is refused."""
        source, target = app_pair()

        async def hook(event: MigrationProgress) -> None:
            pass

        with pytest.raises(InvalidArgumentError, match="is async"):
            await run_copy(
                source, target, tmp_path / "m.sqlite", event_hooks={"progress": [hook]}
            )
