"""The tour: a table of steps, each one operation of the client in one dialect.

Every step is one :class:`~._steps.Step` entry (operation name, a coroutine
taking the :class:`~._steps.Run`, the client methods it calls when they are
not the one the operation is named by); adding an endpoint to the tour is
adding an entry. A step whose client methods do not exist is reported
"not implemented by this client", so an entry may land before its method.

The tour touches only what it creates: users, rooms and a channel named with
the run's prefix (on v2.1 it deactivates one of its users, then reactivates
her). It reads app-wide lists (users, exports) without changing them, and
deletes nothing. Each comment it posts fires the app's webhook: the
README, docs/testing.md and ``--help`` warn of it, with the count
(``tests/test_contract_docs.py`` keeps that count true).

Strictly private to :mod:`aioqiscus._contract`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import payloads
from ..errors import NotFoundError
from ._shape import json_type
from ._steps import Run, Step, dig, first, record_paging

#: The tour's disposable users, per dialect.
USERS = ("alice", "bob", "carol")


def _comments_of(answer: Any) -> list[Any]:
    found = dig(answer, "results", "comments")
    return found if isinstance(found, list) else []


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# ---------------------------------------------------------------- users


async def _probe(run: Run) -> str:
    """A missing user's profile: a Qiscus 404 proves the dialect is served."""
    try:
        await run.client.get_user(run.user("nobody"))
    except NotFoundError as exc:
        served = exc.from_envelope
    else:
        served = True
    run.facts["served"] = served
    return "served" if served else "not served (no Qiscus answer)"


async def _login(run: Run) -> str:
    extras = {"aioqiscus_contract": run.prefix} if run.dialect == "v2.1" else None
    for name in USERS:
        await run.client.login_or_register(
            run.user(name),
            f"Contract {name.title()}",
            password=run.password,
            extras=extras,
        )
    if extras is not None:
        stored = dig(run.last_answer(), "results", "user", "extras")
        run.facts["user_extras_round_trip"] = stored == extras
    return f"{len(USERS)} users"


async def _get_user(run: Run) -> str:
    user = await run.client.get_user(run.user("alice"))
    return f"name {user.name!r}"


async def _get_user_token(run: Run) -> None:
    await run.client.get_user_token(run.user("carol"))


async def _reset_user_token(run: Run) -> None:
    await run.client.reset_user_token(run.user("carol"))


async def _count(listing: AsyncIterator[Any], limit: int) -> int:
    """How many items *listing* yields, reading at most *limit*."""
    count = 0
    async for _ in listing:
        count += 1
        if count >= limit:
            break
    return count


async def _iter_users(run: Run) -> str:
    limit = 5
    count = await _count(run.client.iter_users(page_size=limit), limit)
    record_paging(run, "get_user_list", None, "users")
    return f"{count} users read"


# ---------------------------------------------------------------- rooms


async def _create_room(run: Run) -> str:
    options = {"aioqiscus_contract": run.prefix, "step": "create_room"}
    room = await run.client.create_room(
        f"{run.prefix} group",
        [run.user("bob")],
        run.user("alice"),
        options=options,
    )
    run.rooms["group"] = room.id
    results = dig(run.last_answer(), "results")
    # v2.1 nests the room and names its options room_options; v2's compact
    # answer may carry options at the top, or (as documented) none at all.
    found = first(dig(results, "room"), "room_options") or first(
        results, "options", "room_options"
    )
    run.facts["room_options_answered_as"] = json_type(found[1]) if found else "absent"
    return f"room {room.id}"


async def _target(run: Run) -> str:
    room = await run.client.get_or_create_room_with_target(
        [run.user("alice"), run.user("bob")]
    )
    run.rooms["single"] = room.id
    return f"room {room.id} ({room.type.value})"


async def _channel(run: Run) -> str:
    room = await run.client.get_or_create_channel(
        f"{run.prefix}-channel",
        [run.user("alice"), run.user("bob")],
        name=f"{run.prefix} channel",
    )
    run.rooms["channel"] = room.id
    return f"room {room.id} ({room.type.value})"


