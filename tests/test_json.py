"""The two JSON paths: msgspec (``aioqiscus[fast]``) and the standard library.

Responses decode to the same values, and parse to the same models, on both;
what msgspec refuses goes to the standard library, which decides.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioqiscus import QiscusClient, _json, webhooks
from aioqiscus._envelope import decipher, loads, structure
from aioqiscus._wire import RawResponse
from aioqiscus.testing import FakeQiscus

from .conftest import ALICE, BOB, SAMPLES
from .test_fuzz import JSON, PARSERS

msgspec = pytest.importorskip("msgspec", reason="needs aioqiscus[fast]")

SAMPLE_FILES = sorted(SAMPLES.rglob("*.json"))


def tagged(value: Any) -> Any:
    """*value* with every JSON type spelled out (``True != 1 != 1.0`` here)."""
    if isinstance(value, dict):
        return ("object", [(k, tagged(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("array", [tagged(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(decode: Any, data: str | bytes) -> Any:
    """What decoding *data* gives: the tagged value, or the kind of failure."""
    try:
        return tagged(decode(data))
    except ValueError:
        return "ValueError"
    except RecursionError:
        return "RecursionError"


def finite(value: Any) -> Any:
    """*value* with NaN and infinities as ``None``, as msgspec writes them."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@pytest.fixture(autouse=True)
def _restore_backend():
    """Restore the JSON library a test switches."""
    before = _json.BACKEND
    yield
    _json.use(before)


class TestDecoding:
    @pytest.mark.parametrize(
        "path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES))
    )
    def test_every_sample_decodes_alike(self, path: Path):
        """Every sample file decodes to the same values, type for type."""
        body = path.read_bytes()
        assert outcome(_json.fast_loads, body) == outcome(_json.std_loads, body)
        assert outcome(_json.fast_loads, body) != "ValueError"

    @settings(max_examples=300, deadline=None)
    @given(JSON)
    def test_documents_decode_alike(self, document):
        """Any document, NaN, Infinity and integers beyond 64 bits included."""
        text = json.dumps(document)
        assert outcome(_json.fast_loads, text) == outcome(_json.std_loads, text)
        assert outcome(_json.fast_loads, text.encode()) == outcome(
            _json.std_loads, text.encode()
        )

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
    def test_any_bytes_decode_or_fail_alike(self, body):
        """Bytes of any kind give the same value or the same kind of failure."""
        assert outcome(_json.fast_loads, body) == outcome(_json.std_loads, body)

    @pytest.mark.parametrize(
        "body",
        [
            b"NaN",
            b"[Infinity, -Infinity]",
            b"1e400",
            b"123456789012345678901234567890",
            b"-9223372036854775809",
            b'"\\ud800"',
            b"\xff\xfe{}",
            b"[" * 5000 + b"]" * 5000,
        ],
    )
    def test_what_msgspec_refuses(self, body):
        """Documents beyond RFC 8259 read as the standard library reads them."""
        assert outcome(_json.fast_loads, body) == outcome(_json.std_loads, body)

    def test_deep_nesting_is_a_value_error(self):
        """Nesting too deep for the decoder is a ValueError on both paths."""
        for backend in ("json", "msgspec"):
            _json.use(backend)
            with pytest.raises(ValueError, match="nested too deeply"):
                loads(b"[" * 100_000 + b"]" * 100_000)


class TestEncoding:
    @settings(max_examples=300, deadline=None)
    @given(JSON)
    def test_bodies_read_back_alike(self, document):
        """What msgspec writes reads back as what the standard library writes.

        Non-finite floats excepted: the standard library writes ``NaN``,
        which is not JSON, where msgspec writes ``null``.
        """
        expected = finite(json.loads(_json.std_dumps(document)))
        assert tagged(json.loads(_json.fast_dumps(document))) == tagged(expected)

    def test_compact_utf8(self):
        """Both write compact UTF-8 without escaping non-ASCII text."""
        body = {"message": "héllo 👋", "n": [1, 2]}
        assert _json.fast_dumps(body) == _json.std_dumps(body)
        assert _json.std_dumps(body) == '{"message":"héllo 👋","n":[1,2]}'.encode()

    def test_what_msgspec_cannot_encode(self, monkeypatch):
        """A str subclass (an enum's value, say) goes to the standard library."""

        class Name(str):
            __slots__ = ()

        body = {"message": Name("héllo")}
        with pytest.raises(TypeError):
            _json._fast_encode(body)
        used = []
        monkeypatch.setattr(
            _json, "std_dumps", lambda obj: used.append(obj) or b'{"message":"h"}'
        )
        assert _json.fast_dumps(body) == b'{"message":"h"}'
        assert used == [body]
        monkeypatch.undo()
        assert _json.fast_dumps(body) == '{"message":"héllo"}'.encode()


class TestModels:
    @pytest.mark.parametrize(
        ("name", "call"), PARSERS, ids=[f"{n}-{c.operation}" for n, c in PARSERS]
    )
    def test_every_parser_reads_alike(self, name, call):
        """Each documented answer parses to the same models on both paths."""
        raw = RawResponse(200, {}, (SAMPLES / f"{name}.json").read_bytes())
        found = []
        for backend in ("json", "msgspec"):
            _json.use(backend)
            found.append(structure(call.parse, decipher(raw), "sample"))
        assert found[0] == found[1]
        assert repr(found[0]) == repr(found[1])

    @pytest.mark.parametrize("path", sorted((SAMPLES / "webhooks").glob("*.json")))
    def test_webhooks_read_alike(self, path):
        """Webhook deliveries parse to the same event on both paths."""
        found = []
        for backend in ("json", "msgspec"):
            _json.use(backend)
            found.append(webhooks.parse(path.read_bytes()))
        assert found[0] == found[1]

    async def test_client_round_trip_alike(self):
        """Sends and listings through the client give equal models on both paths."""
        found = []
        for backend in ("json", "msgspec"):
            _json.use(backend)
            fake = FakeQiscus()
            fake.add_user(ALICE)
            fake.add_user(BOB)
            async with QiscusClient(
                fake.app_id,
                fake.secret_key,
                base_url="http://127.0.0.1",
                http_client=fake.http_client(),
                api_version="v2.1",
            ) as client:
                room = await client.create_room("R", [ALICE, BOB], ALICE)
                sent = await client.post_text(
                    room.id, ALICE, "héllo 👋", extras={"n": 2**70, "f": 1.5}
                )
                listed = [c async for c in client.iter_comments(room.id)]
            found.append((room.name, sent.message, sent.extras, listed[0].extras))
        assert found[0] == found[1]
        assert found[0][2] == {"n": 2**70, "f": 1.5}


class TestSwitch:
    def test_environment_forces_the_standard_library(self):
        """AIOQISCUS_PURE_JSON=1 keeps msgspec out even where it is installed."""
        env = {**os.environ, "AIOQISCUS_PURE_JSON": "1"}
        out = subprocess.run(
            [sys.executable, "-c", "from aioqiscus import _json; print(_json.BACKEND)"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert out.stdout.strip() == "json"

    def test_msgspec_is_the_default_when_installed(self):
        """With the extra installed, msgspec is picked."""
        env = {k: v for k, v in os.environ.items() if k != "AIOQISCUS_PURE_JSON"}
        out = subprocess.run(
            [sys.executable, "-c", "from aioqiscus import _json; print(_json.BACKEND)"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert out.stdout.strip() == "msgspec"

    def test_unknown_backend(self):
        """Asking for a library that is not there is a ValueError."""
        with pytest.raises(ValueError, match="orjson"):
            _json.use("orjson")  # type: ignore[arg-type]
