"""copy_app killed with SIGKILL at random points, then resumed: exact copy.

The fakes run in this process (``aioqiscus.testing.serve``), so the target's
state outlives each killed child; the copy runs in a child process that
prints a line per step. It is killed either from outside, after a random
number of lines, or by itself at the worst moment: right after the target
confirmed its Nth comment and before the checkpoint recorded it.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aioqiscus.testing import serve

from ._migration_app import ALICE, app_pair, seed, snapshot

CHILD = """
import asyncio, os, signal, sys
from aioqiscus import QiscusClient
from aioqiscus.migration import _checkpoint, copy_app

kill_at, confirmed = int(sys.argv[7]), []
record = _checkpoint.Checkpoint.record

def record_or_die(self, kind, key, target_id, state):
    if kind == "comment" and state in ("written", "imported"):
        confirmed.append(key)
        if len(confirmed) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    record(self, kind, key, target_id, state)

_checkpoint.Checkpoint.record = record_or_die

async def main(src_url, dst_url, path, src, dst):
    async with (
        QiscusClient("app-source", "fake-secret", base_url=src_url, api_version=src,
                     reconcile_delay=0) as s,
        QiscusClient("app-target", "fake-secret", base_url=dst_url, api_version=dst,
                     reconcile_delay=0) as t,
    ):
        def step(phase, done, total):
            print(phase, done, flush=True)
        report = await copy_app(
            s, t, path, users=[sys.argv[6]], on_progress=step, poll_interval=0.01
        )
    print("DONE", report.ok, report.counts["comment"].written, flush=True)

asyncio.run(main(*sys.argv[1:6]))
"""


def _lines(proc: subprocess.Popen[str], count: int, timeout: float) -> list[str]:
    """Up to *count* lines of the child's output, within *timeout* seconds."""
    assert proc.stdout is not None
    lines: list[str] = []
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while len(lines) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"the child stalled after {lines[-3:]}"
            if not sel.select(left):
                continue
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
    return lines


def _start(
    urls: tuple[str, str], path: Path, src: str, dst: str, kill_at: int = 0
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, *urls, str(path), src, dst, ALICE, str(kill_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("src", "dst", "seed_"), [("v2", "v2.1", 7), ("v2.1", "v2", 11)]
)
def test_killed_and_resumed_copy_is_exact(tmp_path, src, dst, seed_):
    """Up to four SIGKILLs at random steps, then a full run: exact copy.

    Two come from the child itself between a confirmed write (a post, or a
    row of an import) and its checkpoint row, two from outside after a
    random number of steps; a later kill may find nothing left to write.
    """
    source, target = app_pair()
    asyncio.run(seed(source, comments=30))
    want = snapshot(source)
    path = tmp_path / "move.sqlite"
    rng = random.Random(seed_)
    with serve(source) as src_url, serve(target) as dst_url:
        urls = (src_url, dst_url)
        deaths = []
        for own in (True, False, True, False):
            child = _start(urls, path, src, dst, rng.randint(1, 6) if own else 0)
            try:
                seen = _lines(child, 1_000 if own else rng.randint(2, 40), timeout=60)
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=30)
                child.stdout.close()  # type: ignore[union-attr]
                child.stderr.close()  # type: ignore[union-attr]
            deaths.append(not (seen and seen[-1].startswith("DONE")))
        child = _start(urls, path, src, dst)
        try:
            out, err = child.communicate(timeout=120)
        finally:
            child.kill()
        assert child.returncode == 0, err
        last = out.strip().splitlines()[-1]
        assert last.startswith("DONE True"), (last, err)
    got = snapshot(target)
    assert got["users"] == want["users"]
    assert len(got["rooms"]) == len(want["rooms"])
    copied = collections.Counter(c[:3] for c in got["comments"])
    assert copied == collections.Counter(c[:3] for c in want["comments"])
    markers = [c[3] for c in got["comments"]]
    assert len(markers) == len(set(markers))
    assert deaths[0]
    assert sum(deaths) >= 2, deaths
