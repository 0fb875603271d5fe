"""Micro-benchmarks: parsing, client construction, per-call Python, probes, memory.

    python bench/micro.py [--quick | --parse]

1. Decode + parse cost per comment of a 100-comment mixed page (text,
   buttons, cards, carousels, custom, files, locations, system events) in
   both dialects, beside the floors: ``json.loads``, ``orjson.loads`` (where
   installed) and msgspec decoding straight into typed structs. aioqiscus is measured as
   the client runs it (envelope check, then the dialect's parser), with the
   JSON library it picked (msgspec with ``aioqiscus[fast]``) and with the
   standard library forced.
   Then the whole read as a user makes it: ``iter_comments`` over one
   100-comment page served by an in-memory backend, the same call on an
   empty page subtracted (what the request itself costs), beside
   ``json.loads`` of the same bytes.
2. Constructing default clients: the first in a fresh process, then 1,000
   more (each with its own secret key), and the cost of one log record's
   redaction with those 1,000 clients alive.
3. One ``post_comment`` with the network taken away (a stub backend).
4. 1,000 concurrent first calls on an ``auto`` client: how many probes.
5. Peak RSS growth while ``iter_comments`` walks 10,000 and 100,000
   comments served by the fake over loopback (skipped with ``--quick``).

Results go to ``bench/results/micro.md`` and, for ``bench/run.py``'s
targets table, ``bench/results/micro.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import multiprocessing
import resource
import shlex
import socket
import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples"
RESULTS = Path(__file__).parent / "results"


# ---------------------------------------------------------------- the page


def _sample(path: str) -> Any:
    return json.loads((SAMPLES / path).read_text())


#: How many of each kind a 100-comment page holds: mostly text, as chats are.
MIX = {
    "text": 60,
    "buttons": 8,
    "card": 6,
    "carousel": 4,
    "custom": 6,
    "file_attachment": 6,
    "location": 4,
    "system_event": 6,
}


def _v21_templates() -> dict[str, dict[str, Any]]:
    """v2.1 comments as servers send them: with id and extras."""
    found = {}
    for kind, path in {
        "text": "v21/post_comment_text.json",
        "buttons": "v21/post_comment_buttons.json",
        "card": "v21/post_comment_card.json",
        "carousel": "v21/post_comment_carousel.json",
        "custom": "v21/post_comment_custom.json",
        "file_attachment": "v21/post_comment_file_attachment.json",
        "system_event": "v21/post_system_event_message.json",
    }.items():
        found[kind] = {**_sample(path)["results"]["comment"], "extras": {}}
    location = _sample("v2/payloads/location.json")
    found["location"] = {
        **found["text"],
        "type": "location",
        "message": "Our office",
        "payload": location,
    }
    return found


def _v2_templates() -> dict[str, dict[str, Any]]:
    """v2 comments (flat senders) carrying the documented v2 payloads."""
    base = _sample("v2/load_comments.json")["results"]["comments"][0]
    found = {"text": {**base, "type": "text", "payload": {}}}
    payloads = {
        "buttons": "buttons",
        "card": "card",
        "carousel": "account_linking",  # v2 documents no carousel
        "custom": "custom",
        "file_attachment": "contact_person",  # nor file attachments
        "location": "location",
        "system_event": "system_add_member",
    }
    for kind, name in payloads.items():
        wire = "system_event" if name.startswith("system") else name
        found[kind] = {
            **base,
            "type": wire,
            "message": "a payload comment",
            "payload": _sample(f"v2/payloads/{name}.json"),
        }
    return found


#: A room's four participants: a page's senders, as in any real room.
PEOPLE = [
    ("alice@example.com", "Alice Lestari", 1001),
    ("budi@example.com", "Budi Santoso", 1002),
    ("support-bot@example.com", "Support Bot", 1003),
    ("citra@example.com", "Citra Dewi", 1004),
]
#: Texts of ordinary chat lengths (10 to 160 characters).
TEXTS = [
    "ok, thanks!",
    "Could you send me the invoice for last month?",
    "Sure, here it is. Let me know if anything looks off.",
    (
        "Your order #48213 has shipped and should arrive on Thursday between "
        "9:00 and 17:00. Reply STOP to stop delivery updates."
    ),
    "see you at 3",
]


def _avatar(number: int) -> str:
    """An avatar URL as servers send them (``tests/samples/v2/load_comments.json``)."""
    return (
        "https://res.cloudinary.com/drbmkdgd2/image/fetch/http://res.cloudinary.com/"
        f"qiscus/image/upload/v1486117460/kiwari-prod_user_id_{number}/"
        "vqgq5pwx1y3mafxsezmb.jpg"
    )


#: A v2.1 user's extras, as in the Go SDK's answers (``tests/samples/v21/gosdk``).
USER_EXTRAS = {"type": "agent", "user_bubble_color": None}


def mixed_page(dialect: str) -> bytes:
    """A 100-comment ``load_comments`` answer, kinds interleaved.

    Comments come from the room's four participants, each with the avatar
    URL and extras servers send; text comments carry ordinary chat texts.
    """
    templates = _v21_templates() if dialect == "v2.1" else _v2_templates()
    kinds = [kind for kind, count in MIX.items() for _ in range(count)]
    # Interleave deterministically so kinds do not come in runs.
    kinds = [kinds[(i * 37) % len(kinds)] for i in range(len(kinds))]
    comments = []
    for i, kind in enumerate(kinds):
        comment = copy.deepcopy(templates[kind])
        email, name, number = PEOPLE[i % len(PEOPLE)]
        if dialect == "v2.1":
            comment["user"] = {
                "active": True,
                "avatar_url": _avatar(number),
                "extras": USER_EXTRAS,
                "user_id": email,
                "username": name,
            }
        else:
            comment.update(
                email=email,
                username=name,
                user_avatar_url=_avatar(number),
                user_id=number,
            )
        comment["id"] = 125000 - i
        comment["timestamp"] = f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07Z"
        if kind == "text":
            comment["message"] = TEXTS[i % len(TEXTS)]
        comments.append(comment)
    return json.dumps({"status": 200, "results": {"comments": comments}}).encode()


class V21User(msgspec.Struct):
    user_id: str
    username: str = ""
    avatar_url: str | None = None
    active: bool | None = None
    extras: dict[str, Any] = {}


class V21Comment(msgspec.Struct):
    message: str
    type: str = "text"
    id: int | None = None
    payload: dict[str, Any] | None = None
    timestamp: datetime | None = None
    extras: dict[str, Any] = {}
    user: V21User | None = None


class V2Comment(msgspec.Struct):
    message: str
    email: str
    id: int | None = None
    type: str = "text"
    payload: dict[str, Any] | None = None
    timestamp: datetime | None = None
    username: str = ""
    user_avatar_url: str | None = None
    room_id: int | None = None
    room_name: str | None = None
    unique_temp_id: str | None = None
    comment_before_id: int | None = None
    disable_link_preview: bool = False
    extras: dict[str, Any] = {}


class V21Results(msgspec.Struct):
    comments: list[V21Comment]


class V2Results(msgspec.Struct):
    comments: list[V2Comment]


class V21Envelope(msgspec.Struct):
    status: int
    results: V21Results


class V2Envelope(msgspec.Struct):
    status: int
    results: V2Results


#: msgspec structs of each page: the cheapest typed decoding there is.
FLOORS = {"v2": V2Envelope, "v2.1": V21Envelope}


def _best(fn: Callable[[], object], number: int = 100) -> float:
    """Seconds per call, best of 7 runs: the least disturbed on a shared machine."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def _race(fns: dict[str, Callable[[], object]], rounds: int = 400) -> dict[str, float]:
    """Seconds per call of each function, run in turn, one call each per round.

    On a shared machine, load comes and goes: interleaving call by call
    exposes every function to the same moments, and the fastest call of each
    is its least disturbed cost.
    """
    best = dict.fromkeys(fns, float("inf"))
    clock = time.perf_counter
    for _ in range(rounds):
        for name, fn in fns.items():
            started = clock()
            fn()
            elapsed = clock() - started
            best[name] = min(best[name], elapsed)
    return best


