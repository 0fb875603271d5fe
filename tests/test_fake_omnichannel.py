"""The fake plays Omnichannel: its endpoints over the Chat SDK store, its webhooks.

OmnichannelClient and QiscusClient talk to one FakeQiscus, in-process and
over loopback; customers write from a channel and the Omnichannel hooks
reach a receiver that checks its URL token.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from aioqiscus import QiscusClient
from aioqiscus.errors import (
    AmbiguousSendError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
)
from aioqiscus.omnichannel import OmnichannelClient, Source, room_info
from aioqiscus.omnichannel.webhooks import (
    AgentAllocationNeeded,
    BotMessage,
    HookGuard,
    NewSession,
    RoomResolved,
    parse,
)
from aioqiscus.payloads import Button, Buttons
from aioqiscus.testing import FakeQiscus, Fault, serve

CUSTOMER = "6281234567890"
TOKEN = "hook-url-token-0123456789"


def _omni(fake: FakeQiscus, **options: Any) -> OmnichannelClient:
    return OmnichannelClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        http_client=fake.http_client(),
        **options,
    )


def _chat(fake: FakeQiscus) -> QiscusClient:
    return QiscusClient(
        fake.app_id,
        fake.secret_key,
        base_url="http://127.0.0.1",
        api_version="v2.1",
        http_client=fake.http_client(),
    )


class Receiver:
    """An ASGI app that keeps the deliveries whose URL token is right."""

    def __init__(self) -> None:
        self.guard = HookGuard(TOKEN)
        self.events: list[Any] = []
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = httpx.QueryParams(scope["query_string"].decode())
        if self.guard.allows(query.get("token")):
            self.events.append(parse(body))
            status = 200
        else:
            self.refused += 1
            status = 401
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(name="fake")
def _fake() -> FakeQiscus:
    fake = FakeQiscus()
    omni = fake.omnichannel
    billing = omni.add_division("Billing", is_default=True)
    sales = omni.add_division("Sales")
    omni.add_agent("Ana", "ana@example.com", quota=1, divisions=[billing])
    omni.add_agent("Budi", "budi@example.com", quota=2, divisions=[billing, sales])
    omni.add_agent("Citra", "citra@example.com", available=False, divisions=[sales])
    omni.add_channel("wa", "Support WA")
    omni.add_channel("line", "Shop LINE")
    return fake


def _channel(fake: FakeQiscus, kind: str) -> int:
    return next(
        c.id for c in fake.store.omnichannel.channels.values() if c.kind == kind
    )


async def _customer_room(fake: FakeQiscus, text: str = "hello") -> str:
    await fake.omnichannel.customer_says(CUSTOMER, text, channel=_channel(fake, "wa"))
    room = fake.omnichannel.customer_room(CUSTOMER, _channel(fake, "wa"))
    return str(room.room_id)


class TestEndpoints:
    """Every OmnichannelClient operation against the fake, in-process."""

    async def test_customer_room_is_a_chat_sdk_room(self, fake):
        """The room a customer writes in carries the Omnichannel options."""
        room_id = await _customer_room(fake)
        async with _chat(fake) as chat:
            [room] = await chat.get_rooms_info([room_id])
        info = room_info(room)
        assert info.channel is Source.WHATSAPP
        assert (info.is_resolved, info.is_waiting) == (False, True)
        assert info.channel_details is not None
        assert info.channel_details.name == "Support WA"

    async def test_tags_info_and_customer_room(self, fake):
        """Tags, customer info (merge keeps keys) and the customer room."""
        room_id = await _customer_room(fake)
        async with _omni(fake) as omni:
            await omni.create_room_tag(room_id, "vip")
            assert [t.name for t in await omni.get_room_tags(room_id)] == ["vip"]
            await omni.replace_customer_info(room_id, {"city": "Jakarta"})
            info = await omni.update_customer_info(room_id, {"tier": "gold"})
            assert info.as_dict() == {"city": "Jakarta", "tier": "gold"}
            read = await omni.get_customer_info(room_id)
            assert read.channel is not None
            assert read.channel.name == "Support WA"
            room = await omni.get_customer_room(room_id)
            assert (room.room_id, room.source, room.is_waiting) == (room_id, "wa", True)
            assert room.last_customer_comment_text == "hello"

    async def test_twenty_concurrent_merges_on_the_fake(self, fake):
        """20 merges at once through the fake keep every key."""
        room_id = await _customer_room(fake)
        async with _omni(fake) as omni:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for i in range(20):
                        tg.start_soon(
                            omni.update_customer_info, room_id, {f"k{i}": str(i)}
                        )
            info = await omni.get_customer_info(room_id)
        assert info.as_dict() == {f"k{i}": str(i) for i in range(20)}

    async def test_bot_messages_land_in_the_chat_room(self, fake):
        """A bot message with buttons is a comment of the Chat SDK room."""
        room_id = await _customer_room(fake)
        buttons = Buttons(
            "Need a human?",
            [Button.postback("Yes", "https://example.com/h", payload={"h": 1})],
        )
        async with _omni(fake) as omni:
            await omni.send_bot_message(room_id, "Need a human?", payload=buttons)
        async with _chat(fake) as chat:
            comments = [c async for c in chat.iter_comments(room_id)]
        assert comments[0].type == "buttons"
        assert comments[0].payload == buttons
        assert comments[0].sender is not None
        assert comments[0].sender.id == f"{fake.app_id}_admin@qismo.com"

    async def test_bot_switch(self, fake):
        """set_bot_active switches the bot, as get_customer_room tells."""
        room_id = await _customer_room(fake)
        async with _omni(fake) as omni:
            log = await omni.set_bot_active(room_id, False)
            assert log.is_handled_by_bot is False
            room = await omni.get_customer_room(room_id)
        assert room.is_handled_by_bot is False

    async def test_agents_divisions_channels(self, fake):
        """Listings page, search and filter; channels list their kinds."""
        async with _omni(fake) as omni:
            agents = omni.iter_agents(page_size=2)
            assert [a.name async for a in agents] == ["Ana", "Budi", "Citra"]
            assert agents.total == 3
            assert agents.pages == 2
            found = [a.name async for a in omni.iter_agents(search="bud")]
            assert found == ["Budi"]
            divisions = [d async for d in omni.iter_divisions()]
            assert [(d.name, d.is_default) for d in divisions] == [
                ("Billing", True),
                ("Sales", False),
            ]
            sales = divisions[1].id
            by = omni.iter_agents_by_division([sales], available=True)
            assert [a.name async for a in by] == ["Budi"]
            assert [a.roles[0].name async for a in omni.iter_agents(search="ana")] == [
                "Billing"
            ]
            channels = await omni.list_channels()
        assert [(c.kind, c.name) for c in channels] == [
            ("line", "Shop LINE"),
            ("wa", "Support WA"),
        ]
        assert all(c.credentials for c in channels)

    async def test_assignment_quota_and_resolve(self, fake):
        """Assign within quota; a full, unavailable or unknown agent is refused."""
        first = await _customer_room(fake)
        await fake.omnichannel.customer_says(
            "628999", "hi", channel=_channel(fake, "wa")
        )
        second = str(
            fake.omnichannel.customer_room("628999", _channel(fake, "wa")).room_id
        )
        agents = {a.name: a.id for a in fake.store.omnichannel.agents.values()}
        async with _omni(fake) as omni:
            done = await omni.assign_agent(first, str(agents["Ana"]))
            assert done.agent is not None
            assert done.agent.name == "Ana"
            with pytest.raises(BadRequestError, match="limit"):
                await omni.assign_agent(second, str(agents["Ana"]))
            with pytest.raises(BadRequestError, match="not available"):
                await omni.assign_agent(second, str(agents["Citra"]))
            with pytest.raises(BadRequestError, match="not found"):
                await omni.assign_agent(second, "99999")
            candidates = [a.name async for a in omni.iter_available_agents(second)]
            assert candidates == ["Budi"]
            resolution = await omni.mark_as_resolved(first, notes="done")
            assert resolution.service is not None
            assert resolution.service.agent is not None
            assert resolution.service.agent.name == "Ana"
            assert resolution.room is not None
            assert room_info(resolution.room).is_resolved is True
            # Ana is free again.
            await omni.assign_agent(second, str(agents["Ana"]))
            with pytest.raises(NotFoundError):
                await omni.get_customer_room("424242")

    async def test_wrong_credentials(self, fake):
        """A wrong secret is a 401, typed."""
        async with OmnichannelClient(
            fake.app_id,
            "not-the-secret",
            base_url="http://127.0.0.1",
            http_client=fake.http_client(),
        ) as omni:
            with pytest.raises(AuthenticationError):
                await omni.list_channels()

    async def test_faults_make_writes_ambiguous(self, fake):
        """A 502 on assign_agent raises AmbiguousSendError; sent once."""
        room_id = await _customer_room(fake)
        fake.inject(Fault.status(502), endpoints="assign_agent", times=1)
        async with _omni(fake) as omni:
            with pytest.raises(AmbiguousSendError):
                await omni.assign_agent(room_id, "1")
        assert len(fake.requests("assign_agent")) == 1
        assert fake.requests("assign_agent")[0].headers["qiscus-secret-key"] == "***"


class TestWebhooks:
    """The fake delivers the Omnichannel hooks, unsigned, to the URLs given."""

    async def test_customer_flow(self, fake):
        """New session, bot and allocation on the first message; resolve later."""
        receiver = Receiver()
        url = f"http://hooks.test/omni?token={TOKEN}"
        fake.omnichannel.deliver_webhooks(
            bot=url,
            allocation=url,
            resolved=url,
            new_session=url,
            transport=httpx.ASGITransport(app=receiver),
        )
        room_id = await _customer_room(fake)
        kinds = [type(e) for e in receiver.events]
        assert kinds == [NewSession, BotMessage, AgentAllocationNeeded]
        session, bot, allocation = receiver.events
        assert session.room_id == room_id
        assert bot.comment.message == "hello"
        assert bot.info.channel is Source.WHATSAPP
        assert bot.channel.name == "Support WA"
        assert allocation.room_id == room_id
        assert allocation.candidate_agent.name == "Ana"
        async with _omni(fake) as omni:
            await omni.set_bot_active(room_id, False)
            await omni.assign_agent(room_id, str(allocation.candidate_agent.id))
            await fake.omnichannel.customer_says(
                CUSTOMER, "still there?", channel=_channel(fake, "wa")
            )
            # Bot off and an agent assigned: no hook for this message.
            assert len(receiver.events) == 3
            await omni.mark_as_resolved(room_id)
        resolved = receiver.events[3]
        assert isinstance(resolved, RoomResolved)
        assert resolved.room_id == room_id
        assert resolved.resolved_by.name == "Ana"
        await fake.omnichannel.customer_says(
            CUSTOMER, "me again", channel=_channel(fake, "wa")
        )
        assert isinstance(receiver.events[4], NewSession)
        assert [d.status for d in fake.omnichannel.deliveries] == [200] * 6

    async def test_wrong_url_token_is_refused(self, fake):
        """A delivery to a URL without the right token is refused by the guard."""
        receiver = Receiver()
        fake.omnichannel.deliver_webhooks(
            bot="http://hooks.test/omni?token=guess-guess-guess-guess",
            transport=httpx.ASGITransport(app=receiver),
        )
        await _customer_room(fake)
        assert receiver.events == []
        assert receiver.refused == 1
        assert [d.status for d in fake.omnichannel.deliveries] == [401]
        assert json.loads(fake.omnichannel.deliveries[0].body)["app_code"] == (
            fake.app_id
        )


async def test_over_loopback():
    """The Omnichannel routes answer over a real socket too."""
    fake = FakeQiscus()
    channel = fake.omnichannel.add_channel("qiscus", "Widget")
    fake.omnichannel.add_agent("Ana", "ana@example.com")
    with serve(fake) as url:
        await fake.omnichannel.customer_says(CUSTOMER, "hi", channel=channel)
        room = fake.omnichannel.customer_room(CUSTOMER, channel)
        with anyio.fail_after(10):
            async with OmnichannelClient(
                fake.app_id, fake.secret_key, base_url=url
            ) as omni:
                agents = [a async for a in omni.iter_agents()]
                await omni.assign_agent(str(room.room_id), agents[0].id)
                customer_room = await omni.get_customer_room(str(room.room_id))
    assert customer_room.is_waiting is False
    assert [a.name for a in agents] == ["Ana"]


async def test_a_processed_fault_lands_the_write(fake):
    """Fault.status(502, processed=True): the agent is assigned, the client unsure."""
    room_id = await _customer_room(fake)
    ana = next(a for a in fake.store.omnichannel.agents.values() if a.name == "Ana")
    fake.inject(Fault.status(502, processed=True), endpoints="assign_agent")
    async with _omni(fake) as omni:
        with pytest.raises(AmbiguousSendError):
            await omni.assign_agent(room_id, str(ana.id))
    room = fake.omnichannel.customer_room(CUSTOMER, _channel(fake, "wa"))
    assert room.agents == [ana.id]
