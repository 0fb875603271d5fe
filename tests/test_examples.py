"""Every example runs against the fake server."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from types import ModuleType

import anyio
import httpx
import pytest

from aioqiscus import Buttons, Card, QiscusClient
from aioqiscus.bot import Bot
from aioqiscus.testing import FakeQiscus, serve

from ._bot_workers import uvicorn_process

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
    """The bot example plays help -> menu -> two taps -> answers on the fake."""
    history = await load("bot_buttons_and_cards").main()
    assert [(c.sender.id, c.type) for c in history] == [
        ("alice@example.com", "text"),
        ("shop-bot@example.com", "buttons"),
        ("alice@example.com", "button_postback_response"),
        ("shop-bot@example.com", "text"),
        ("alice@example.com", "button_postback_response"),
        ("shop-bot@example.com", "card"),
    ]
    assert isinstance(history[1].payload, Buttons)
    assert isinstance(history[5].payload, Card)
    assert [c.message for c in history[2:5]] == [
        "Opening hours",
        "We are open 9 to 5, Monday to Friday.",
        "Show me today's deal",
    ]
    out = capsys.readouterr().out
    assert "Shop Bot (buttons): What can I do for you?" in out


async def test_migrate(capsys):
    """The migration example compares both dialects and imports its records."""
    assert await load("migrate_v2_to_v21").main() == 0
    out = capsys.readouterr().out
    assert "read the same through v2 and v2.1" in out
    assert "import comments: 2 records" in out
    assert out.count("-> finished") == 3
    assert "-> finished: 2 rows" in out


SHOP_BOT = "shop-bot@example.com"
CONVERSATION = [
    ("alice@example.com", "text", "help"),
    (SHOP_BOT, "buttons", "What can I do for you?"),
    ("alice@example.com", "button_postback_response", "Opening hours"),
    (SHOP_BOT, "text", "We are open 9 to 5, Monday to Friday."),
]


def shop(fake: FakeQiscus) -> int:
    """Alice, Bob and the shop bot; the id of Alice's room with the bot."""
    fake.add_user("alice@example.com", "Alice")
    fake.add_user("bob@example.com", "Bob")
    fake.add_user(SHOP_BOT, "Shop Bot")
    room = fake.store.create_room("Shop", "single", SHOP_BOT, ["alice@example.com"])
    return room.id


async def converse(fake: FakeQiscus, bot: Bot, room_id: int) -> None:
    """Alice says help and taps "Opening hours"; the example's bot answers."""
    with anyio.fail_after(10):
        await fake.say(room_id, "alice@example.com", "help")
        await bot.join()
        menu = fake.room(room_id).comments[-1]
        await fake.tap(menu.id, "Opening hours", by="alice@example.com")
        await bot.join()
    conversation = [(c.sender, c.type, c.message) for c in fake.room(room_id).comments]
    assert conversation == CONVERSATION
    assert [d.status for d in fake.webhook_deliveries] == [200] * 4