def _orjson(body: bytes) -> dict[str, Callable[[], object]]:
    """``orjson.loads`` of *body* as a floor, where orjson is installed."""
    try:
        import orjson
    except ImportError:
        return {}
    return {"orjson.loads": lambda: orjson.loads(body)}


def _read(call: Any, raw: Any) -> Any:
    """What the client does with a response: decipher (or read the body at
    once, a comment page into msgspec structs), then parse."""
    from aioqiscus._client import _deciphered
    from aioqiscus._envelope import structure

    parse, results = _deciphered(call, raw)
    return structure(parse, results, "comments")


#: Issue 27's targets for decode + parse of the mixed page.
_PARSE_TARGETS = {"aioqiscus (msgspec)": "<= 1.5x", "aioqiscus (json)": "<= 2.0x"}


def parse_cost() -> tuple[
    list[str], dict[str, float], str, dict[str, dict[str, float]]
]:
    from aioqiscus import _json
    from aioqiscus._wire import Call, RawResponse
    from aioqiscus.dialects import v2, v21

    lines = []
    ratios = {}
    micros: dict[str, dict[str, float]] = {}
    picked = _json.BACKEND
    for dialect, module in (("v2", v2), ("v2.1", v21)):
        body = mixed_page(dialect)
        raw = RawResponse(200, {}, body)
        # The call is built as the client builds it, with the JSON library
        # in use (with msgspec it reads the page straight into structs).
        call = module.list_comments("234", 1, 100)
        _json.use("json")
        std_call = module.list_comments("234", 1, 100)
        _json.use(picked)
        floor = msgspec.json.Decoder(FLOORS[dialect])

        def read(call: Call[Any] = call) -> Any:
            return _read(call, raw)

        def ours() -> object:
            return read()

        def pure() -> object:
            _json.use("json")
            try:
                return read(std_call)
            finally:
                _json.use(picked)

        assert len(read().items) == len(read(std_call).items) == 100
        assert read() == read(std_call)
        assert (call.read_body is None) == (picked == "json")

        fns: dict[str, Callable[[], object]] = {
            "json.loads": lambda: json.loads(body),
            "msgspec typed structs": lambda: floor.decode(body),
            **_orjson(body),
            "aioqiscus (json)": pure,
            f"aioqiscus ({picked})": ours,
        }
        per = _race(fns)
        base = per["json.loads"]
        for name, seconds in per.items():
            lines.append(
                f"| {dialect} mixed page: {name} | {seconds / 100 * 1e6:.1f} µs "
                f"| {seconds / base:.2f}x json.loads | "
                + _PARSE_TARGETS.get(name, "floor")
                + " |"
            )
        ratios[dialect] = per[f"aioqiscus ({picked})"] / base
        micros[dialect] = {name: s / 100 * 1e6 for name, s in per.items()}
    return lines, ratios, picked, micros


