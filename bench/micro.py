"""Micro-benchmarks: parsing cost, single-flight negotiation, history memory.

    python bench/micro.py

1. Parse + normalise cost per comment (v2 flat and v2.1 nested shapes, as a
   100-comment ``load_comments`` page), beside ``json.loads`` alone.
2. 1,000 concurrent first calls on an ``auto`` client: how many probes.
3. Peak RSS growth of the client while ``iter_comments`` walks 10,000 and
   100,000 comments served by the fake over loopback (must stay flat).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples"


def parse_cost() -> list[str]:
    from aioqiscus._envelope import decipher, structure
    from aioqiscus._wire import RawResponse
    from aioqiscus.dialects import v2, v21

    lines = []
    pages = {
        "v2 `account_linking`": (v2, "v2/post_comment.json"),
        "v2 `text`": (v2, "v2/post_comment_early.json"),
        "v2.1 `text`": (v21, "v21/post_comment_text.json"),
        "v2.1 `buttons`": (v21, "v21/post_comment_buttons.json"),
        "v2.1 `card` (2 buttons)": (v21, "v21/post_comment_card.json"),
    }
    for name, (module, path) in pages.items():
        sample = json.loads((SAMPLES / path).read_text())
        comment = {**sample["results"]["comment"], "id": 1}
        page = {"status": 200, "results": {"comments": [comment] * 100}}
        body = json.dumps(page).encode()
        raw = RawResponse(200, {}, body)
        call = module.list_comments("234", 1, 100)
        n = 200
        # Best of 7: the least disturbed measurement on a shared machine.
        full = min(
            timeit.repeat(
                lambda: structure(call.parse, decipher(raw), "x"), number=n, repeat=7
            )
        )
        loads = min(timeit.repeat(lambda: json.loads(body), number=n, repeat=7))
        per = (full - loads) / n / 100 * 1e6
        base = loads / n / 100 * 1e6
        lines.append(
            f"| parse + normalise, {name} comment | {per:.1f} µs | "
            f"plus json.loads {base:.1f} µs | target <= 10 µs |"
        )
    return lines


async def client_overhead() -> str:
    """Python cost of one post_comment with the network taken away."""
    sys.path.insert(0, str(Path(__file__).parent))
    from observe import per_call  # the same stub backend, nothing observed

    best = await per_call()
    return (
        f"| post_comment without the network (stub backend) | {best * 1e6:.1f} µs | "
        "validation, marker, request, JSON both ways, typed Comment | - |"
    )


async def probes() -> str:
    import aioqiscus
    from aioqiscus.testing import FakeQiscus

    fake = FakeQiscus()
    fake.add_user("a@example.com")
    async with aioqiscus.QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.get_user("a@example.com") for _ in range(1000)))
        elapsed = time.perf_counter() - started
    count = len(
        [
            e
            for e in fake.journal
            if e.dialect == "v2.1"
            and e.endpoint == "user_profile"
            and e.query
            and e.query[0][1] != "a@example.com"
        ]
    )
    return (
        f"| 1,000 concurrent first calls (auto) | {count} probe(s) | "
        f"{elapsed:.2f} s for all | target: exactly 1 |"
    )


def _serve(port: int, count: int) -> None:
    import uvicorn

    from aioqiscus.testing import FakeQiscus

    fake = FakeQiscus(dialects={"v2.1"})
    fake.add_user("a@example.com")
    room = fake.store.create_room("History", "group", "a@example.com", [])
    for i in range(count):
        fake.store.add_comment(room, "a@example.com", f"message number {i} " + "x" * 60)
    uvicorn.run(fake, host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _walk(port: int, out: multiprocessing.Queue) -> None:
    import aioqiscus

    async def run() -> tuple[int, float]:
        async with aioqiscus.QiscusClient(
            "fake-app",
            "fake-secret",
            base_url=f"http://127.0.0.1:{port}",
            api_version="v2.1",
        ) as client:
            seen = 0
            iterator = client.iter_comments("1001", page_size=100)
            async for _ in iterator:
                seen += 1
                if seen == 200:
                    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return seen, (after - before) / 1024

    out.put(asyncio.run(run()))


def memory(count: int) -> str:
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    server = ctx.Process(target=_serve, args=(port, count), daemon=True)
    server.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    out: multiprocessing.Queue = ctx.Queue()
    walker = ctx.Process(target=_walk, args=(port, out))
    started = time.perf_counter()
    walker.start()
    seen, growth = out.get(timeout=600)
    walker.join()
    server.terminate()
    return (
        f"| iter_comments over {seen:,} comments | peak RSS growth {growth:.1f} MB | "
        f"{time.perf_counter() - started:.1f} s | target < 10 MB |"
    )


def main() -> None:
    lines = ["| measure | result | context | target |", "|---|---:|---|---|"]
    lines += parse_cost()
    lines.append(asyncio.run(client_overhead()))
    lines.append(asyncio.run(probes()))
    for count in (10_000, 100_000):
        lines.append(memory(count))
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "micro.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