async def test_fastapi_app():
    """Room endpoints, and the bot mounted at /qiscus answering a conversation
    delivered in process."""
    example = load("fastapi_app")
    fake = FakeQiscus()
    shop_room = shop(fake)
    client = QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )
    token = "webhook-token"
    app = example.create_app(client, webhook_token=token)
    transport = httpx.ASGITransport(app=app)
    fake.deliver_webhooks("http://app/qiscus/webhook", token, transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        created = await http.post(
            "/rooms",
            json={
                "name": "Help",
                "creator": "alice@example.com",
                "participants": ["bob@example.com"],
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

        await converse(fake, app.state.bot, shop_room)
        unsigned = await http.post("/qiscus/webhook", content=b"{}")
        assert unsigned.status_code == 401


async def test_aiohttp_app():
    """The endpoints work through the app's own shared session, and the bot
    answers a conversation the fake delivers over loopback."""
    from aiohttp.test_utils import TestClient, TestServer

    example = load("aiohttp_app")
    fake = FakeQiscus()
    shop_room = shop(fake)
    room = fake.store.create_room(
        "Chat", "group", "alice@example.com", ["bob@example.com"]
    )
    token = "webhook-token"
    with serve(fake) as url:
        app = example.create_app(fake.app_id, fake.secret_key, token, base_url=url)
        async with TestClient(TestServer(app, host="127.0.0.1")) as http:
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

            fake.deliver_webhooks(str(http.make_url("/qiscus/webhook")), token)
            await converse(fake, app[example.BOT], shop_room)
    assert [c.message for c in fake.room(room.id).comments] == ["hi"]


def test_example_files_listed():
    """The six documented examples exist."""
    names = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert names == [
        "aiohttp_app.py",
        "bot_buttons_and_cards.py",
        "bot_order_redis.py",
        "fastapi_app.py",
        "migrate_v2_to_v21.py",
        "omnichannel_handover.py",
    ]


ORDER_BOT = "order-bot@example.com"
ORDER_TALK = [
    ("alice@example.com", "order"),
    (ORDER_BOT, "What is your order number?"),
    ("alice@example.com", "twelve"),
    (ORDER_BOT, "That is not an order number: digits only, please."),
    ("alice@example.com", "#12345"),
    (ORDER_BOT, "Order 12345: pickup or courier?"),
    ("alice@example.com", "Courier"),
    (ORDER_BOT, "Done: order 12345 goes by courier."),
    ("alice@example.com", "hello"),
    (ORDER_BOT, 'Say "order" to arrange a delivery.'),
]


def order_room(fake: FakeQiscus) -> int:
    fake.add_user("alice@example.com", "Alice")
    fake.add_user(ORDER_BOT, "Order Bot")
    return fake.store.create_room(
        "Orders", "single", ORDER_BOT, ["alice@example.com"]
    ).id


async def test_order_bot_in_process(redis_url):
    """The order bot's two steps, in process, with its state in Redis."""
    example = load("bot_order_redis")
    fake = FakeQiscus()
    room_id = order_room(fake)
    client = QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
    )
    app = example.create_app(client, "webhook-token", redis_url)
    fake.deliver_webhooks(
        "http://app/qiscus/webhook",
        "webhook-token",
        transport=httpx.ASGITransport(app=app),
    )
    with anyio.fail_after(20):
        async with app.router.lifespan_context(app):
            for sender, text in ORDER_TALK[::2]:
                await fake.say(room_id, sender, text)
                await app.state.bot.join()
    talk = [(c.sender, c.message) for c in fake.room(room_id).comments]
    assert talk == ORDER_TALK


def test_order_bot_under_uvicorn_with_three_workers(redis_url):
    """uvicorn --workers 3 serves the order bot from the environment; the
    conversation holds whichever worker each step reaches, and SIGTERM
    stops all three."""
    fake = FakeQiscus()
    room_id = order_room(fake)
    with serve(fake) as fake_url:
        env = {
            "QISCUS_APP_ID": fake.app_id,
            "QISCUS_SECRET_KEY": fake.secret_key,
            "QISCUS_BASE_URL": fake_url,
            "QISCUS_WEBHOOK_TOKEN": "webhook-token",
            "REDIS_URL": redis_url,
        }
        app = "examples.bot_order_redis:create_app"
        with uvicorn_process("--factory", app, "--workers", "3", env=env) as (
            url,
            server,
        ):
            anyio.run(talk_to_workers, fake, room_id, url)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    talk = [(c.sender, c.message) for c in fake.room(room_id).comments]
    assert talk == ORDER_TALK


async def talk_to_workers(fake: FakeQiscus, room_id: int, url: str) -> None:
    """Wait for the workers, then say each line and wait for its answer."""
    with anyio.fail_after(30):
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    await http.get(f"{url}/qiscus/webhook")
                    break
                except httpx.TransportError:
                    await anyio.sleep(0.1)
        fake.deliver_webhooks(f"{url}/qiscus/webhook", "webhook-token")
        for number, (sender, text) in enumerate(ORDER_TALK[::2], 1):
            await fake.say(room_id, sender, text)
            # The answer comes from another process: look until it is there.
            while len(fake.room(room_id).comments) < 2 * number:  # noqa: ASYNC110
                await anyio.sleep(0.02)


async def test_omnichannel_handover(capsys):
    """The Omnichannel example hands a room to an agent and takes it back."""
    hooks = await load("omnichannel_handover").main()
    assert hooks == ["new_session", "bot", "resolved", "new_session", "bot"]
    out = capsys.readouterr().out
    assert "handed over to Ana" in out
    assert out.count("  bot: text") == 2