EMPTY_PAGE = json.dumps({"status": 200, "results": {"comments": []}}).encode()


async def user_read_cost(rounds: int = 300) -> tuple[list[str], dict[str, float]]:
    """``iter_comments`` over a 100-comment page, request overhead subtracted.

    An in-memory backend answers the page (then an empty one, which ends
    the iteration); the same walk over a room whose first page is empty is
    the request overhead. Each round times, in turn, ``json.loads`` of the
    page, the full walk and the empty walk; the medians over the rounds give
    the cost of reading the page's 100 comments as a user pays it.
    """
    import statistics

    import aioqiscus
    from aioqiscus import _json
    from aioqiscus._wire import RawResponse

    class Memory:
        max_connections = 100

        def __init__(self, first: bytes) -> None:
            self.first = first

        async def send(self, *_: object, query: Any, **__: object) -> RawResponse:
            page = dict(query)["page"]
            return RawResponse(200, {}, self.first if page == "1" else EMPTY_PAGE)

        async def aclose(self) -> None:
            return None

    lines: list[str] = []
    ratios: dict[str, float] = {}
    picked = _json.BACKEND
    clock = time.perf_counter
    for dialect in ("v2", "v2.1"):
        body = mixed_page(dialect)
        for backend in dict.fromkeys((picked, "json")):
            _json.use(backend)
            full = aioqiscus.QiscusClient(
                "bench", "secret", api_version=dialect, backend=Memory(body)
            )
            empty = aioqiscus.QiscusClient(
                "bench", "secret", api_version=dialect, backend=Memory(EMPTY_PAGE)
            )
            async with full, empty:

                async def walk(client: aioqiscus.QiscusClient) -> int:
                    return len(
                        [c async for c in client.iter_comments("234", page_size=100)]
                    )

                assert await walk(full) == 100
                assert await walk(empty) == 0
                times: dict[str, list[float]] = {"json": [], "full": [], "empty": []}
                for _ in range(rounds):
                    started = clock()
                    json.loads(body)
                    times["json"].append(clock() - started)
                    started = clock()
                    await walk(full)
                    times["full"].append(clock() - started)
                    started = clock()
                    await walk(empty)
                    times["empty"].append(clock() - started)
            _json.use(picked)
            median = {k: statistics.median(v) for k, v in times.items()}
            read = median["full"] - median["empty"]
            ratio = read / median["json"]
            ratios[f"{dialect} {backend}"] = ratio
            target = "<= 2.0x" if backend == "msgspec" else "<= 2.5x"
            lines.append(
                f"| {dialect} iter_comments, one 100-comment page ({backend}), "
                f"request subtracted | {read / 100 * 1e6:.1f} µs per comment "
                f"| {ratio:.2f}x json.loads (medians of {rounds}) | {target} |"
            )
    return lines, ratios


