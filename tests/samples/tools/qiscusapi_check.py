"""Point the independent ``qiscusapi`` client at the fake and call all 19 methods.

Usage: ``python tests/samples/tools/qiscusapi_check.py`` (run by hand, with
``qiscusapi==0.0.8`` and ``aioqiscus[testing]`` installed). The fake is served
by uvicorn on 127.0.0.1; ``qiscusapi`` reads its server from ``Api.base_url``
(``https://APP.qiscus.com/api/v2/rest/`` by default), which is set to the
fake's v2 prefix. Nothing else is contacted.

For each method it prints the status the fake answered and whether
``qiscusapi`` read the answer without an exception (it indexes keys some
servers send and the documents do not, such as ``unix_nano_timestamp``).
Exit status: 0 when the fake accepted every call (2xx), 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from qiscusapi import Api

from aioqiscus.testing import FakeQiscus, serve

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
BUTTONS = {
    "text": "Pick one",
    "buttons": [
        {
            "label": "Yes",
            "type": "postback",
            "payload": {"url": "http://127.0.0.1/yes", "method": "post", "payload": {}},
        },
        {"label": "Docs", "type": "link", "payload": {"url": "http://127.0.0.1/d"}},
    ],
}
CARD = {
    "title": "Blouse",
    "text": "Deal",
    "description": "Two for one",
    "image": "http://127.0.0.1/b.jpg",
    "url": "http://127.0.0.1/b",
    "buttons": BUTTONS["buttons"],
}
LINKING = {
    "url": "http://127.0.0.1/login",
    "redirect_url": "http://127.0.0.1/back",
    "text": "Log in",
    "params": {"user_id": 1, "topic_id": 1},
}
POSTBACK = {"url": "http://127.0.0.1/yes", "method": "post", "payload": {"n": 1}}


def calls(room: str) -> list[tuple[str, Callable[[Api], Any]]]:
    """The 19 methods, in an order where each finds what it needs."""
    return [
        ("login_or_register", lambda a: a.login_or_register(ALICE, "Alice", "pw")),
        ("check_user_profile", lambda a: a.check_user_profile(ALICE)),
        ("reset_user_token", lambda a: a.reset_user_token(ALICE)),
        ("create_room", lambda a: a.create_room("Team", ALICE, [BOB])),
        ("get_user_room_lists", lambda a: a.get_user_room_lists(ALICE)),
        ("update_room", lambda a: a.update_room(ALICE, room, room_name="Team 2")),
        (
            "get_or_create_room_with_target",
            lambda a: a.get_or_create_room_with_target(ALICE, BOB),
        ),
        ("get_rooms_info", lambda a: a.get_rooms_info(ALICE, [room], "true")),
        ("add_room_participants", lambda a: a.add_room_participants(room, [CAROL])),
        (
            "remove_room_participants",
            lambda a: a.remove_room_participants(room, [CAROL]),
        ),
        ("post_comment_text", lambda a: a.post_comment_text(ALICE, room, "hello")),
        (
            "post_comment_buttons",
            lambda a: a.post_comment_buttons(ALICE, room, json.dumps(BUTTONS)),
        ),
        (
            "post_comment_card",
            lambda a: a.post_comment_card(ALICE, room, json.dumps(CARD)),
        ),
        (
            "post_comment_custom",
            lambda a: a.post_comment_custom(
                ALICE, room, json.dumps({"type": "promo", "content": {"d": 1}})
            ),
        ),
        (
            "post_comment_account_linking",
            lambda a: a.post_comment_account_linking(ALICE, room, json.dumps(LINKING)),
        ),
        (
            "post_comment_postback_button",
            lambda a: a.post_comment_postback_button(BOB, room, json.dumps(POSTBACK)),
        ),
        ("load_comments", lambda a: a.load_comments(room)),
        ("search_messages", lambda a: a.search_messages(ALICE, "hello")),
        (
            "post_system_event_message",
            lambda a: a.post_system_event_message("join_room", room, BOB),
        ),
    ]


def main() -> int:
    """Run every method; print one line each and a summary."""
    fake = FakeQiscus(dialects={"v2"})
    for user in (ALICE, BOB, CAROL):
        fake.add_user(user)
    room = str(fake.store.create_room("Team", "group", ALICE, [BOB]).id)
    accepted = parsed = 0
    with serve(fake) as url:
        api = Api(fake.app_id, fake.secret_key)
        api.base_url = f"{url}/api/v2/rest/"
        table = calls(room)
        for name, call in table:
            before = len(fake.journal)
            try:
                call(api)
                note = "read"
                parsed += 1
            except Exception as exc:  # noqa: BLE001 - a report, not a test
                note = f"not read: {type(exc).__name__} {exc}"
            entry = fake.journal[before] if len(fake.journal) > before else None
            status = entry.status if entry is not None else 0
            accepted += 200 <= status < 300
            endpoint = entry.endpoint if entry is not None else "-"
            sys.stdout.write(f"{name:<31} {endpoint:<31} {status}  {note}\n")
    sys.stdout.write(
        f"{len(table)} methods: {accepted} accepted by the fake, "
        f"{parsed} read by qiscusapi without an exception\n"
    )
    return 0 if accepted == len(table) else 1


if __name__ == "__main__":
    sys.exit(main())
