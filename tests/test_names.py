"""Reports and errors name operations by the client methods users call."""

from __future__ import annotations

import anyio
import pytest

from aioqiscus import (
    Dialect,
    Operation,
    QiscusClient,
    ResponseShapeError,
    UnsupportedOperationError,
)
from aioqiscus.testing import FakeQiscus

from .helpers import in_process


@pytest.mark.parametrize("operation", list(Operation))
def test_every_operation_names_a_client_method(operation):
    """str(operation) is the name of a public QiscusClient coroutine or iterator."""
    assert str(operation) == operation.method_name
    assert callable(getattr(QiscusClient, str(operation)))


def test_listings_are_named_iter():
    """The four listings are reported as the iter_* methods that page them."""
    named = {op.value: str(op) for op in Operation}
    assert {
        named["list_participants"],
        named["list_user_rooms"],
        named["list_comments"],
        named["list_users"],
    } == {"iter_participants", "iter_user_rooms", "iter_comments", "iter_users"}
    assert not [
        name
        for name in named.values()
        if name.startswith("list_") and not name.endswith(("exports", "imports"))
    ]
    # The internal keys stay what they were.
    assert Operation.LIST_USERS.value == "list_users"


@pytest.mark.parametrize("dialects", [{"v2"}, {"v2.1"}, {"v2", "v2.1"}])
async def test_report_names_client_methods(dialects):
    """Every row of the negotiation report starts with a client method name."""
    fake = FakeQiscus(dialects=dialects)
    async with in_process(fake) as client:
        await client.negotiate()
        text = str(client.negotiation_report())
    rows = text.splitlines()[1:]
    names = [row.split()[0] for row in rows]
    assert len(names) == len(Operation)
    assert all(callable(getattr(QiscusClient, name)) for name in names)
    assert "iter_user_rooms" in names
    assert "list_user_rooms" not in names


async def test_refusal_names_the_method():
    """A refused listing names iter_users, the method the user called."""
    fake = FakeQiscus(dialects={"v2"})
    async with in_process(fake, "v2") as client:
        with pytest.raises(UnsupportedOperationError) as info:
            await anext(aiter(client.iter_users()))
    assert str(info.value).startswith("iter_users is not served by the v2 dialect")
    assert info.value.operation is Operation.LIST_USERS
    assert fake.journal == []


async def test_shape_error_names_the_method(mock):
    """A server repeating a page is reported against iter_users."""
    page = {
        "status": 200,
        "results": {
            "users": [{"user_id": "a", "username": "A"}],
            "meta": {"current_page": 1, "total_data": 9, "total_page": 9},
        },
    }
    mock.get("/api/v2.1/rest/get_user_list").respond(json=page)
    async with QiscusClient("a", "s", api_version="v2.1") as client:
        with anyio.fail_after(10), pytest.raises(ResponseShapeError) as info:
            [u async for u in client.iter_users(page_size=1)]
    assert str(info.value).startswith("iter_users: page 2 repeats the previous page")


class TestSearchSignature:
    async def test_query_first_user_by_keyword(self):
        """search_messages(query, user_id=...) searches that user's rooms."""
        fake = FakeQiscus(dialects={"v2"})
        fake.add_user("a@example.com")
        fake.add_user("b@example.com")
        async with in_process(fake) as client:
            room = await client.create_room("R", ["b@example.com"], "a@example.com")
            await client.post_text(room.id, "b@example.com", "hello there")
            found = await client.search_messages("HELLO", user_id="a@example.com")
        assert [c.message for c in found] == ["hello there"]
        assert client.dialect is Dialect.V2
        [search] = fake.requests("search_messages")
        assert search.body["query"] == "HELLO"
        assert search.body["user_email"] == "a@example.com"

    async def test_old_positional_order_fails_loudly(self):
        """The 0.x order (user, query) is a TypeError, not a search for the user id."""
        fake = FakeQiscus()
        async with in_process(fake) as client:
            with pytest.raises(TypeError):
                await client.search_messages("a@example.com", "hello")  # type: ignore[misc]
        assert fake.journal == []