def _objects_plan(page: Any) -> list[tuple[Callable[..., object], tuple[Any, ...]]]:
    """How to build *page*'s objects again from their values, children first.

    Each attrs object with the function the parser builds it with (an
    assembler where its class allows one), each timestamp with
    ``datetime.fromisoformat``; a sender shared by comments counts once.
    """
    import attrs

    from aioqiscus.dialects._assemble import assembler

    makers: dict[type, Callable[..., object]] = {}
    plan: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
    seen: set[int] = set()

    def maker(cls: type) -> Callable[..., object]:
        try:
            return assembler(cls)
        except TypeError:
            return cls

    def walk(value: Any) -> None:
        if attrs.has(type(value)) and id(value) not in seen:
            seen.add(id(value))
            cls = type(value)
            values = tuple(getattr(value, f.name) for f in attrs.fields(cls))
            for child in values:
                walk(child)
            if cls not in makers:
                makers[cls] = maker(cls)
            plan.append((makers[cls], values))
        elif type(value) is tuple:
            for child in value:
                walk(child)
        elif isinstance(value, datetime):
            plan.append((datetime.fromisoformat, (value.isoformat(),)))

    for comment in page:
        walk(comment)
    return plan


def parse_bounds() -> str:
    """What a page's parse is made of: per kind, our own floors, a profile.

    Written to ``results/parse.md``: where the 2x target is missed, this
    shows what bounds it.
    """
    import cProfile
    import io
    import pstats

    from aioqiscus._wire import RawResponse
    from aioqiscus.dialects import v21

    out = [
        "# What bounds parsing a page",
        "",
        "v2.1, 100 comments of one kind, with msgspec; per comment, beside",
        "`json.loads` of the same page.",
        "",
        "| kind | json.loads | aioqiscus | ratio |",
        "|---|---:|---:|---:|",
    ]
    mix = dict(MIX)
    for kind in mix:
        MIX.clear()
        MIX[kind] = 100
        body = mixed_page("v2.1")
        raw = RawResponse(200, {}, body)
        call = v21.list_comments("234", 1, 100)
        best = _race(
            {
                "json": lambda: json.loads(body),
                "ours": lambda: _read(call, raw),
            },
            150,
        )
        out.append(
            f"| {kind} | {best['json'] * 1e4:.2f} µs | {best['ours'] * 1e4:.2f} µs "
            f"| {best['ours'] / best['json']:.2f}x |"
        )
    MIX.clear()
    MIX.update(mix)
    body = mixed_page("v2.1")
    raw = RawResponse(200, {}, body)
    call = v21.list_comments("234", 1, 100)
    page = _read(call, raw).items
    plan = _objects_plan(page)
    decoder = msgspec.json.Decoder()
    floors = _race(
        {
            "json.loads": lambda: json.loads(body),
            "msgspec decode (dicts)": lambda: decoder.decode(body),
            f"the page's {len(plan)} objects from ready values": lambda: [
                make(*values) for make, values in plan
            ],
        },
        300,
    )
    out += [
        "",
        "The mixed page's floor: the objects a parse returns (comments,",
        "senders, payloads, buttons, timestamps), built from values already",
        "at hand, the way the parser builds them; no reading at all.",
        "",
        "| per comment | cost | json.loads |",
        "|---|---:|---:|",
    ]
    out += [
        f"| {k} | {v * 1e4:.2f} µs | {v / floors['json.loads']:.2f}x |"
        for k, v in floors.items()
    ]
    both = sum(v for k, v in floors.items() if k != "json.loads")
    out.append(
        f"| decode and objects, nothing else | {both * 1e4:.2f} µs "
        f"| {both / floors['json.loads']:.2f}x |"
    )
    body = mixed_page("v2.1")
    raw = RawResponse(200, {}, body)
    call = v21.list_comments("234", 1, 100)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(200):
        _read(call, raw)
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(15)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    out += [
        "",
        "The mixed page under cProfile (200 pages; the profiler inflates",
        "Python calls, so read shares, not times):",
        "",
        "```",
        *(line.replace(str(ROOT) + "/", "")[:140] for line in lines[start:]),
        "```",
    ]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- clients