async def _user_rooms(run: Run) -> str:
    """Rooms of alice before any message: are rooms without messages listed?"""
    limit = 2
    listed = [
        r.id
        async for r in run.client.iter_user_rooms(run.user("alice"), page_size=limit)
    ]
    record_paging(run, "get_user_rooms", len(listed), "rooms", "rooms_info")
    # This step runs before any comment is posted: every room is empty.
    created = set(run.rooms.values())
    seen = created & set(listed)
    run.facts["rooms_without_messages_listed"] = f"{len(seen)} of {len(created)}"
    return f"{len(listed)} rooms before any message"


async def _rooms_info(run: Run) -> str:
    rooms = await run.client.get_rooms_info(
        [run.room("group"), run.room("single")],
        as_user=run.user("alice"),
        show_participants=True,
    )
    return f"{len(rooms)} rooms"


async def _update_room(run: Run) -> None:
    await run.client.update_room(
        run.room("group"),
        name=f"{run.prefix} group renamed",
        options={"aioqiscus_contract": run.prefix, "step": "update_room"},
        as_user=run.user("alice"),
    )


async def _add_participants(run: Run) -> None:
    await run.client.add_participants(run.room("group"), [run.user("carol")])


async def _participants(run: Run) -> str:
    limit = 2
    users = [
        u.id
        async for u in run.client.iter_participants(
            run.room("group"), page_size=limit, as_user=run.user("alice")
        )
    ]
    if run.dialect == "v2.1":
        record_paging(run, "get_room_participants", len(users), "participants")
    return f"{len(users)} participants"


async def _remove_participants(run: Run) -> None:
    await run.client.remove_participants(run.room("group"), [run.user("carol")])


# ---------------------------------------------------------------- comments


async def _post_text(run: Run) -> str:
    extras = {"aioqiscus_contract": run.prefix}
    comment = await run.client.post_text(
        run.room("group"),
        run.user("alice"),
        f"{run.prefix} hello",
        extras=extras,
        unique_temp_id=run.marker,
    )
    if comment.id is not None:
        run.comments["text"] = comment.id
    answer = dig(run.last_answer(), "results", "comment") or {}
    echoed = dig(answer, "unique_temp_id")
    run.facts["unique_temp_id_echoed"] = (
        "absent" if echoed is None else _yes(echoed == run.marker)
    )
    run.facts["comment_extras_echoed"] = _extras_kept(dig(answer, "extras"), extras)
    payload = first(answer, "payload")
    run.facts["text_comment_payload"] = json_type(payload[1]) if payload else "absent"
    return f"comment {comment.id}"


def _extras_kept(found: Any, sent: Mapping[str, Any]) -> str:
    if found is None:
        return "absent"
    if isinstance(found, str):
        return "as a JSON string"
    kept = isinstance(found, Mapping) and all(
        found.get(k) == v for k, v in sent.items()
    )
    return _yes(kept)


def _payload_step(kind: str, build: Callable[[Run], object]) -> Step:
    """A step posting one comment with the payload *build* makes."""

    async def post(run: Run) -> str:
        comment = await run.client.post_comment(
            run.room("group"), run.user("alice"), payload=build(run)
        )
        if comment.id is not None:
            run.comments[kind] = comment.id
        return f"comment {comment.id}"

    return Step(f"post_comment:{kind}", post)


_LINK = payloads.Button.link("Docs", "https://example.com/docs")


def _buttons(run: Run) -> object:
    return payloads.Buttons(
        f"{run.prefix} pick one",
        (
            payloads.Button.postback(
                "Yes", "https://example.com/yes", method="post", payload={"a": "yes"}
            ),
            _LINK,
        ),
    )


