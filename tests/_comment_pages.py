"""Comments as servers send them, and as they should not: for property tests.

Templates from the sample files, the values each field is likely to hold
(right and wrong), and a strategy drawing comments from both, shared by the
tests that compare two readers of a page (``test_typed_pages.py``,
``test_dict_pages.py``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .conftest import sample
from .test_fuzz import JSON

DIALECTS = ("v2", "v2.1")

#: Values a field is likely to hold, right and wrong.
FIELD_VALUES: dict[str, list[Any]] = {
    "id": ([1, 0, -5, 2**70, "12", "x", 1.0, True, None]),
    "comment_before_id": ([3, "4", None, False, 2.5]),
    "message": (["hi", "", None, 5, ["x"]]),
    "type": (
        [
            "text",
            "buttons",
            "card",
            "carousel",
            "custom",
            "location",
            "reply",
            "file_attachment",
            "system_event",
            "contact_person",
            "account_linking",
            "",
            None,
            3,
            "odd",
        ]
    ),
    "timestamp": (
        [
            "2024-05-01T10:00:00Z",
            "2024-05-01T10:00:00+07:00",
            "2024-05-01 10:00:00",
            "2024-05-01T10Z",
            "2024-05-01Z",
            "2024-13-01T00:00:00Z",
            "0001-01-01T10:00:00+05:00",
            "Z",
            "0001-01-01T00:00:00Z",
            "",
            None,
            "soon",
            7,
        ]
    ),
    "extras": (
        [
            {},
            None,
            "",
            "{}",
            '{"a": 1}',
            "[1]",
            {"a": 1.0},
            [1],
            4,
            {"aioqiscus_unique_temp_id": "m1", "k": True},
            {"aioqiscus_unique_temp_id": 5},
        ]
    ),
    "unique_temp_id": (["t1", "", None, 9]),
    "unique_id": (["u1", "", None, 9]),
    "disable_link_preview": ([True, False, None, 1, "no"]),
    "room_id": (["99", "", 0, 77, None, True, 1.5]),
    "room_name": (["Room", "", None, 3]),
    "chat_type": (["group", "single", "channel", "", None, "odd", 1]),
    "email": (["a@x.com", "b@x.com", "", None, 12, True]),
    "username": (["Alice", "", None, 3]),
    "user_id": ([1, 2, "3", None, 1.0, "a@x.com", ""]),
    "user_avatar_url": (["https://x/a.png", "", None, 3]),
    "user_avatar": (
        [None, {}, {"avatar": {"url": "https://x/b.png"}}, {"avatar": 3}, "s", []]
    ),
    "payload": (
        [
            None,
            {},
            [],
            "p",
            {"text": "t", "buttons": []},
            {"cards": []},
            {"cards": [{"title": "c", "buttons": [{"label": "b", "type": "link"}]}]},
            {"latitude": 1.5, "longitude": 2, "name": "n", "address": "a"},
            {"type": "add_member", "subject_email": "a@x.com"},
            {"url": "https://x/f.pdf", "size": "12"},
        ]
    ),
}

AUTHOR_VALUES: dict[str, list[Any]] = {
    "user_id": (["a@x.com", "b@x.com", "", None, 5, True]),
    "username": (["Alice", "", None, 3]),
    "avatar_url": (["https://x/a.png", "", None, 3]),
    "active": ([True, False, None, 1, "yes"]),
    "extras": ([{}, None, "", '{"b": 2}', "nope", {"a": 1}, {"a": 1.0}]),
    "email": (["a@x.com", None]),
}


def templates(dialect: str) -> list[dict[str, Any]]:
    if dialect == "v2":
        found = sample("v2/load_comments")["results"]["comments"]
        payloads = [
            ("buttons", "buttons"),
            ("card", "card"),
            ("custom", "custom"),
            ("location", "location"),
            ("contact_person", "contact_person"),
            ("account_linking", "account_linking"),
            ("system_event", "system_add_member"),
            ("system_event", "system_custom"),
        ]
        base = found[0]
        found += [
            {**base, "type": kind, "payload": sample(f"v2/payloads/{name}")}
            for kind, name in payloads
        ]
        return found
    found = sample("v21/load_comments")["results"]["comments"]
    for kind in ("buttons", "card", "carousel", "custom", "file_attachment", "text"):
        found.append(sample(f"v21/post_comment_{kind}")["results"]["comment"])
    found.append(sample("v21/post_system_event_message")["results"]["comment"])
    return found


TEMPLATES = {dialect: templates(dialect) for dialect in DIALECTS}


@st.composite
def comments(draw: st.DrawFn, dialect: str) -> Any:
    """A comment from a template, some fields changed, removed or added."""
    if draw(st.integers(0, 30)) == 0:
        return draw(JSON)
    comment = dict(draw(st.sampled_from(TEMPLATES[dialect])))
    for key in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=2)):
        action = draw(st.integers(0, 4))
        if action == 0:
            comment.pop(key, None)
        elif action == 1:
            comment[key] = draw(JSON)
        else:
            comment[key] = draw(st.sampled_from(FIELD_VALUES[key]))
    if dialect == "v2.1" and draw(st.booleans()):
        user = comment.get("user")
        user = dict(user) if isinstance(user, dict) else {}
        for key in draw(st.lists(st.sampled_from(sorted(AUTHOR_VALUES)), max_size=3)):
            if draw(st.integers(0, 3)) == 0:
                user.pop(key, None)
            else:
                user[key] = draw(st.sampled_from(AUTHOR_VALUES[key]))
        comment["user"] = draw(st.sampled_from([user, user, None, "u", []]))
    if draw(st.integers(0, 10)) == 0:
        comment["unknown"] = draw(JSON)
    return comment