def _construct(out: multiprocessing.Queue) -> None:
    """In a fresh process: the first client, then 1,000 more."""
    import aioqiscus

    async def run() -> tuple[float, float, float, float]:
        started = time.perf_counter()
        first = aioqiscus.QiscusClient("bench", "bench-secret-first")
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        clients = [
            aioqiscus.QiscusClient("bench", f"bench-secret-{i:04d}")
            for i in range(1000)
        ]
        each_s = (time.perf_counter() - started) / 1000
        logger = logging.getLogger("aioqiscus")
        record = logger.makeRecord(
            "aioqiscus", logging.DEBUG, __file__, 1, "POST %s -> %d", ("/x", 200), None
        )
        filters = logger.filters

        def log_once() -> None:
            for f in filters:
                f.filter(record)
            record.msg, record.args = "POST %s -> %d", ("/x", 200)

        filter_s = _best(log_once, 1000)
        started = time.perf_counter()
        for client in [first, *clients]:
            await client.aclose()
        close_s = (time.perf_counter() - started) / 1001
        return first_s, each_s, filter_s, close_s

    out.put(asyncio.run(run()))


def construction() -> tuple[list[str], float]:
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    proc = ctx.Process(target=_construct, args=(out,))
    proc.start()
    first, each, record, close = out.get(timeout=600)
    proc.join()
    lines = [
        (
            f"| first default client in a process | {first * 1e3:.2f} ms | "
            "creates the shared SSL context | - |"
        ),
        (
            f"| 1,000 more default clients | {each * 1e3:.3f} ms each | "
            f"aclose {close * 1e3:.3f} ms each | <= 2 ms |"
        ),
        (
            "| one log record's redaction, 1,001 clients alive | "
            f"{record * 1e6:.2f} µs | the aioqiscus logger's filter | O(1) |"
        ),
    ]
    return lines, each * 1e3


async def client_overhead() -> str:
    """Python cost of one post_comment with the network taken away."""
    sys.path.insert(0, str(Path(__file__).parent))
    from observe import per_call  # the same stub backend, nothing observed

    best = await per_call()
    return (
        f"| v2 post_comment without the network (stub backend) | {best * 1e6:.1f} µs | "
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
        f"{elapsed:.2f} s for all | exactly 1 |"
    )


# ---------------------------------------------------------------- memory


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
        f"{time.perf_counter() - started:.1f} s | < 10 MB |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the memory walk")
    parser.add_argument(
        "--parse", action="store_true", help="only the page reads; print, write nothing"
    )
    args = parser.parse_args()
    lines = ["| measure | result | context | target |", "|---|---:|---|---|"]
    if args.parse:
        lines += parse_cost()[0] + asyncio.run(user_read_cost())[0]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    built, each_ms = construction()
    parsed, ratios, picked, micros = parse_cost()
    lines += parsed
    read_lines, read_ratios = asyncio.run(user_read_cost())
    lines += read_lines
    lines += built
    lines.append(asyncio.run(client_overhead()))
    lines.append(asyncio.run(probes()))
    if not args.quick:
        lines += [memory(count) for count in (10_000, 100_000)]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "micro.md").write_text(text)
    sys.path.insert(0, str(Path(__file__).parent))
    from run import machine

    summary = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "command": shlex.join(["python", "bench/micro.py", *sys.argv[1:]]),
        "machine": machine(),
        "json": picked,
        "parse_ratio": ratios,
        "read_ratio": read_ratios,
        # Per comment, µs: the floors beside aioqiscus, for bench/plots.py.
        "parse_us": micros,
        "parse_targets": _PARSE_TARGETS,
        "construction_ms": each_ms,
    }
    (RESULTS / "micro.json").write_text(json.dumps(summary, indent=2) + "\n")
    (RESULTS / "parse.md").write_text(parse_bounds())
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