PAYLOADS: tuple[tuple[str, Callable[[Run], object]], ...] = (
    ("buttons", _buttons),
    (
        "card",
        lambda run: payloads.Card(
            title=f"{run.prefix} card",
            text="text",
            description="description",
            image_url="https://example.com/card.png",
            url="https://example.com/card",
            buttons=(_LINK,),
        ),
    ),
    (
        "carousel",
        lambda run: payloads.Carousel(
            (
                payloads.CarouselCard(f"{run.prefix} one", "first", buttons=(_LINK,)),
                payloads.CarouselCard(
                    f"{run.prefix} two", "second", default_action=_LINK
                ),
            )
        ),
    ),
    (
        "account_linking",
        lambda run: payloads.AccountLinking(
            f"{run.prefix} log in",
            "https://example.com/login",
            redirect_url="https://example.com/done",
            params={"aioqiscus_contract": run.prefix},
        ),
    ),
    (
        "custom",
        lambda run: payloads.Custom("aioqiscus_contract", {"prefix": run.prefix}),
    ),
    (
        "location",
        lambda run: payloads.Location(
            f"{run.prefix} place", "Jl. Medan Merdeka", -6.1754, 106.8272
        ),
    ),
    (
        "contact_person",
        lambda run: payloads.ContactPerson(f"{run.prefix} contact", "+620000"),
    ),
    (
        "reply",
        lambda run: payloads.Reply(f"{run.prefix} reply", run.comment("text")),
    ),
    (
        "file_attachment",
        lambda _: payloads.FileAttachment(
            "https://example.com/contract.pdf", caption="contract", file_name="c.pdf"
        ),
    ),
)


async def _custom_event(run: Run) -> None:
    await run.client.post_system_event(
        run.room("group"),
        payloads.SystemEventType.CUSTOM,
        message=f"{run.prefix} custom event",
        payload={"aioqiscus_contract": run.prefix},
    )


async def _member_event(run: Run) -> None:
    await run.client.post_system_event(
        run.room("group"),
        payloads.SystemEventType.ADD_MEMBER,
        subject=run.user("alice"),
        objects=[run.user("carol")],
    )


async def _history(run: Run) -> str:
    limit = 3
    history = [
        c async for c in run.client.iter_comments(run.room("group"), page_size=limit)
    ]
    pages = [i.response for i in run.exchanges() if i.text is None]
    first = _comments_of(pages[0]) if pages else []
    run.facts["load_comments_order"] = _order(
        [c.get("id") for c in first if isinstance(c, Mapping)]
    )
    record_paging(run, "load_comments", len(history), "comments")
    stored = [
        c
        for page in pages
        for c in _comments_of(page)
        if isinstance(c, Mapping) and c.get("id") == run.comments.get("text")
    ]
    if stored:
        run.facts["unique_temp_id_stored"] = _stored_marker(stored[0], run.marker)
        run.facts["comment_extras_stored"] = _extras_kept(
            stored[0].get("extras"), {"aioqiscus_contract": run.prefix}
        )
    return f"{len(history)} comments in {len(pages)} pages"


def _order(ids: list[Any]) -> str:
    """How a page of comment ids is sorted."""
    numbers = [int(i) for i in ids if isinstance(i, int | str) and str(i).isdigit()]
    if len(numbers) < 2:  # noqa: PLR2004
        return "unknown (fewer than 2 comment ids)"
    if numbers == sorted(numbers, reverse=True):
        return "newest first"
    if numbers == sorted(numbers):
        return "oldest first"
    return "mixed"


def _stored_marker(comment: Mapping[str, Any], marker: str) -> str:
    for key in ("unique_temp_id", "unique_id"):
        if key in comment:
            return f"{_yes(comment[key] == marker)} (as {key})"
    return "absent"


async def _find_comment(run: Run) -> str:
    found = await run.client.find_comment(run.room("group"), run.marker)
    run.facts["find_comment_finds_marker"] = found is not None
    return "found" if found is not None else "not found"


async def _unread(run: Run) -> str:
    counts = await run.client.get_unread_counts(
        run.user("bob"), [run.room("group"), run.room("single")]
    )
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


async def _search(run: Run) -> str:
    found = await run.client.search_messages(
        f"{run.prefix} hello", user_id=run.user("alice")
    )
    return f"{len(found)} found"


