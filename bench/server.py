"""A minimal Qiscus v2 ``post_comment`` endpoint for benchmarks.

It reads the whole request and answers the documented v2 comment shape
(``qiscus-rest-v2.md``, Post comment; about 700 bytes), optionally after a
fixed latency, so the client is what gets measured. Run under uvicorn with
httptools on loopback by ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json

COMMENT = {
    "results": {
        "comment": {
            "comment_before_id": 124973,
            "disable_link_preview": False,
            "email": "bot@example.com",
            "extras": {},
            "id": 124974,
            "message": "Hello from the benchmark: a text comment of ordinary length.",
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
BODY = json.dumps(COMMENT).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


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
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})

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
        loop="asyncio",
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
