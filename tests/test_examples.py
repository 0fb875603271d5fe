"""Every example runs against the fake server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from aioqiscus import Buttons, Card, QiscusClient, webhooks
from aioqiscus.testing import FakeQiscus, serve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    monkeypatch.delenv("QISCUS_APP_ID", raising=False)
    monkeypatch.delenv("QISCUS_SECRET_KEY", raising=False)


async def test_bot(capsys):
    """The bot greets with text, buttons and a card, read back typed."""
    history = await load("bot_buttons_and_cards").main()
    assert [c.type for c in history] == ["card", "buttons", "text"]
    assert isinstance(history[0].payload, Card)
    assert isinstance(history[1].payload, Buttons)
    assert "buttons: What can I do for you?" in capsys.readouterr().out


async def test_migrate(capsys):
    """The migration example compares both dialects and imports its records."""
    assert await load("migrate_v2_to_v21").main() == 0
    out = capsys.readouterr().out
    assert "read the same through v2 and v2.1" in out
    assert "import comments: 2 records" in out
    assert out.count("-> finished") == 3


async def test_fastapi_app():
    """Room endpoints and a signed webhook that makes the bot answer."""
    example = load("fastapi_app")
    fake = FakeQiscus()
    for user in ("alice@example.com", "bob@example.com", "helpdesk@example.com"):
        fake.add_user(user)
    client = QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )
    token = "webhook-token"
    app = example.create_app(client, webhook_token=token)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        created = await http.post(
            "/rooms",
            json={
                "name": "Help",
                "creator": "alice@example.com",
                "participants": ["bob@example.com", "helpdesk@example.com"],
            },
        )
        assert created.status_code == 200
        room_id = created.json()["id"]
        listed = await http.get("/users/bob@example.com/rooms")
        assert listed.json() == [{"id": room_id, "name": "Help"}]
        missing = await http.post(
            "/rooms",
            json={
                "name": "X",
                "creator": "nobody@example.com",
                "participants": ["bob@example.com"],
            },
        )
        assert missing.status_code == 404

        fake.add_comment(room_id, "alice@example.com", "I need help")
        delivery = _mobile_delivery(fake, room_id, "alice@example.com", "I need help")
        signed = {webhooks.SIGNATURE_HEADER: webhooks.sign(delivery, token)}
        ok = await http.post("/qiscus/webhook", content=delivery, headers=signed)
        assert ok.status_code == 200
        tampered = delivery.replace(b"I need help", b"I need money")
        bad = await http.post("/qiscus/webhook", content=tampered, headers=signed)
        assert bad.status_code == 401
        empty = await http.post(
            "/qiscus/webhook",
            content=b"{}",
            headers={webhooks.SIGNATURE_HEADER: webhooks.sign(b"{}", token)},
        )
        assert empty.status_code == 400
    [event] = app.state.events
    assert event.comment.message == "I need help"
    reply = fake.room(room_id).comments[-1]
    assert reply.sender == "helpdesk@example.com"
    assert reply.type == "buttons"


def _mobile_delivery(fake: FakeQiscus, room_id: str, sender: str, text: str) -> bytes:
    """A delivery as Qiscus sends it for a comment typed in a mobile app."""
    import json

    room = fake.room(room_id)
    user = fake.store.users[sender]
    return json.dumps(
        {
            "type": "post_comment_mobile",
            "payload": {
                "from": {"id": user.internal_id, "email": sender, "name": user.name},
                "room": {
                    "id": room.id,
                    "topic_id": room.id,
                    "type": room.type,
                    "name": room.name,
                },
                "message": {"type": "text", "text": text, "payload": {}},
            },
        }
    ).encode()


async def test_aiohttp_app():
    """The aiohttp app's endpoints work through its own shared session."""
    from aiohttp.test_utils import TestClient, TestServer

    example = load("aiohttp_app")
    fake = FakeQiscus()
    fake.add_user("alice@example.com")
    fake.add_user("bob@example.com")
    room = fake.store.create_room(
        "Chat", "group", "alice@example.com", ["bob@example.com"]
    )
    with serve(fake) as url:
        app = example.create_app(fake.app_id, fake.secret_key, base_url=url)
        async with TestClient(TestServer(app)) as http:
            rooms = await (await http.get("/users/bob@example.com/rooms")).json()
            assert rooms == [{"id": str(room.id), "name": "Chat", "type": "group"}]
            said = await http.post(
                "/say",
                json={
                    "room_id": str(room.id),
                    "sender": "bob@example.com",
                    "text": "hi",
                },
            )
            assert (await said.json())["room_id"] == str(room.id)
            session = app[example.SESSION]
            assert app[example.CLIENT]._transport.backend._session is session
    assert [c.message for c in fake.room(room.id).comments] == ["hi"]


def test_example_files_listed():
    """The four documented examples exist."""
    names = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert names == [
        "aiohttp_app.py",
        "bot_buttons_and_cards.py",
        "fastapi_app.py",
        "migrate_v2_to_v21.py",
    ]