async def _user_rooms_shown(run: Run) -> str:
    rooms = [
        r
        async for r in run.client.iter_user_rooms(
            run.user("alice"), show_participants=True
        )
    ]
    return f"{len(rooms)} rooms after the messages"


# ---------------------------------------------------------------- backups


async def _list_exports(run: Run) -> str:
    exports = await run.client.list_exports()
    return f"{len(exports)} exports"


# ---------------------------------------------------------------- v2.1 only
#
# The endpoints of v2.1/users.md and v2.1/more-endpoints.md that v2 lacks:
# the client refuses them in v2 before sending. Each reads a bounded amount.


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=1), now + timedelta(minutes=5)


async def _comments_range(run: Run) -> str:
    found = await run.client.get_comments_range(
        run.room("group"), run.comment("text"), run.comment("file_attachment")
    )
    return f"{len(found)} comments"


async def _reply_time(run: Run) -> str:
    start, end = _window()
    found = await run.client.get_average_reply_time(
        run.user("alice"), since=start, until=end
    )
    return f"average {found.average.total_seconds():g} s"


async def _webhook_logs(run: Run) -> str:
    limit = 5
    count = await _count(run.client.iter_webhook_logs(page_size=limit), limit)
    return f"{count} read"


async def _unread_users(run: Run) -> str:
    start, end = _window()
    limit = 5
    listing = run.client.iter_unread_users(since=start, until=end, page_size=limit)
    return f"{await _count(listing, limit)} read"


async def _user_unread(run: Run) -> str:
    start, end = _window()
    users = [run.user("alice"), run.user("bob")]
    counts = await run.client.get_user_unread_counts(users, since=start, until=end)
    return ", ".join(f"{v}" for v in counts.values())


async def _deactivate(run: Run) -> str:
    return await run.client.deactivate_users([run.user("carol")])


async def _reactivate(run: Run) -> str:
    return await run.client.reactivate_users([run.user("carol")])


#: Every such endpoint is a v2.1 one (v2.1/users.md, v2.1/more-endpoints.md).
_V21 = frozenset({"v2.1"})

V21_ONLY: tuple[Step, ...] = (
    Step("get_comments_range", _comments_range, dialects=_V21),
    Step("get_average_reply_time", _reply_time, dialects=_V21),
    Step("iter_webhook_logs", _webhook_logs, app_data=True, dialects=_V21),
    Step("iter_unread_users", _unread_users, app_data=True, dialects=_V21),
    Step("get_user_unread_counts", _user_unread, dialects=_V21),
    Step("deactivate_users", _deactivate, dialects=_V21),
    Step("reactivate_users", _reactivate, dialects=_V21),
)


# ---------------------------------------------------------------- the table
#
# A step calls the client method its operation is named by unless it says
# otherwise.

#: The first step of every dialect: is it served at all?
PROBE = Step("probe", _probe, ("get_user",))

STEPS: tuple[Step, ...] = (
    Step("login_or_register", _login),
    Step("get_user", _get_user),
    Step("get_user_token", _get_user_token),
    Step("reset_user_token", _reset_user_token),
    Step("iter_users", _iter_users, app_data=True),
    Step("create_room", _create_room),
    Step("get_or_create_room_with_target", _target),
    Step("get_or_create_channel", _channel),
    Step("iter_user_rooms", _user_rooms),
    Step("get_rooms_info", _rooms_info),
    Step("update_room", _update_room),
    Step("add_participants", _add_participants),
    Step("iter_participants", _participants),
    Step("post_comment:text", _post_text, ("post_text",)),
    *(_payload_step(kind, build) for kind, build in PAYLOADS),
    Step("post_system_event:custom", _custom_event),
    Step("post_system_event:add_member", _member_event),
    Step("iter_comments", _history),
    Step("find_comment", _find_comment),
    Step("get_unread_counts", _unread),
    Step("search_messages", _search),
    Step("iter_user_rooms", _user_rooms_shown),
    Step("list_exports", _list_exports, app_data=True),
    *V21_ONLY,
    # Clean-up last: take out the participant the tour added.
    Step("remove_participants", _remove_participants),
)
