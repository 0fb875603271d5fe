"""A minimal Qiscus ``post_comment`` endpoint for benchmarks, both dialects.

It reads the whole request and answers the comment shape of the dialect the
path names: v2 as ``qiscus-rest-v2.md`` documents it (Post comment, about
700 bytes), v2.1 as servers send it (``tests/samples/v21/gosdk/post_comment.json``:
``id``, ``extras`` and a nested ``user`` with ``active`` and ``extras``),
optionally after a fixed latency, so the client is what gets measured. Run
under uvicorn with httptools and uvloop on loopback by ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json

TEXT = "Hello from the benchmark: a text comment of ordinary length."
V2_COMMENT = {
    "results": {
        "comment": {
            "comment_before_id": 124973,
            "disable_link_preview": False,
            "email": "bot@example.com",
            "extras": {},
            "id": 124974,
            "message": TEXT,
            "payload": {},
            "room_id": 234,
            "room_name": "benchmark room",
            "timestamp": "2017-02-07T19:01:00Z",
            "topic_id": 234,
            "type": "text",
            "unique_temp_id": "pyRIKY4reRXlU4Sp6r97",
            "unix_timestamp": 1486494060,
            "user_avatar": {
                "avatar": {"url": "https://cdn.example.com/avatars/bot.png"}
            },
            "user_avatar_url": "https://cdn.example.com/avatars/bot.png",
            "user_id": 95,
            "username": "Benchmark Bot",
        }
    },
    "status": 200,
}
V21_COMMENT = {
    "results": {
        "comment": {
            "extras": {"aioqiscus_unique_temp_id": "aioqiscus-0f8c2b5e9d1a4c7b"},
            "id": 124974,
            "message": TEXT,
            "payload": {},
            "timestamp": "2021-09-01T10:00:00Z",
            "type": "text",
            "user": {
                "active": True,
                "avatar_url": "https://cdn.example.com/avatars/bot.png",
                "extras": {},
                "user_id": "bot@example.com",
                "username": "Benchmark Bot",
            },
        }
    },
    "status": 200,
}
BODIES = {
    "v2": json.dumps(V2_COMMENT).encode(),
    "v2.1": json.dumps(V21_COMMENT).encode(),
}
#: Kept for bench/micro.py, which answers a stub backend with it.
BODY = BODIES["v2"]


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]


ANSWERS = {
    f"/api/{dialect}/rest/post_comment": (_headers(body), body)
    for dialect, body in BODIES.items()
}


def make_app(latency: float):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if latency:
            await asyncio.sleep(latency)
        headers, body = ANSWERS.get(scope["path"], ANSWERS["/api/v2/rest/post_comment"])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    uvicorn.run(
        make_app(args.latency_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
