"""Item 3: the secret key leaks nowhere.

Loopback servers echo the key back (in a 401 to the probe, in a non-JSON 200,
placed to straddle where messages are cut); keys that are not header-safe
are refused before any request, with a message that does not show them; and
no frame of an error's traceback holds the key in its locals.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json

import anyio
import pytest

from aioqiscus import (
    AuthenticationError,
    InvalidArgumentError,
    QiscusClient,
    QiscusError,
    ResponseShapeError,
)
from aioqiscus._cli import main
from aioqiscus.backends import AiohttpBackend

from ._servers import raw_server, read_head, response_head

KEY = "sk-live-5a0f3c2e9b7d41e6a8c0"
BACKENDS = ["httpx", "aiohttp"]


def echoing(status: int, template: str, ctype: str = "application/json"):
    """A server answering every request *template* with the key it was sent."""

    async def handler(reader, writer):
        while True:
            head = await read_head(reader)
            sent = ""
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "qiscus-sdk-secret":
                    sent = value.strip()
            body = template.replace("{key}", sent).encode()
            writer.write(
                response_head(status, content_type=ctype, content_length=str(len(body)))
            )
            writer.write(body)
            await writer.drain()

    return handler


def leaked(*texts: object) -> list[str]:
    """Every 8-character piece of the key found in *texts*."""
    joined = "\n".join(map(str, texts))
    return [KEY[i : i + 8] for i in range(len(KEY) - 7) if KEY[i : i + 8] in joined]


def shown(error: BaseException) -> list[object]:
    """What an error shows: text, repr, args and its API attributes."""
    return [
        str(error),
        repr(error),
        repr(error.args),
        getattr(error, "message", ""),
        getattr(error, "body", ""),
        repr(getattr(error, "detailed_messages", ())),
    ]


def client_for(
    url: str, backend: str = "httpx", timeout: float = 5.0, **kwargs
) -> QiscusClient:
    if backend == "aiohttp":
        kwargs["backend"] = AiohttpBackend(timeout=timeout)
    else:
        kwargs["timeout"] = timeout
    return QiscusClient("app", KEY, base_url=url, retry=None, **kwargs)


class TestEchoedKey:
    async def test_probe_401_redacted(self):
        """A 401 to the auto probe that echoes the key shows it nowhere."""
        envelope = {
            "status": 401,
            "error": {"message": "key {key} refused", "detailed_messages": ["{key}"]},
        }
        handler = echoing(401, json.dumps(envelope))
        async with raw_server(handler) as url, client_for(url) as client:
            with anyio.fail_after(5), pytest.raises(AuthenticationError) as info:
                await client.negotiate()
        assert "***" in info.value.message
        assert leaked(*shown(info.value)) == []

    async def test_non_json_200_redacted(self):
        """A 200 that is not JSON and quotes the key: ResponseShapeError without it."""
        handler = echoing(200, "your key is {key}, welcome", "text/plain")
        async with (
            raw_server(handler) as url,
            client_for(url, api_version="v2.1") as client,
        ):
            with anyio.fail_after(5), pytest.raises(ResponseShapeError) as info:
                await client.get_user("alice")
        assert "***" in str(info.value)
        assert leaked(*shown(info.value)) == []

    @pytest.mark.parametrize("cut", [120, 2048])
    async def test_key_straddling_a_cut_leaves_no_prefix(self, cut):
        """Masking comes before cutting: a key across the cut leaves no piece behind."""
        padding = "x" * (cut - 10)
        handler = echoing(401, padding + "{key}", "text/html")
        async with (
            raw_server(handler) as url,
            client_for(url, api_version="v2.1") as client,
        ):
            with anyio.fail_after(5), pytest.raises(AuthenticationError) as info:
                await client.get_user("alice")
        assert leaked(*shown(info.value)) == []


class TestHeaderUnsafeKeys:
    @pytest.mark.parametrize(
        "secret",
        [
            KEY + "\n",
            KEY + "\r\n",
            "\t" + KEY,
            KEY + " ",
            "sk-é" + KEY,
            KEY[:5] + "\x00" + KEY,
        ],
        ids=["newline", "crlf", "tab", "space", "non-ascii", "nul"],
    )
    def test_refused_at_construction_without_the_value(self, secret):
        """Header-unsafe keys are refused before any request, and the error does not show them."""
        with pytest.raises(InvalidArgumentError, match="secret_key") as info:
            QiscusClient("app", secret)
        assert leaked(*shown(info.value)) == []
        assert not isinstance(info.value, UnicodeError)

    def test_cli_does_not_echo_a_crlf_key(self, served, capsys):
        """The CLI, given a key with CR/LF, fails with one line that does not show it."""
        fake, url = served
        fake.reset()
        out = io.StringIO()
        argv = ["doctor", "--app-id", "fake-app", "--secret-key", KEY + "\r\n"]
        status = main([*argv, "--base-url", url], out=out)
        captured = capsys.readouterr()
        assert status == 1
        assert "InvalidArgumentError" in captured.err
        assert leaked(out.getvalue(), captured.out, captured.err) == []


def frame_locals(error: BaseException) -> list[str]:
    """repr() of every local of every library frame in the error's tracebacks."""
    seen: set[int] = set()
    found: list[str] = []
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "/tests/" not in frame.f_code.co_filename:
                for name, value in frame.f_locals.items():
                    try:
                        found.append(f"{frame.f_code.co_name}:{name}={value!r}")
                    except Exception:  # noqa: BLE001, S112 - a repr may fail
                        continue
            tb = tb.tb_next
        stack += [current.__cause__, current.__context__]
    return found


async def dropping(reader, writer):
    """Reads the request, sends half an answer and closes."""
    await read_head(reader)
    writer.write(response_head(content_type="application/json", content_length="100"))
    writer.write(b'{"results": ')
    await writer.drain()


async def stalling(reader, writer):
    """Reads the request and answers nothing."""
    await read_head(reader)
    await asyncio.sleep(30)


class TestFrameLocals:
    @pytest.mark.parametrize("backend", BACKENDS)
    @pytest.mark.parametrize("server", ["dropping", "stalling", "401", "refused"])
    async def test_no_frame_holds_the_key(self, server, backend):
        """No library frame of any error's traceback shows the key in its locals."""
        handlers = {
            "dropping": dropping,
            "stalling": stalling,
            "401": echoing(401, '{"status": 401, "error": {"message": "{key}"}}'),
        }
        url = "http://127.0.0.1:9"  # discard: nothing listens
        async with contextlib.AsyncExitStack() as stack:
            if server != "refused":
                url = await stack.enter_async_context(raw_server(handlers[server]))
            client = client_for(url, backend, timeout=0.3, api_version="v2.1")
            await stack.enter_async_context(client)
            with anyio.fail_after(5), pytest.raises(QiscusError) as info:
                await client.get_user("alice")
        frames = frame_locals(info.value)
        assert frames
        assert leaked(*frames) == []
